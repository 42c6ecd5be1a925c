"""The counter kit's rules (shared/db/counters.py): one update per item and transaction, the day window, and
running a transaction again only when another on the same counter cancelled it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pynamodb.exceptions import CancellationReason, TransactWriteError, VerboseClientError

from shared.db import counters
from shared.db.counters import Tally
from shared.errors import Unprocessable
from shared.field.status_counts import StatusCounts, moved
from shared.support.ticket_days import TicketDay

MONDAY = datetime(2026, 1, 12, 23, 59, tzinfo=UTC)
TUESDAY = datetime(2026, 1, 13, 0, 1, tzinfo=UTC)


class Transaction:
    """What a TransactWrite is asked to do."""

    def __init__(self) -> None:
        self.updates: list[tuple[tuple[str, str], list]] = []

    def update(self, model, actions, condition=None) -> None:
        self.updates.append(((model.PK, model.SK), actions))


def cancelled(*reasons: str) -> TransactWriteError:
    """A TransactWriteItems cancelled with one reason per item (``"None"``: that item was fine), as PynamoDB
    raises it."""
    found = [None if r == "None" else CancellationReason(code=r) for r in reasons]
    response = {"Error": {"Code": "TransactionCanceledException", "Message": "cancelled"}}
    cause = VerboseClientError(response, "TransactWriteItems", cancellation_reasons=found)
    return TransactWriteError("cancelled", cause)


def test_counts_for_one_day_go_in_one_update_and_each_utc_day_gets_its_own():
    tally = Tally(TicketDay)
    tally.add_day("t1", "resolved", MONDAY)
    tally.add_day("t1", "breached", MONDAY)
    tally.add_day("t1", "breached", MONDAY)
    tally.add_day("t1", "opened", TUESDAY)
    tx = Transaction()

    tally.apply(tx)

    assert [key for key, _ in tx.updates] == [("T#t1#TICKETDAYS", "2026-01-12"), ("T#t1#TICKETDAYS", "2026-01-13")]
    monday_actions = [str(a) for a in tx.updates[0][1]]
    assert len(monday_actions) == 4  # resolved +1, breached +2, the item's entity and tenant
    assert any("breached" in a and "2" in a for a in monday_actions)


def test_a_status_move_takes_one_out_and_puts_one_in_and_a_move_in_place_writes_nothing():
    tx = Transaction()
    moved("t1", "assigned", "scheduled").apply(tx)
    moved("t1", None, "new").apply(tx)
    moved("t1", "scheduled", "scheduled").apply(tx)

    assert [key for key, _ in tx.updates] == [StatusCounts.key("t1")] * 2
    assert len(tx.updates[0][1]) == 4 and len(tx.updates[1][1]) == 3
    assert not moved("t1", "new", "new")


def test_a_counter_the_family_does_not_have_is_a_bug():
    with pytest.raises(ValueError, match="opened"):
        Tally(StatusCounts).add("t1", StatusCounts.key("t1"), "opened")


@pytest.mark.parametrize(
    ("date_from", "date_to", "expected"),
    [
        (None, None, (date(2026, 1, 3), date(2026, 1, 16))),
        (date(2026, 1, 1), None, (date(2026, 1, 1), date(2026, 1, 16))),
        (None, date(2026, 1, 10), (date(2025, 12, 28), date(2026, 1, 10))),
        (date(2025, 10, 17), date(2026, 1, 16), (date(2025, 10, 17), date(2026, 1, 16))),  # 92 days
    ],
)
def test_the_window_defaults_to_the_last_14_days_and_holds_at_most_92(date_from, date_to, expected):
    assert counters.window(date_from, date_to, date(2026, 1, 16)) == expected


@pytest.mark.parametrize(
    ("date_from", "date_to"), [(date(2025, 10, 16), date(2026, 1, 16)), (date(2026, 1, 17), date(2026, 1, 16))]
)
def test_a_window_longer_than_92_days_or_reversed_is_a_422_on_date_from(date_from, date_to):
    with pytest.raises(Unprocessable) as refused:
        counters.window(date_from, date_to, date(2026, 1, 16))
    assert "date_from" in str(refused.value.problem())


def test_only_a_transaction_another_one_cancelled_runs_again_and_only_a_few_times(monkeypatch):
    monkeypatch.setattr(counters.time, "sleep", lambda seconds: None)
    outcomes = [cancelled("None", "TransactionConflict"), cancelled("None", "TransactionConflict"), "done"]

    def write():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert counters.retry_contended(write) == "done"

    def refused():
        raise cancelled("ConditionalCheckFailed", "TransactionConflict")

    calls = []
    with pytest.raises(TransactWriteError):
        counters.retry_contended(lambda: calls.append(1) or refused())
    assert len(calls) == 1  # a failed condition is the caller's answer, not a race to retry

    def always_contended():
        calls.append(1)
        raise cancelled("TransactionConflict")

    calls.clear()
    with pytest.raises(TransactWriteError):
        counters.retry_contended(always_contended)
    assert len(calls) == counters.CONTENDED_ATTEMPTS
