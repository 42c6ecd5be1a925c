"""EventBridge schedule (hourly): owners of knowledge items whose verification fell due are emailed, once each."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from functions.observability import tracer
from shared.clock import now
from shared.knowledge import due
from shared.settings import require_settings

logger = Logger(service="deskos-knowledge-review-due")
metrics = Metrics(namespace="DeskOS", service="deskos")


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    require_settings()
    result = due.sweep(now())
    if result.notified:
        metrics.add_metric("KnowledgeReviewsDue", MetricUnit.Count, result.notified)
    summary = {"buckets": result.buckets, "due": result.due, "notified": result.notified}
    logger.info("knowledge review-due job done", extra=summary)
    return summary
