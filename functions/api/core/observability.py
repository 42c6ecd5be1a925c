"""The Powertools Logger and Metrics every API function shares (one of each per container), and the decorator
stack that wraps each function's entry point with them and with the Tracer (``functions.observability``)."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths

from functions.observability import tracer

logger = Logger(service="deskos")
metrics = Metrics(namespace="DeskOS", service="deskos")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def observed(handler: Handler) -> Handler:
    """An API function's entry point as the anchors write it: the Lambda context and the request id (as the
    correlation id) on every log line, none of the previous request's keys (its tenant), the request's metrics
    flushed at its end, and a trace of it whose response stays out of X-Ray (it holds tenant data)."""
    traced = tracer.capture_lambda_handler(handler, capture_response=False)
    return logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)(
        metrics.log_metrics(traced)
    )


def annotate_tenant(tenant_id: str) -> None:
    """Once the caller's tenant is known: on its log lines and as a trace annotation (searchable in X-Ray)."""
    logger.append_keys(tenant_id=tenant_id)
    tracer.put_annotation("tenant_id", tenant_id)
