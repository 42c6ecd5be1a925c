"""DynamoDB stream consumer: what a deleted tag or segment leaves behind goes in the background, at a cost
in proportion to it: a tag's applications (``entity_tags.remove_all``), a segment's members (every
generation its state named). Idempotent: a retried record finds less, or nothing, to delete."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.events import batches
from functions.observability import tracer
from shared.marketing import entity_tags, segments

logger = Logger(service="deskos-marketing-cleanup")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    if record.raw_event.get("eventName") != "REMOVE":
        return
    old = record.raw_event.get("dynamodb", {}).get("OldImage") or {}
    entity, tenant_id = (old.get("entity") or {}).get("S"), (old.get("tenant_id") or {}).get("S")
    if not tenant_id:
        return
    if entity == "tag":
        removed = entity_tags.remove_all(tenant_id, old["id"]["S"])
        logger.info("tag deleted: applications removed", extra={"tenant_id": tenant_id, "removed": removed})
    elif entity == "segment_state":
        generations = {
            int(old[name]["N"]) for name in ("generation", "pending_generation", "cleanup_generation") if name in old
        }
        removed = segments.delete_members(tenant_id, old["segment_id"]["S"], generations)
        logger.info("segment deleted: members removed", extra={"tenant_id": tenant_id, "removed": removed})


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return batches.deliver(event, context, processor, record_handler)
