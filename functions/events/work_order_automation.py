"""DynamoDB stream consumer: tickets that match a work-order rule get one automatic work order.

Partial batch failures are reported (a failing record is retried, then sent to the DLQ with the
record itself, so `deskos dlq replay` or a redrive can deliver it again). The tenant's active rules
are read once per batch (one Query per tenant), the technicians only when a rule assigns.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from botocore.exceptions import BotoCoreError, ClientError

from functions.events import batches
from functions.observability import tracer
from shared.clock import now
from shared.field import automation

logger = Logger(service="deskos-work-orders")


def record_handler(record: DynamoDBRecord, batch: automation.Batch, metrics: EphemeralMetrics) -> None:
    change = record.raw_event["dynamodb"]
    ticket = automation.triggering_ticket(
        record.event_name.name if record.event_name else "", change.get("OldImage"), change.get("NewImage")
    )
    if ticket is None:
        return
    moment = now()
    outcome = automation.process(ticket, batch, sequence=change["SequenceNumber"], at=moment)
    if outcome is None:
        return
    logger.info(
        "automatic work order",
        extra={
            "tenant_id": ticket.tenant_id,
            "ticket": ticket.id,
            "work_order": outcome.order.number,
            "technician": outcome.order.technician_id,
            "reason": outcome.choice.reason,
        },
    )
    metrics.add_metric("WorkOrdersCreated", MetricUnit.Count, 1)
    if outcome.order.technician_id is None:
        metrics.add_metric("WorkOrdersUnassigned", MetricUnit.Count, 1)
    else:
        latency = (moment - ticket.created_at).total_seconds() * 1000
        metrics.add_metric("WorkOrderAssignmentLatency", MetricUnit.Milliseconds, max(latency, 0.0))
    try:
        automation.notify(outcome)
    except (BotoCoreError, ClientError):  # the work order stands; a lost email must not create a second one
        logger.exception("could not email about work order %s", outcome.order.number)


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    metrics = EphemeralMetrics(namespace="DeskOS", service="deskos")  # one set per invocation, thread-safe
    record = partial(record_handler, batch=automation.Batch(), metrics=metrics)
    return batches.deliver(event, context, BatchProcessor(event_type=EventType.DynamoDBStreams), record, metrics)
