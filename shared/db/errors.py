"""Translate DynamoDB failures into domain errors: a lost race is a 409, throttling a retryable 503."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pynamodb.exceptions import PynamoDBException, TransactWriteError

from shared.errors import Conflict, Unavailable

CONDITION_FAILED = "ConditionalCheckFailedException"
THROTTLED = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


def code_of(error: PynamoDBException) -> str | None:
    return error.cause_response_code


@contextmanager
def storage_errors(conflict_detail: str = "The item changed or already exists; reload and retry.") -> Iterator[None]:
    try:
        yield
    except PynamoDBException as error:
        code = code_of(error)
        if code == CONDITION_FAILED:
            raise Conflict(conflict_detail) from None
        if code in THROTTLED:
            raise Unavailable("Storage is busy; retry shortly.", retry_after=1) from None
        raise


def cancelled_by_condition(error: TransactWriteError, index: int) -> bool:
    """Whether the transaction's item at ``index`` failed its condition."""
    reasons = error.cancellation_reasons or []
    return index < len(reasons) and reasons[index] is not None and reasons[index].code == "ConditionalCheckFailed"


def retryable_transaction(error: TransactWriteError) -> bool:
    reasons = [r.code for r in (error.cancellation_reasons or []) if r is not None]
    return error.cause_response_code in THROTTLED or any(
        code in ("TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded") for code in reasons
    )
