"""EventBridge schedule (every minute): the SLA sweep marks due warnings and breaches, emails the
assignee (or the managers) and emits ``SlaWarning`` / ``SlaBreached``."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from functions.observability import tracer
from shared.clock import now
from shared.settings import require_settings
from shared.support import sla_sweep

logger = Logger(service="deskos-sla-sweep")
metrics = Metrics(namespace="DeskOS", service="deskos")


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    require_settings()
    result = sla_sweep.sweep(now())
    for notice in result.notices:
        try:
            sla_sweep.notify(notice)
        except (BotoCoreError, ClientError):  # the breach is recorded; one lost email must not stop the rest
            logger.exception("could not email about ticket %s", notice.ticket.id)
    if result.warnings:
        metrics.add_metric("SlaWarning", MetricUnit.Count, result.warnings)
    if result.breaches:
        metrics.add_metric("SlaBreached", MetricUnit.Count, result.breaches)
    summary = {"buckets": result.buckets, "due": result.due, "warnings": result.warnings}
    summary["breaches"] = result.breaches
    logger.info("SLA sweep done", extra=summary)
    return summary
