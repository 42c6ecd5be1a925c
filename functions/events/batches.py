"""What every batch consumer does with its event: Powertools' partial batch response (only the failed
records come back), each record traced on its own with its tenant, then the metrics its records added."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.batch import BasePartialBatchProcessor, process_partial_response

from functions.observability import tracer
from shared.settings import require_settings


def deliver(
    event: dict[str, Any],
    context: Any,
    processor: BasePartialBatchProcessor,
    record_handler: Callable[..., Any],
    metrics: Any = None,
) -> dict[str, Any]:
    require_settings()  # before any record: a misconfigured consumer must not fail records into the DLQ

    def traced(record: Any) -> Any:
        with tracer.provider.in_subsegment("## record") as subsegment:
            tenant_id = record_tenant(record.raw_event)
            if tenant_id is not None:
                subsegment.put_annotation("tenant_id", tenant_id)
            return record_handler(record)

    try:
        return process_partial_response(event=event, record_handler=traced, processor=processor, context=context)
    finally:
        if metrics is not None and metrics.metric_set:
            metrics.flush_metrics()


def record_tenant(raw: dict[str, Any]) -> str | None:
    """The tenant a record is about: its item's partition key (``T#<tenant>#…``, a stream record) or its
    object's key (``t/<tenant>/…``, an S3 notification on a queue); None for system items."""
    if "dynamodb" in raw:
        parts = raw["dynamodb"].get("Keys", {}).get("PK", {}).get("S", "").split("#")
        return parts[1] if len(parts) > 2 and parts[0] == "T" else None
    try:
        changes = json.loads(raw.get("body") or "{}").get("Records") or []
        key = unquote_plus(changes[0]["s3"]["object"]["key"])
    except (ValueError, AttributeError, LookupError, TypeError):
        return None
    parts = key.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "t" else None
