"""DynamoDB stream consumer: plans the executions of meeting workflows from appointment changes — a new
appointment gets its executions, a reschedule moves the pending ones, a cancel skips them and plans the
``cancelled`` ones (shared/calendar/executions.py). Idempotent: executions have ids of their own making."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.events import batches
from functions.observability import tracer
from shared.calendar import executions
from shared.calendar.appointments import Appointment
from shared.clock import now

logger = Logger(service="deskos-calendar")


def record_handler(record: DynamoDBRecord, metrics: EphemeralMetrics) -> None:
    change = record.raw_event.get("dynamodb", {})
    new, old = change.get("NewImage"), change.get("OldImage")
    if new is None or (new.get("entity") or {}).get("S") != "appointment":
        return
    appointment, before = Appointment.from_raw_data(new), Appointment.from_raw_data(old) if old else None
    at = now()
    if before is None:
        if appointment.status != "scheduled":
            return
        planned = executions.plan(appointment, ("booked", "before_start", "after_end"), at)
    elif appointment.status == "cancelled" and before.status != "cancelled":
        planned = executions.cancelled(appointment, at)
    elif appointment.status == "scheduled" and (appointment.start, appointment.end) != (before.start, before.end):
        moved = executions.moved(appointment, at)
        logger.info("executions moved", extra={"tenant_id": appointment.tenant_id, "moved": moved})
        return
    else:
        return
    if planned:
        metrics.add_metric("MeetingWorkflowExecutionsPlanned", MetricUnit.Count, planned)


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    metrics = EphemeralMetrics(namespace="DeskOS", service="deskos")
    record = partial(record_handler, metrics=metrics)
    return batches.deliver(event, context, BatchProcessor(event_type=EventType.DynamoDBStreams), record, metrics)
