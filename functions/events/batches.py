"""What every batch consumer does with its event: Powertools' partial batch response (only the failed
records come back), then the metrics its records added."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.batch import BasePartialBatchProcessor, process_partial_response

from shared.settings import require_settings


def deliver(
    event: dict[str, Any],
    context: Any,
    processor: BasePartialBatchProcessor,
    record_handler: Callable[..., Any],
    metrics: Any,
) -> dict[str, Any]:
    require_settings()  # before any record: a misconfigured consumer must not fail records into the DLQ
    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
