"""DynamoDB stream consumer: every change of tenant data becomes an audit entry.

Partial batch failures are reported, so one bad record is retried (and finally sent to the DLQ)
without replaying the whole batch.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.events import batches
from functions.observability import tracer
from shared import audit

logger = Logger(service="deskos-audit")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    change = record.dynamodb
    entry = audit.entry_for_change(
        record.event_name.name if record.event_name else "",
        change.old_image or None,
        change.new_image or None,
        sequence=change.sequence_number,
        at=datetime.fromtimestamp(change.approximate_creation_date_time, UTC),
    )
    if entry is not None:
        audit.record(entry)


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return batches.deliver(event, context, processor, record_handler)  # settings required there, first
