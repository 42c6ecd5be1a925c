"""EventBridge schedule (every minute): the calendar's timed work, from the DUE index — polls reminded or
closed at their deadline, and due meeting-workflow executions run, each exactly once.

Emits ``MeetingWorkflowExecutions`` (done), ``MeetingWorkflowRetries``, ``MeetingWorkflowFailed`` (alarmed),
``MeetingPollsClosed`` and ``MeetingPollReminders``. The moment swept is the event's ``time`` (when EventBridge
fired the schedule; ``deskos schedule run --at`` plays a later one), else now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from functions.observability import tracer
from shared.calendar import actions, due, executions, polls
from shared.calendar.polls import Poll
from shared.clock import now
from shared.settings import require_settings

logger = Logger(service="deskos-calendar-sweep")
metrics = Metrics(namespace="DeskOS", service="deskos")


def moment_of(event: dict[str, Any]) -> datetime:
    fired = event.get("time")
    try:
        return datetime.fromisoformat(fired.replace("Z", "+00:00")) if isinstance(fired, str) else now()
    except ValueError:
        return now()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    require_settings()
    at = max(moment_of(event), now())
    swept = polls.PollSweep()
    for key in due.due(Poll, "POLLDUE", at):
        polls.handle_due(key, at, swept)
    ran = executions.run_due(at, actions.run)
    for error in ran.errors:
        logger.error("meeting workflow execution failed", extra={"execution": error})
    summary = {
        "polls_reminded": swept.reminded,
        "polls_closed": swept.closed,
        "executions_done": ran.done,
        "executions_retried": ran.retried,
        "executions_failed": ran.failed,
        "executions_skipped": ran.skipped,
    }
    for name, value in (
        ("MeetingPollReminders", swept.reminded),
        ("MeetingPollsClosed", swept.closed),
        ("MeetingWorkflowExecutions", ran.done),
        ("MeetingWorkflowRetries", ran.retried),
        ("MeetingWorkflowFailed", ran.failed),
    ):
        if value:
            metrics.add_metric(name, MetricUnit.Count, value)
    logger.info("calendar sweep done", extra=summary)
    return summary
