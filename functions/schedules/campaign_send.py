"""EventBridge schedule (every minute): campaigns due to send are sent, in chunks, within the SES send rate
and the function's time; what is left goes on at the next run (``shared.marketing.sending``)."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from functions.observability import tracer
from shared.clock import now
from shared.marketing import sending
from shared.settings import require_settings

logger = Logger(service="deskos-campaigns")
metrics = Metrics(namespace="DeskOS", service="deskos")
BUDGET_SECONDS = 50  # of a run: the next one starts a minute later, and the function's timeout is 60 s more
RESERVE_MS = 15_000  # left to the function for its last chunk and the final tally


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    require_settings()
    remaining = getattr(context, "get_remaining_time_in_millis", lambda: 120_000)()
    deadline = time.monotonic() + min(BUDGET_SECONDS, max(remaining - RESERVE_MS, 0) / 1000)
    summary: dict[str, Any] = {"campaigns": 0, "sent": 0, "skipped": 0, "failed": 0, "finished": 0}
    for tenant_id, campaign_id in sending.due(now()):
        if time.monotonic() >= deadline:
            break
        run = sending.send(tenant_id, campaign_id, deadline)
        summary["campaigns"] += 1
        for name in ("sent", "skipped", "failed"):
            summary[name] += getattr(run, name)
        summary["finished"] += run.finished
        logger.info("campaign run", extra={"tenant_id": tenant_id, "campaign": campaign_id, **vars(run)})
    if summary["sent"]:
        metrics.add_metric("CampaignEmailsSent", MetricUnit.Count, summary["sent"])
    if summary["failed"]:
        metrics.add_metric("CampaignEmailsFailed", MetricUnit.Count, summary["failed"])
    return summary
