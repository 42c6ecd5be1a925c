"""SLA policies and the SLA clock through the API handlers, with the clock moved by the test.

Business hours in these stories: Monday to Friday 09:00-17:00, Europe/Berlin (UTC+1 in January).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from functions.schedules import sla_sweep as sweep_job
from infra.local.lambda_context import LambdaContext
from tests.integration.api.harness import Tenant, call

POLICIES = "/support/sla-policies"
POLICY = "/support/sla-policies/{policy_id}"
TICKETS = "/support/tickets"
TICKET = "/support/tickets/{ticket_id}"
EVENTS = "/support/tickets/{ticket_id}/sla-events"
COMMENTS = "/support/tickets/{ticket_id}/comments"
BERLIN = ZoneInfo("Europe/Berlin")
FRIDAY_1650 = datetime(2026, 1, 9, 16, 50, tzinfo=BERLIN)
OFFICE_HOURS = {
    "time_zone": "Europe/Berlin",
    "windows": [{"day": d, "start": "09:00", "end": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")],
}


def policy_body(**overrides) -> dict:
    body = {
        "name": "Standard",
        "targets": {"normal": {"first_response": 30, "next_response": 60, "resolution": 240}},
        "calendar": OFFICE_HOURS,
    }
    return {**body, **overrides}


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start.astimezone(UTC)

    def move(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> datetime:
        self.now = moment.astimezone(UTC)
        return self.now


@pytest.fixture
def tenant(cloud) -> Tenant:
    """Each test moves its own clock, and the sweep's cursor is system-wide: each gets a fresh table."""
    return Tenant()


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The product's clock (``shared.clock.now`` as each module imported it), moved by the test."""
    clock = Clock(FRIDAY_1650)
    for module in (
        "shared.db.entities",
        "shared.support.tickets",
        "shared.support.comments",
        "shared.support.sla_policies",
        "functions.schedules.sla_sweep",
    ):
        monkeypatch.setattr(f"{module}.now", lambda: clock.now)
    return clock


def make_policy(tenant: Tenant, **overrides) -> dict:
    reply = call(tenant.manager, "POST", POLICIES, body=policy_body(**overrides))
    assert reply.status == 201, reply.text
    return reply.json


def sla_events(tenant: Tenant, ticket_id: str) -> list[tuple[str, str | None]]:
    reply = call(tenant.agent, "GET", EVENTS, {"ticket_id": ticket_id})
    assert reply.status == 200, reply.text
    return [(e["kind"], e["metric"]) for e in reply.json["items"]]


def ticket(tenant: Tenant, ticket_id: str) -> dict:
    reply = call(tenant.agent, "GET", TICKET, {"ticket_id": ticket_id})
    assert reply.status == 200, reply.text
    return reply.json


def due(ticket_json: dict, metric: str) -> datetime | None:
    raw = ticket_json["sla"]["metrics"][metric]["due_at"]
    return datetime.fromisoformat(raw).astimezone(BERLIN) if raw else None


def sweep() -> dict:
    return sweep_job.handler({"detail-type": "Scheduled Event"}, LambdaContext("SlaSweep"))


# ---- policies ----------------------------------------------------------------------------------


def test_a_manager_creates_lists_reads_replaces_and_deletes_a_policy(tenant: Tenant, clock: Clock):
    # Given a manager's new policy
    created = make_policy(tenant)
    params = {"policy_id": created["id"]}
    assert (created["version"], created["warning_percent"], created["active"]) == (1, 80, True)

    # When staff list and read it, and the manager replaces it with the version read
    listed = call(tenant.agent, "GET", POLICIES)
    read = call(tenant.agent, "GET", POLICY, params)
    replaced = call(tenant.manager, "PUT", POLICY, params, body={**policy_body(name="Gold"), "version": 1})

    # Then each sees the policy; the replacement is version 2; a stale version is refused; delete removes it
    assert [p["id"] for p in listed.json["items"]] == [created["id"]]
    assert read.header("ETag") == '"1"'
    assert (replaced.status, replaced.json["name"], replaced.json["version"]) == (200, "Gold", 2)
    stale = call(tenant.manager, "PUT", POLICY, params, body={**policy_body(), "version": 1})
    assert stale.problem(409)["current_version"] == 2
    assert call(tenant.manager, "DELETE", POLICY, params).status == 204
    assert call(tenant.agent, "GET", POLICY, params).problem(404)


