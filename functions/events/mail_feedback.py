"""SES's events about campaign emails (bounces, complaints, deliveries), published by the configuration set
to an SNS topic that invokes this function (``shared.marketing.feedback``). Locally ``deskos bounce`` calls it
with the same event. Idempotent: Lambda retries a failed invocation, and SNS may deliver twice."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from functions.observability import tracer
from shared.clock import now
from shared.marketing import feedback
from shared.settings import require_settings

logger = Logger(service="deskos-mail-feedback")
metrics = Metrics(namespace="DeskOS", service="deskos")
METRICS = {"bounced": "CampaignBounces", "complained": "CampaignComplaints", "delivered": "CampaignDeliveries"}


def sns_event(notification: dict[str, Any]) -> dict[str, Any]:
    """The event SNS hands the function for one SES notification."""
    return {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(notification)}}]}


@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    require_settings()
    recorded: list[str | None] = []
    for record in event.get("Records", []):
        notification = json.loads(record.get("Sns", {}).get("Message") or "{}")
        outcome = feedback.handle(notification, now())
        recorded.append(outcome)
        if outcome in METRICS:
            metrics.add_metric(METRICS[outcome], MetricUnit.Count, 1)
    logger.info("SES events", extra={"recorded": recorded})
    return {"recorded": recorded}
