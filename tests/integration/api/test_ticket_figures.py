"""Tickets opened, resolved and SLA breaches per day (GET /support/tickets/summary): counted in the ticket
writes' own transactions, once per write however often it is replayed, exactly under concurrent writers."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pynamodb.exceptions import TransactWriteError

from shared.caller import TenantContext
from shared.support import sla_sweep, tickets
from shared.support.tickets import NewTicket
from tests.integration.api.harness import Tenant, call
from tests.integration.faults import Faults, transaction_cancelled

SUMMARY = "/support/tickets/summary"
TICKETS = "/support/tickets"
BERLIN = ZoneInfo("Europe/Berlin")
FRIDAY_1650 = datetime(2026, 1, 9, 16, 50, tzinfo=BERLIN)
MONDAY = date(2026, 1, 12)
OFFICE_HOURS = {
    "time_zone": "Europe/Berlin",
    "windows": [{"day": d, "start": "09:00", "end": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")],
}
POLICY = {
    "name": "Standard",
    "targets": {"normal": {"first_response": 30, "resolution": 240}},
    "calendar": OFFICE_HOURS,
}


def act(tenant: Tenant, ticket: dict, name: str, version: int | None = None):
    headers = {"If-Match": f'"{version}"'} if version is not None else {}
    return call(tenant.agent, "POST", f"{TICKETS}/{{ticket_id}}/{name}", {"ticket_id": ticket["id"]}, headers=headers)


def summary(tenant: Tenant, **query: str) -> dict:
    reply = call(tenant.agent, "GET", SUMMARY, query=query or None)
    assert reply.status == 200, reply.text
    return reply.json


def today(tenant: Tenant) -> dict:
    return summary(tenant)["days"][-1]


def on(tenant: Tenant, day: date) -> dict:
    [found] = summary(tenant, date_from=day.isoformat(), date_to=day.isoformat())["days"]
    return found


# ---- opened and resolved -----------------------------------------------------------------------


def test_each_opening_and_each_resolution_counts_once_on_its_day(tenant: Tenant):
    # Given four tickets
    a, b, c, d = (tenant.ticket(subject=f"Ticket {n}") for n in range(4))

    # When one is resolved, reopened and resolved again, then closed; one is closed while open; one is
    # resolved; one stays open
    for name in ("resolve", "reopen", "resolve", "close"):
        assert act(tenant, a, name).status == 200
    assert act(tenant, b, "close").status == 200
    assert act(tenant, c, "resolve").status == 200

    # Then today has four opened and four resolutions: a twice, b by its closing, c; closing a resolved
    # ticket resolves nothing more; the totals are the days'
    now = datetime.now(UTC).date().isoformat()
    assert today(tenant) == {"day": now, "opened": 4, "resolved": 4, "breached": 0}
    whole = summary(tenant)
    assert (whole["opened"], whole["resolved"], whole["breached"]) == (4, 4, 0)
    assert len(whole["days"]) == 14 and whole["date_to"] == now
    assert d["status"] == "new"


def test_a_replayed_write_counts_nothing_twice(tenant: Tenant):
    # Given a ticket created with an Idempotency-Key, and the same request again
    key = {"Idempotency-Key": "figures-1"}
    first = call(tenant.agent, "POST", TICKETS, body={"subject": "Once"}, headers=key)
    again = call(tenant.agent, "POST", TICKETS, body={"subject": "Once"}, headers=key)
    assert (first.status, again.status, again.json["id"]) == (201, 201, first.json["id"])

    # When it is resolved with the version read, and the same resolve is sent again
    resolved = act(tenant, first.json, "resolve", version=1)
    replayed = act(tenant, first.json, "resolve", version=1)

    # Then the replay is refused and today counts one opening, one resolution
    assert (resolved.status, replayed.status) == (200, 409)
    assert (today(tenant)["opened"], today(tenant)["resolved"]) == (1, 1)


def test_a_ticket_created_again_with_its_id_as_a_redelivered_email_does_counts_once(tenant: Tenant):
    ctx = TenantContext(tenant_id=tenant.id, user_id=tenant.agent.user_id, username="agent", roles=frozenset({"staff"}))
    body = NewTicket(subject="From email")
    tickets.create(ctx, body, ticket_id="01EMAILTICKET", requester={"kind": "email", "id": "a@example.test"})

    with pytest.raises(TransactWriteError):
        tickets.create(ctx, body, ticket_id="01EMAILTICKET", requester={"kind": "email", "id": "a@example.test"})

    assert today(tenant)["opened"] == 1


def test_concurrent_creates_and_resolutions_count_exactly(tenant: Tenant):
    def open_and_resolve(n: int) -> None:
        ticket = tenant.ticket(subject=f"Rush {n}")
        assert act(tenant, ticket, "resolve").status == 200

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(open_and_resolve, range(16)))

    assert (today(tenant)["opened"], today(tenant)["resolved"]) == (16, 16)


def test_a_write_cancelled_by_another_on_the_same_counter_runs_again_and_counts_once(tenant: Tenant, faults: Faults):
    # Given a ticket, and DynamoDB cancelling its next transaction for a conflict on the day's counter
    ticket = tenant.ticket()
    conflict = transaction_cancelled("None", "TransactionConflict")
    faults.fail("TransactWriteItems", conflict, times=1)
    sent = faults.calls["TransactWriteItems"]

    # When it is resolved
    reply = act(tenant, ticket, "resolve")

    # Then the transaction ran again: resolved, counted once
    assert reply.status == 200 and faults.calls["TransactWriteItems"] - sent == 2
    assert today(tenant)["resolved"] == 1


# ---- SLA breaches ------------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch):
    """The product's clock, set by the test (Friday 16:50 in Berlin to start with)."""
    moment = {"now": FRIDAY_1650.astimezone(UTC)}
    for module in ("shared.db.entities", "shared.support.tickets", "shared.support.sla_policies"):
        monkeypatch.setattr(f"{module}.now", lambda: moment["now"])
    return moment


