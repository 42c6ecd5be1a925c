"""DynamoDB stream consumer: when a reviewer's turn begins on a knowledge item (a submission, or the previous
reviewer's approval), that reviewer is emailed, once per turn (``shared.knowledge.mailing``)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.events import batches
from functions.observability import tracer
from shared.knowledge import mailing
from shared.knowledge.model import KnowledgeItem

logger = Logger(service="deskos-knowledge")
metrics = Metrics(namespace="DeskOS", service="deskos-knowledge")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    change = record.raw_event.get("dynamodb", {})
    new, old = change.get("NewImage"), change.get("OldImage")
    if not new or (new.get("entity") or {}).get("S") != "knowledge_item":
        return
    item = KnowledgeItem.from_raw_data(new)
    reviewer = mailing.reviewer_owed(KnowledgeItem.from_raw_data(old) if old else None, item)
    if reviewer is not None and mailing.tell_reviewer(item, reviewer):
        logger.info("reviewer emailed", tenant_id=item.tenant_id, item_id=item.id, reviewer_id=reviewer)
        metrics.add_metric("KnowledgeReviewersEmailed", MetricUnit.Count, 1)


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return batches.deliver(event, context, processor, record_handler, metrics)