def test_policies_are_tried_in_order_and_the_first_active_match_wins(tenant: Tenant, clock: Clock):
    # Given a VIP policy tried first for the "vip" tag, an inactive one before it, and a catch-all
    make_policy(tenant, name="Catch-all", order=30)
    vip = make_policy(tenant, name="VIP", order=20, conditions={"tags": ["vip", "gold"], "priorities": ["normal"]})
    make_policy(tenant, name="Off", order=10, active=False)

    # When a tagged and an untagged ticket are created
    tagged = tenant.ticket(tags=["vip"])
    plain = tenant.ticket()

    # Then the tagged one gets the VIP policy and the other the catch-all
    assert tagged["sla"]["policy_id"] == vip["id"]
    assert plain["sla"]["policy_id"] != vip["id"]


@pytest.mark.parametrize(
    ("calendar", "field"),
    [
        ({"time_zone": "Mars/Olympus", "always_open": True}, "calendar.time_zone"),
        ({"time_zone": "UTC"}, "calendar"),
        ({"windows": [{"day": "mon", "start": "17:00", "end": "09:00"}]}, "calendar.windows.0"),
    ],
)
def test_a_policy_with_a_calendar_that_cannot_work_is_refused(tenant: Tenant, calendar: dict, field: str):
    reply = call(tenant.manager, "POST", POLICIES, body=policy_body(calendar=calendar))
    assert field in reply.field_errors()


def test_staff_read_policies_but_only_managers_write_them_and_portal_users_see_none(tenant: Tenant):
    created = make_policy(tenant)
    portal = tenant.portal_user(tenant.client()["id"])
    assert call(tenant.agent, "POST", POLICIES, body=policy_body()).problem(403)
    assert call(tenant.agent, "PUT", POLICY, {"policy_id": created["id"]}, body=policy_body()).problem(403)
    assert call(tenant.agent, "DELETE", POLICY, {"policy_id": created["id"]}).problem(403)
    assert call(portal, "GET", POLICIES).problem(403)
    assert call(portal, "GET", POLICY, {"policy_id": created["id"]}).problem(403)


def test_another_tenants_policy_and_sla_history_are_not_found(new_tenant, clock: Clock):
    # Given a policy and a ticket of one tenant
    owner, other = new_tenant(), new_tenant()
    created = make_policy(owner)
    ticket_id = owner.ticket()["id"]
    params = {"policy_id": created["id"]}

    # Then another tenant's manager and staff find neither
    assert call(other.manager, "GET", POLICY, params).problem(404)
    assert call(other.manager, "PUT", POLICY, params, body={**policy_body(), "version": 1}).problem(404)
    assert call(other.manager, "DELETE", POLICY, params).problem(404)
    assert call(other.agent, "GET", EVENTS, {"ticket_id": ticket_id}).problem(404)
    assert call(other.manager, "GET", POLICIES).json["items"] == []


def test_sla_history_is_for_staff_only(tenant: Tenant, clock: Clock):
    client = tenant.client()
    portal = tenant.portal_user(client["id"])
    ticket_id = tenant.ticket(by=portal)["id"]
    assert call(portal, "GET", EVENTS, {"ticket_id": ticket_id}).problem(403)


# ---- the clock ---------------------------------------------------------------------------------


def test_a_ticket_created_friday_1650_is_due_for_first_response_monday_0920(tenant: Tenant, clock: Clock):
    # Given a 30-minute first-response target on Mon-Fri 09:00-17:00 Berlin
    make_policy(tenant)

    # When a ticket is created on Friday at 16:50 Berlin time
    created = tenant.ticket()

    # Then its first response is due on Monday at 09:20 Berlin time, and the clock was activated
    assert due(created, "first_response") == datetime(2026, 1, 12, 9, 20, tzinfo=BERLIN)
    assert sla_events(tenant, created["id"]) == [("activated", None)]


