"""DynamoDB stream consumer: tickets and their comments email whom they concern (``shared.support.notifications``:
the acknowledgement, replies both ways, assignment, resolution), from the tenant's templates.

Idempotent: each notification's id comes from the record's item and version, written before the email is sent
and marked sent after, so a redelivered record sends nothing twice. Failures are reported per record."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.events import batches
from functions.observability import tracer
from shared.support import notifications

logger = Logger(service="deskos-mail")
metrics = Metrics(namespace="DeskOS", service="deskos-mail")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    change = record.raw_event.get("dynamodb", {})
    name = record.raw_event.get("eventName", "")
    event = notifications.event_of(name, change.get("NewImage"), change.get("OldImage"))
    if event is None:
        return
    sent = notifications.deliver(event)
    if sent is not None:
        logger.info("notification sent", tenant_id=event.tenant_id, notification_id=sent.id, kind=sent.kind)
        metrics.add_metric("NotificationsSent", MetricUnit.Count, 1)


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return batches.deliver(event, context, processor, record_handler, metrics)
