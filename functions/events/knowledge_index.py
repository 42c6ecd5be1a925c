"""DynamoDB stream consumer: keeps the knowledge search index (term postings) in step with the items and their
live copies. Idempotent (postings are overwritten whole, counts move once per change: ``shared.knowledge.index``);
failures are reported per record (partial batch response), and a record's retry redoes it whole."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.events import batches
from functions.observability import tracer
from shared.knowledge import index

logger = Logger(service="deskos-knowledge")
metrics = Metrics(namespace="DeskOS", service="deskos-knowledge")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
INDEXED = frozenset({"knowledge_item", "knowledge_published"})


def record_handler(record: DynamoDBRecord) -> None:
    change = record.raw_event.get("dynamodb", {})
    new, old = change.get("NewImage"), change.get("OldImage")
    if ((new or old or {}).get("entity") or {}).get("S") not in INDEXED:
        return
    written = index.apply(index.document_of(old), index.document_of(new))
    if written:
        metrics.add_metric("KnowledgePostingsWritten", MetricUnit.Count, written)


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return batches.deliver(event, context, processor, record_handler, metrics)
