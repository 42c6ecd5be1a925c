"""EventBridge schedule (every minute): dynamic segments whose refresh is due are refreshed in chunks: each
an hour after its last refresh (the safety net behind the stream consumer), or at once when asked for; a
refresh that does not finish in one run resumes at the next (``shared.marketing.refresh``)."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools import Logger

from functions.observability import tracer
from shared.clock import now
from shared.marketing import refresh
from shared.settings import require_settings

logger = Logger(service="deskos-segments")
BUDGET_SECONDS = 50


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    require_settings()
    deadline = time.monotonic() + BUDGET_SECONDS
    summary = {"due": 0, "finished": 0}
    for tenant_id, segment_id in refresh.due_now(now()):
        if time.monotonic() >= deadline:
            break
        summary["due"] += 1
        summary["finished"] += refresh.run(tenant_id, segment_id, deadline)
    logger.info("segment refresh", extra=summary)
    return summary