def test_a_public_staff_reply_fulfils_the_first_response(tenant: Tenant, clock: Clock):
    # Given a ticket under the policy
    make_policy(tenant)
    ticket_id = tenant.ticket()["id"]

    # When an internal note and then a public reply are written on Monday at 09:05
    clock.set(datetime(2026, 1, 12, 9, 5, tzinfo=BERLIN))
    call(tenant.agent, "POST", COMMENTS, {"ticket_id": ticket_id}, body={"body": "checking", "public": False})
    after_note = ticket(tenant, ticket_id)["sla"]["metrics"]["first_response"]["state"]
    reply = call(tenant.agent, "POST", COMMENTS, {"ticket_id": ticket_id}, body={"body": "On it."})

    # Then only the public reply fulfils the first response, on time
    assert reply.status == 201, reply.text
    first = ticket(tenant, ticket_id)["sla"]["metrics"]["first_response"]
    assert after_note == "running"
    assert (first["state"], first["breached"]) == ("fulfilled", False)
    assert ("fulfilled", "first_response") in sla_events(tenant, ticket_id)


def test_the_sweep_marks_an_unanswered_ticket_breached_once_and_emails_the_assignee(
    tenant: Tenant, clock: Clock, sent_mail
):
    # Given an assigned ticket under the policy, unanswered
    make_policy(tenant)
    ticket_id = tenant.ticket(subject="Server down")["id"]
    assign = call(
        tenant.agent, "POST", f"{TICKET}/assign", {"ticket_id": ticket_id}, body={"assignee_id": tenant.agent.user_id}
    )
    assert assign.status == 200, assign.text

    # When the sweep runs after the due time (Monday 09:21), and again later
    clock.set(datetime(2026, 1, 12, 9, 21, tzinfo=BERLIN))
    first_run = sweep()
    clock.move(minutes=1)
    second_run = sweep()

    # Then the first response is breached once (the warning at 80% went with it), the assignee got one email
    events = sla_events(tenant, ticket_id)
    assert events.count(("breached", "first_response")) == 1
    assert ("warning", "first_response") not in events
    assert (first_run["breaches"], second_run["breaches"]) == (1, 0)
    assert ticket(tenant, ticket_id)["sla"]["metrics"]["first_response"]["breached"] is True
    emails = sent_mail()
    assert [m["destinations"]["ToAddresses"] for m in emails] == [[tenant.agent.email]]
    assert "breached" in emails[0]["subject"] and "Server down" in emails[0]["subject"]


def test_an_unassigned_tickets_warning_goes_to_the_managers(tenant: Tenant, clock: Clock, sent_mail):
    # Given an unassigned ticket (first response due Monday 09:20; warning at 80% = 09:14)
    make_policy(tenant)
    ticket_id = tenant.ticket()["id"]

    # When the sweep runs at 09:15
    clock.set(datetime(2026, 1, 12, 9, 15, tzinfo=BERLIN))
    result = sweep()

    # Then a warning is recorded and the tenant's manager is told
    assert result["warnings"] == 1
    assert ("warning", "first_response") in sla_events(tenant, ticket_id)
    assert [m["destinations"]["ToAddresses"] for m in sent_mail()] == [[tenant.manager.email]]


def test_pending_pauses_resolution_and_reopening_resumes_it_without_the_paused_time(tenant: Tenant, clock: Clock):
    # Given a ticket created Monday 09:00 with a 240-minute resolution target (due 13:00)
    make_policy(tenant)
    clock.set(datetime(2026, 1, 12, 9, 0, tzinfo=BERLIN))
    created = tenant.ticket()
    assert due(created, "resolution") == datetime(2026, 1, 12, 13, 0, tzinfo=BERLIN)

    # When it is pending from 10:00 to 12:00 and then open again
    clock.set(datetime(2026, 1, 12, 10, 0, tzinfo=BERLIN))
    paused = call(tenant.agent, "PATCH", TICKET, {"ticket_id": created["id"]}, body={"status": "pending", "version": 1})
    clock.set(datetime(2026, 1, 12, 12, 0, tzinfo=BERLIN))
    resumed = call(tenant.agent, "PATCH", TICKET, {"ticket_id": created["id"]}, body={"status": "open", "version": 2})

    # Then the clock stood still for two hours: resolution is now due at 15:00
    assert paused.json["sla"]["metrics"]["resolution"]["state"] == "paused"
    assert due(paused.json, "resolution") is None
    assert due(resumed.json, "resolution") == datetime(2026, 1, 12, 15, 0, tzinfo=BERLIN)
    assert [e for e in sla_events(tenant, created["id"]) if e[1] == "resolution"] == [
        ("paused", "resolution"),
        ("resumed", "resolution"),
    ]