def test_a_breach_counts_once_on_the_day_of_the_missed_deadline_from_the_sweep_or_a_resolution(cloud, clock):
    # Given a fresh table (the sweep's cursor is system-wide), a policy and an unanswered ticket from Friday
    tenant = Tenant()
    assert call(tenant.manager, "POST", "/support/sla-policies", body=POLICY).status == 201
    ticket = tenant.ticket(subject="Server down")

    # When the sweep runs after first response fell due (Monday 09:20), twice
    sweep_at = datetime(2026, 1, 12, 9, 21, tzinfo=BERLIN).astimezone(UTC)
    clock["now"] = sweep_at
    runs = [sla_sweep.sweep(sweep_at).breaches, sla_sweep.sweep(sweep_at + timedelta(minutes=1)).breaches]

    # Then Monday has one breach; and resolving it after resolution fell due (Monday 12:50) adds the second
    assert runs == [1, 0] and on(tenant, MONDAY)["breached"] == 1
    clock["now"] = datetime(2026, 1, 12, 13, 0, tzinfo=BERLIN).astimezone(UTC)
    assert act(tenant, ticket, "resolve").status == 200
    assert on(tenant, MONDAY) == {"day": MONDAY.isoformat(), "opened": 0, "resolved": 1, "breached": 2}
    assert on(tenant, FRIDAY_1650.date())["opened"] == 1


# ---- who reads what, and the range -------------------------------------------------------------


def test_another_tenant_counts_its_own_and_portal_users_read_nothing(tenant: Tenant, new_tenant):
    tenant.ticket()

    assert today(new_tenant())["opened"] == 0
    assert call(tenant.portal_user(tenant.client()["id"]), "GET", SUMMARY).status == 403
    assert today(tenant)["opened"] == 1


def test_the_range_is_days_in_order_and_at_most_92(tenant: Tenant):
    now = datetime.now(UTC).date()
    week = summary(tenant, date_from=(now - timedelta(days=6)).isoformat(), date_to=now.isoformat())
    longest = summary(tenant, date_from=(now - timedelta(days=91)).isoformat(), date_to=now.isoformat())
    too_long = call(tenant.agent, "GET", SUMMARY, query={"date_from": (now - timedelta(days=92)).isoformat()})
    reversed_ = call(tenant.agent, "GET", SUMMARY, query={"date_from": now.isoformat(), "date_to": "2020-01-01"})
    not_a_day = call(tenant.agent, "GET", SUMMARY, query={"date_from": "yesterday"})

    assert [d["day"] for d in week["days"]] == [(now - timedelta(days=6 - i)).isoformat() for i in range(7)]
    assert len(longest["days"]) == 92
    assert "date_from" in too_long.field_errors()
    assert "date_from" in reversed_.field_errors()
    assert not_a_day.status == 422
