"""Faults injected where every AWS client meets the wire: botocore's ``BaseClient._make_api_call``.

PynamoDB's connection, the boto3 clients of idempotency and of the consumers, and any client made per
tenant all call it, so a fault planned here reaches the code whichever client it uses. A planned
failure stands for the answer botocore gives once its own retries are spent (they run inside the
call); a planned action runs just before the real call goes out (a concurrent write between a
request's read and its write); a planned answer replaces the call (DynamoDB's partial successes)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

Params = dict[str, Any]


def throttled() -> dict[str, Any]:
    """A call refused because the table's throughput is exceeded."""
    return {
        "Error": {"Code": "ProvisionedThroughputExceededException", "Message": "Rate of requests exceeds capacity"},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }


def transaction_cancelled(*reasons: str) -> dict[str, Any]:
    """A TransactWriteItems cancelled with one reason per item (``"None"`` for an item that was fine)."""
    return {
        "Error": {"Code": "TransactionCanceledException", "Message": f"Transaction cancelled [{', '.join(reasons)}]"},
        "CancellationReasons": [{"Code": r} for r in reasons],
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }


@dataclass
class Plan:
    service: str
    operation: str
    error: dict[str, Any] | Callable[[Params], dict[str, Any]] | Exception | None
    before: Callable[[Params], None] | None
    answer: Callable[[Params], dict[str, Any]] | None
    times: int | None  # None: every matching call
    when: Callable[[Params], bool]

    def applies(self, service: str, operation: str, params: Params) -> bool:
        return (
            (self.times is None or self.times > 0)
            and (service, operation)
            == (
                self.service,
                self.operation,
            )
            and self.when(params)
        )


class Faults:
    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.plans: list[Plan] = []
        self.calls: Counter[str] = Counter()
        self._inside = threading.local()  # a planned action's own calls are not faulted
        real = BaseClient._make_api_call
        faults = self

        def make_api_call(client: BaseClient, operation: str, params: Params) -> Any:
            if not getattr(faults._inside, "active", False):
                answer = faults._apply(client.meta.service_model.service_name, operation, params)
                if answer is not None:
                    return answer
            return real(client, operation, params)

        monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)

    def fail(
        self,
        operation: str,
        error: dict[str, Any] | Callable[[Params], dict[str, Any]] | Exception,
        *,
        times: int | None = None,
        when: Callable[[Params], bool] = lambda params: True,
        service: str = "dynamodb",
    ) -> None:
        """Make ``operation`` fail with ``error`` (a response, one made from the call's parameters, or an
        exception botocore raises when no answer comes)."""
        self.plans.append(Plan(service, operation, error, None, None, times, when))

    def before(
        self,
        operation: str,
        action: Callable[[Params], None],
        *,
        times: int | None = 1,
        when: Callable[[Params], bool] = lambda params: True,
        service: str = "dynamodb",
    ) -> None:
        """Run ``action`` just before ``operation`` goes out (its own calls pass untouched)."""
        self.plans.append(Plan(service, operation, None, action, None, times, when))

    def answer(
        self,
        operation: str,
        answer: Callable[[Params], dict[str, Any]],
        *,
        times: int | None = None,
        when: Callable[[Params], bool] = lambda params: True,
        service: str = "dynamodb",
    ) -> None:
        """Answer ``operation`` with ``answer(params)`` instead of calling the service (a partial success)."""
        self.plans.append(Plan(service, operation, None, None, answer, times, when))

    def clear(self) -> None:
        self.plans.clear()

    def _apply(self, service: str, operation: str, params: Params) -> dict[str, Any] | None:
        if service == "dynamodb":
            self.calls[operation] += 1
        for plan in self.plans:
            if not plan.applies(service, operation, params):
                continue
            if plan.times is not None:
                plan.times -= 1
            if plan.before is not None:
                self._inside.active = True
                try:
                    plan.before(params)
                finally:
                    self._inside.active = False
            if isinstance(plan.error, Exception):
                raise plan.error
            if plan.error is not None:
                error = plan.error(params) if callable(plan.error) else plan.error
                raise ClientError(error, operation)
            if plan.answer is not None:
                return plan.answer(params)
        return None


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Faults:
    return Faults(monkeypatch)


def nothing_processed(params: Params) -> dict[str, Any]:
    """BatchGetItem's answer under throttling: no item read, every key handed back as unprocessed."""
    return {"Responses": {t: [] for t in params["RequestItems"]}, "UnprocessedKeys": params["RequestItems"]}