def test_resolving_fulfils_resolution_and_reopening_resumes_it(tenant: Tenant, clock: Clock):
    # Given a ticket created Monday 09:00, resolved at 10:00 and reopened at 11:00
    make_policy(tenant)
    clock.set(datetime(2026, 1, 12, 9, 0, tzinfo=BERLIN))
    ticket_id = tenant.ticket()["id"]
    clock.set(datetime(2026, 1, 12, 10, 0, tzinfo=BERLIN))
    resolved = call(tenant.agent, "POST", f"{TICKET}/resolve", {"ticket_id": ticket_id})
    clock.set(datetime(2026, 1, 12, 11, 0, tzinfo=BERLIN))
    reopened = call(tenant.agent, "POST", f"{TICKET}/reopen", {"ticket_id": ticket_id})

    # Then resolution was fulfilled, and on reopening it has 180 business minutes left (due 14:00)
    assert resolved.json["sla"]["metrics"]["resolution"]["state"] == "fulfilled"
    assert resolved.json["sla"]["next_check_at"] is None
    assert due(reopened.json, "resolution") == datetime(2026, 1, 12, 14, 0, tzinfo=BERLIN)


def test_a_priority_change_recomputes_the_due_times(tenant: Tenant, clock: Clock):
    # Given a policy with a 10-minute urgent first response, and a normal ticket made Monday 09:00
    make_policy(tenant, targets={"normal": {"first_response": 30}, "urgent": {"first_response": 10}})
    clock.set(datetime(2026, 1, 12, 9, 0, tzinfo=BERLIN))
    created = tenant.ticket()

    # When it becomes urgent at 09:05
    clock.set(datetime(2026, 1, 12, 9, 5, tzinfo=BERLIN))
    changed = call(
        tenant.agent, "PATCH", TICKET, {"ticket_id": created["id"]}, body={"priority": "urgent", "version": 1}
    )

    # Then its first response is due 10 business minutes after creation
    assert due(created, "first_response") == datetime(2026, 1, 12, 9, 30, tzinfo=BERLIN)
    assert due(changed.json, "first_response") == datetime(2026, 1, 12, 9, 10, tzinfo=BERLIN)


def test_a_requester_reply_starts_next_response_and_a_staff_reply_fulfils_it(tenant: Tenant, clock: Clock):
    # Given a portal user's ticket answered on Monday 09:00
    make_policy(tenant)
    portal = tenant.portal_user(tenant.client()["id"])
    ticket_id = tenant.ticket(by=portal)["id"]
    params = {"ticket_id": ticket_id}
    clock.set(datetime(2026, 1, 12, 9, 0, tzinfo=BERLIN))
    call(tenant.agent, "POST", COMMENTS, params, body={"body": "Have you tried turning it off and on?"})

    # When the requester answers at 09:30, again at 09:40, and staff reply at 10:00
    clock.set(datetime(2026, 1, 12, 9, 30, tzinfo=BERLIN))
    call(portal, "POST", COMMENTS, params, body={"body": "Yes."})
    clock.set(datetime(2026, 1, 12, 9, 40, tzinfo=BERLIN))
    waiting = call(portal, "POST", COMMENTS, params, body={"body": "Still broken."})
    waiting_due = due(ticket(tenant, ticket_id), "next_response")
    clock.set(datetime(2026, 1, 12, 10, 0, tzinfo=BERLIN))
    call(tenant.agent, "POST", COMMENTS, params, body={"body": "Sending a technician."})

    # Then next response ran from the oldest unanswered reply (due 10:30) and was fulfilled by staff
    assert waiting.status == 201, waiting.text
    assert waiting_due == datetime(2026, 1, 12, 10, 30, tzinfo=BERLIN)
    assert ticket(tenant, ticket_id)["sla"]["metrics"]["next_response"]["state"] == "fulfilled"
    assert sla_events(tenant, ticket_id)[-2:] == [("activated", "next_response"), ("fulfilled", "next_response")]


def test_a_ticket_no_policy_matches_has_no_sla_and_an_empty_history(tenant: Tenant, clock: Clock):
    make_policy(tenant, conditions={"categories": ["hardware"]})
    created = tenant.ticket(category="software")
    assert created["sla"] is None
    assert sla_events(tenant, created["id"]) == []
    assert call(tenant.agent, "GET", EVENTS, {"ticket_id": "01NOSUCHTICKET"}).problem(404)
