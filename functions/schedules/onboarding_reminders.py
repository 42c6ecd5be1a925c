"""EventBridge schedule (every 15 minutes): onboarding reminders at 09:00 in each tenant's time zone, at most one per
item per day; emits ``RemindersSent`` (items reminded)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from functions.observability import tracer
from shared.clock import now
from shared.onboarding import reminders
from shared.settings import require_settings

logger = Logger(service="deskos-onboarding-reminders")
metrics = Metrics(namespace="DeskOS", service="deskos")


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    require_settings()
    result = reminders.run(now())
    emails = 0
    for notice in result.notices:
        try:
            reminders.notify(notice)
            emails += 1
        except (BotoCoreError, ClientError):  # the reminder is recorded (at most once); one lost email stops no other
            logger.exception("could not send an onboarding reminder", extra={"tenant_id": notice.tenant_id})
    if result.reminded:
        metrics.add_metric("RemindersSent", MetricUnit.Count, result.reminded)
    summary = {"buckets": result.buckets, "due": result.due, "reminded": result.reminded, "emails": emails}
    summary["waiting"] = result.waiting
    logger.info("onboarding reminders done", extra=summary)
    return summary
