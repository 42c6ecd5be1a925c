"""DynamoDB stream consumer: a contact, client or entity tag that changes moves the contacts it concerns in
or out of their tenant's dynamic segments (``shared.marketing.membership``), within the stream's delay.

Each tenant's dynamic segments are read once per batch. Re-evaluating is idempotent, so a failed record is
simply retried (partial batch response), then sent to the DLQ."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.events import batches
from functions.observability import tracer
from shared.clock import now
from shared.marketing import membership

logger = Logger(service="deskos-segments")
WATCHED = frozenset({"contact", "client", "entity_tag"})


def _text(image: dict[str, Any], name: str) -> str | None:
    return (image.get(name) or {}).get("S")


def concerned(event_name: str, change: dict[str, Any]) -> tuple[str, set[str], set[str]] | None:
    """(tenant, contacts to re-evaluate, contacts removed) a stream record concerns, or None."""
    image = change.get("NewImage") or change.get("OldImage") or {}
    entity, tenant_id = _text(image, "entity"), _text(image, "tenant_id")
    if entity not in WATCHED or not tenant_id:
        return None
    if entity == "contact":
        contact_id = _text(image, "id") or ""
        return (tenant_id, set(), {contact_id}) if event_name == "REMOVE" else (tenant_id, {contact_id}, set())
    if entity == "client":
        if event_name != "MODIFY":
            return None  # a new client has no contacts yet; a removed one's contacts change themselves
        return tenant_id, set(membership.contacts_of_client(tenant_id, _text(image, "id") or "")), set()
    kind, entity_id = _text(image, "entity_kind"), _text(image, "entity_id") or ""
    if kind == "contact":
        return tenant_id, {entity_id}, set()
    if kind == "client":
        return tenant_id, set(membership.contacts_of_client(tenant_id, entity_id)), set()
    return None


def record_handler(record: DynamoDBRecord, segments: membership.Segments) -> None:
    found = concerned(record.raw_event.get("eventName", ""), record.raw_event.get("dynamodb", {}))
    if found is None:
        return
    tenant_id, changed, removed = found
    moved = membership.reevaluate(tenant_id, changed, now(), removed=removed, segments=segments)
    if moved:
        logger.info("segment membership changed", extra={"tenant_id": tenant_id, "moved": moved})


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    record = partial(record_handler, segments=membership.Segments())
    return batches.deliver(event, context, BatchProcessor(event_type=EventType.DynamoDBStreams), record)
