"""DynamoDB stream consumer of onboarding: what follows a change, so that no request waits on it.

- a process record that is not yet ``published`` (a large template's staged items): its items get their list and
  reminder keys (``processes.publish``);
- a process that moves into ``in_progress``: the client's portal users get the welcome email (once);
- an attachment of an ``onboarding_document`` that the scan judged: the document becomes ``uploaded`` (clean), or
  keeps its state with the reason and its process owner is emailed (infected, rejected).

Each is idempotent (a redelivered record finds its work done); failures are reported per record.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.events import batches
from functions.observability import tracer
from shared.attachments.pipeline import UNJUDGED
from shared.attachments.service import Attachment
from shared.onboarding import documents, processes, welcome
from shared.onboarding.model import Process

logger = Logger(service="deskos-onboarding")


def _value(image: dict[str, Any] | None, name: str) -> Any:
    attribute = (image or {}).get(name) or {}
    return attribute.get("S", attribute.get("BOOL"))


def record_handler(record: DynamoDBRecord, metrics: EphemeralMetrics) -> None:
    change = record.raw_event.get("dynamodb", {})
    new, old = change.get("NewImage"), change.get("OldImage")
    entity = _value(new, "entity")
    if entity == "onboarding_process":
        process = Process.from_raw_data(new)
        if _value(new, "published") is False:
            published = processes.publish(process.tenant_id, process.id)
            logger.info("onboarding items published", extra={"process_id": process.id, "items": published})
        started = _value(new, "status") == "in_progress" and _value(old, "status") != "in_progress"
        if started and welcome.welcome(Process.find(process.tenant_id, process.id) or process):
            metrics.add_metric("OnboardingWelcomesSent", MetricUnit.Count, 1)
    elif entity == "attachment" and _value(new, "owner_kind") == documents.OWNER_KIND:
        if _value(new, "status") in UNJUDGED or _value(old, "status") not in UNJUDGED:
            return  # not a verdict: the scan moves an attachment out of pending_scan once
        done = documents.scanned(Attachment.from_raw_data(new))
        if done:
            logger.info("onboarding document file judged", extra={"outcome": done, "document": _value(new, "owner_id")})


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    metrics = EphemeralMetrics(namespace="DeskOS", service="deskos")
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    return batches.deliver(event, context, processor, lambda r: record_handler(r, metrics), metrics)
