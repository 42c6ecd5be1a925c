"""DynamoDB stream consumer: every change of tenant data becomes an audit entry.

Partial batch failures are reported, so one bad record is retried (and finally sent to the DLQ)
without replaying the whole batch.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from shared import audit
from shared.settings import require_settings

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


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    require_settings()  # before any record: a misconfigured consumer must not fail records into the DLQ
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
