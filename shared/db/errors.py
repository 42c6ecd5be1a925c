"""Translate DynamoDB failures into domain errors: a lost race is a 409, throttling a retryable 503."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError
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
# why a transaction's item may be cancelled although the request was right: retrying it may succeed
THROTTLED_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})
CONTENDED_REASON = "TransactionConflict"


def code_of(error: PynamoDBException | ClientError) -> str | None:
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code")
    # not ``cause_response_code``: a timeout's ``response`` is None, and that property then raises
    return ((getattr(error.cause, "response", None) or {}).get("Error") or {}).get("Code")


def _unreached(error: PynamoDBException | ClientError) -> bool:
    """DynamoDB did not answer (a timeout, a dropped connection): the outcome is unknown, a retry is right."""
    return isinstance(getattr(error, "cause", None), ConnectionError | HTTPClientError)


def _reasons(error: PynamoDBException | ClientError) -> set[str]:
    if isinstance(error, ClientError):
        return {r.get("Code", "None") for r in error.response.get("CancellationReasons", [])} - {"None"}
    return {r.code for r in getattr(error, "cancellation_reasons", None) or [] if r is not None}


def throttled(error: PynamoDBException | ClientError) -> bool:
    """Refused for throughput, as a whole or for an item of a transaction no condition cancelled."""
    reasons = _reasons(error)
    return code_of(error) in THROTTLED or (
        bool(reasons & THROTTLED_REASONS) and "ConditionalCheckFailed" not in reasons
    )


def contended(error: PynamoDBException | ClientError) -> bool:
    """A transaction cancelled because another one was writing the same items at the same moment."""
    reasons = _reasons(error)
    return CONTENDED_REASON in reasons and "ConditionalCheckFailed" not in reasons


def unavailable() -> Unavailable:
    return Unavailable("Storage is busy; retry shortly.", retry_after=1)


@contextmanager
def storage_errors(conflict_detail: str = "The item changed or already exists; reload and retry.") -> Iterator[None]:
    """A failed condition becomes a 409; throttling, contention and no answer a 503 with Retry-After. A transaction
    cancelled by a condition is left to the caller, which knows what each of its items means."""
    try:
        yield
    except (PynamoDBException, ClientError) as error:
        if code_of(error) == CONDITION_FAILED:
            raise Conflict(conflict_detail) from None
        if throttled(error) or contended(error) or _unreached(error):
            raise unavailable() from None
        raise


def cancelled_by_condition(error: TransactWriteError, index: int) -> bool:
    """Whether the transaction's item at ``index`` failed its condition."""
    reasons = error.cancellation_reasons or []
    return index < len(reasons) and reasons[index] is not None and reasons[index].code == "ConditionalCheckFailed"
