"""Ticket numbers as docs/modules/support.md demands: unique forever, gapless, periods that reset, formats
that change without breaking old numbers. Driven through shared/ against the local moto server."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from shared.caller import TenantContext
from shared.db import entities
from shared.support import numbering, sequences, tickets
from shared.support.numbering import SequenceFormat
from shared.support.tickets import NewTicket, Ticket

CREATORS = 16
TICKETS = 800  # 50 each: every creator still races the other 15 from first to last (was 2000: 2.5x the time)


def staff(tenant: str) -> TenantContext:
    return TenantContext.from_claims({"custom:tenant_id": tenant, "cognito:groups": ["managers"], "sub": "u-1"})


def numbers_of(tenant: str) -> list[str]:
    from shared.db.table import tkey

    return [t.number for t in Ticket.gsi1.query(tkey(tenant, "TICKETS"))]


def at(monkeypatch: pytest.MonkeyPatch, moment: datetime) -> None:
    monkeypatch.setattr(entities, "now", lambda: moment)
    monkeypatch.setattr(tickets, "now", lambda: moment)
    monkeypatch.setattr(sequences, "now", lambda: moment)


def test_sixteen_concurrent_creators_make_800_tickets_without_duplicates_or_gaps(separate_dynamodb):
    ctx, failures = staff("busy"), []

    def creator(count: int) -> None:
        for _ in range(count):
            try:
                tickets.create(ctx, NewTicket(subject="Printer on fire"))
            except Exception as error:  # any failure fails the test, with its cause
                failures.append(error)

    threads = [threading.Thread(target=creator, args=(TICKETS // CREATORS,)) for _ in range(CREATORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    values = sorted(int(number.rsplit("-", 1)[1]) for number in numbers_of("busy"))
    assert len(values) == TICKETS
    assert values == list(range(1, TICKETS + 1))  # no duplicate, no gap


def test_the_reservation_path_alone_is_gapless_too(cloud, monkeypatch):
    # Given a sequence in use, and every in-transaction allocation then losing its race
    ctx = staff("racy")
    made = [tickets.create(ctx, NewTicket(subject="first")).number]
    monkeypatch.setattr(numbering, "_write_in_transaction", lambda *_: False)
    # When more tickets are created
    made += [tickets.create(ctx, NewTicket(subject=f"#{i}")).number for i in range(4)]
    # Then they still count up one by one
    year = datetime.now(UTC).year
    assert made == [f"TK-{year}-{i:05d}" for i in range(1, 6)]


def test_numbers_restart_each_month_with_a_monthly_reset(cloud, monkeypatch):
    ctx = staff("monthly")
    sequences.configure(ctx, "ticket", SequenceFormat(include_month=True, reset="monthly", padding=3))
    at(monkeypatch, datetime(2026, 10, 31, 23, 59, tzinfo=UTC))
    october = [tickets.create(ctx, NewTicket(subject="a")).number for _ in range(2)]
    at(monkeypatch, datetime(2026, 11, 1, 0, 0, tzinfo=UTC))
    november = tickets.create(ctx, NewTicket(subject="b")).number
    assert october == ["TK-2026-10-001", "TK-2026-10-002"]
    assert november == "TK-2026-11-001"


def test_a_yearly_sequence_restarts_in_january(cloud, monkeypatch):
    ctx = staff("yearly")
    at(monkeypatch, datetime(2026, 12, 31, 12, tzinfo=UTC))
    tickets.create(ctx, NewTicket(subject="late"))
    at(monkeypatch, datetime(2027, 1, 1, 0, 1, tzinfo=UTC))
    assert tickets.create(ctx, NewTicket(subject="early")).number == "TK-2027-00001"


def test_a_new_format_applies_to_new_tickets_and_old_numbers_still_resolve(cloud):
    ctx = staff("reformat")
    old = tickets.create(ctx, NewTicket(subject="old"))
    sequences.configure(
        ctx, "ticket", SequenceFormat(prefix="HD", include_year=False, padding=3, separator="_", reset="never")
    )
    new = tickets.create(ctx, NewTicket(subject="new"))
    assert new.number == "HD_001"
    assert tickets.by_number(ctx, old.number).id == old.id
    assert tickets.by_number(ctx, new.number).id == new.id


def test_a_number_issued_under_an_earlier_format_is_never_issued_again(cloud, monkeypatch):
    # Given a never-resetting sequence that shows the year: TK-2025-00001, -00002, then TK-2026-00003
    ctx = staff("collide")
    sequences.configure(ctx, "ticket", SequenceFormat(reset="never"))
    at(monkeypatch, datetime(2025, 6, 1, tzinfo=UTC))
    tickets.create(ctx, NewTicket(subject="a"))
    tickets.create(ctx, NewTicket(subject="b"))
    at(monkeypatch, datetime(2026, 1, 5, tzinfo=UTC))
    tickets.create(ctx, NewTicket(subject="c"))
    # When the reset becomes yearly: 2026 counts afresh from 00001
    sequences.configure(ctx, "ticket", SequenceFormat(reset="yearly"))
    made = [tickets.create(ctx, NewTicket(subject=f"y{i}")).number for i in range(3)]
    # Then the count steps past TK-2026-00003, issued before under the old format
    assert made == ["TK-2026-00001", "TK-2026-00002", "TK-2026-00004"]
    assert len(set(numbers_of("collide"))) == 6


def test_a_format_change_counts_past_numbers_already_issued_in_its_preview(cloud, monkeypatch):
    # Given TK-<year>-00001..3 issued with a yearly reset
    ctx = staff("preview-past")
    for _ in range(3):
        tickets.create(ctx, NewTicket(subject="yearly"))
    # When the reset becomes "never" (its counter starts afresh) while the year stays visible
    sequence = sequences.configure(ctx, "ticket", SequenceFormat(reset="never"))
    # Then the preview and the next ticket skip the numbers already taken
    preview = sequences.describe(sequence, datetime.now(UTC)).next_value
    assert preview.endswith("-00004")
    assert tickets.create(ctx, NewTicket(subject="never")).number == preview


def test_the_preview_shows_the_next_number_without_consuming_it(cloud):
    ctx = staff("preview")
    tickets.create(ctx, NewTicket(subject="one"))
    described = sequences.describe(sequences.load(ctx, "ticket"), datetime.now(UTC))
    assert described.next_value.endswith("-00002")
    assert tickets.create(ctx, NewTicket(subject="two")).number == described.next_value
