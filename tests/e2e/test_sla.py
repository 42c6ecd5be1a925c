"""The SLA clock over real HTTP: a policy, a reply that fulfils it, a breach the sweep marks once
and mails, and a pause. Time is real here, so the policy is 24x7 with a 3-second first response;
the business-hours examples (Friday 16:50 Berlin -> Monday 09:20) are proven through the handlers
with a moved clock in tests/integration/api/test_sla_api.py."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from tests.e2e.conftest import AGENT
from tests.e2e.waits import PUMP_WAIT_SECONDS

TAG = "sla-e2e"
PAUSE_TAG = "sla-pause-e2e"  # a policy of its own: the 3-second first response of POLICY would come due
POLICY = {
    "name": "Chat-speed (e2e)",
    "order": 1,
    "conditions": {"tags": [TAG]},
    "targets": {"normal": {"first_response": 0.05, "resolution": 60}},
    "calendar": {"always_open": True},
}


def sla_of(api, token: str, ticket_id: str) -> dict:
    response = api.get(f"/support/tickets/{ticket_id}", as_=token)
    assert response.status_code == 200, response.text
    return response.json()["sla"]


def breach_mails(deskos, number: str) -> list[dict]:
    """The breach emails about ticket ``number``, once there is one: the cloud's own sweep (every minute) may have
    marked the breach just before the test's, and mail goes out after the mark is committed, so it can still be on
    its way when the test's sweep returns."""
    deadline = time.monotonic() + PUMP_WAIT_SECONDS
    while True:
        mails = json.loads(deskos("outbox", "--json", "--to", AGENT))
        found = [m for m in mails if number in m["subject"] and "breached" in m["subject"]]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def event_kinds(api, token: str, ticket_id: str) -> list[tuple[str, str | None]]:
    response = api.get(f"/support/tickets/{ticket_id}/sla-events", as_=token)
    assert response.status_code == 200, response.text
    return [(e["kind"], e["metric"]) for e in response.json()["items"]]


def test_a_reply_fulfils_an_overdue_ticket_is_breached_once_and_its_assignee_mailed(api, demo, deskos):
    # Given a 24x7 policy with a 3-second first response for tagged tickets
    created = api.post("/support/sla-policies", as_=demo.manager, json=POLICY)
    assert created.status_code == 201, created.text
    agent_id = api.user_id(demo.agent)

    # When one ticket is answered publicly at once and another, assigned, is left unanswered
    answered = api.create_ticket(demo.agent, subject="Answered quickly", tags=[TAG])
    reply = api.post(f"/support/tickets/{answered['id']}/comments", as_=demo.agent, json={"body": "Looking now."})
    overdue = api.create_ticket(demo.agent, subject="Left waiting", tags=[TAG])
    assign = api.post(f"/support/tickets/{overdue['id']}/assign", as_=demo.agent, json={"assignee_id": agent_id})
    assert (reply.status_code, assign.status_code) == (201, 200), (reply.text, assign.text)
    due = datetime.fromisoformat(overdue["sla"]["metrics"]["first_response"]["due_at"])
    time.sleep(max(0.0, due.timestamp() - time.time()) + 0.5)
    with ThreadPoolExecutor(2) as pool:  # two sweeps at once (and the cloud's own, every minute, may be a third)
        list(pool.map(lambda _: deskos("schedule", "run", "SlaSweep"), range(2)))

    # Then the answer fulfilled its first response, the other is breached exactly once, and the agent was mailed
    assert ("fulfilled", "first_response") in event_kinds(api, demo.agent, answered["id"])
    assert event_kinds(api, demo.agent, overdue["id"]).count(("breached", "first_response")) == 1
    assert sla_of(api, demo.agent, overdue["id"])["metrics"]["first_response"]["breached"] is True
    assert len(breach_mails(deskos, overdue["number"])) == 1


def test_pending_pauses_resolution_and_reopening_resumes_it_without_the_paused_time(api, demo, deskos):
    # Given a ticket under a 24x7 policy with only a 60-minute resolution target: no clock of it comes due while the
    # test runs, so the sweeps (the cloud's own every minute, and one here) leave it alone
    paused = {**POLICY, "name": "Pause (e2e)", "conditions": {"tags": [PAUSE_TAG]}}
    created = api.post(
        "/support/sla-policies", as_=demo.manager, json={**paused, "targets": {"normal": {"resolution": 60}}}
    )
    assert created.status_code == 201, created.text
    ticket = api.create_ticket(demo.agent, subject="Waiting for the customer", tags=[PAUSE_TAG])
    first_due = datetime.fromisoformat(ticket["sla"]["metrics"]["resolution"]["due_at"])

    # When it is pending for two seconds and more (a sweep runs meanwhile) and then open again
    pending = api.patch(
        f"/support/tickets/{ticket['id']}", as_=demo.agent, json={"status": "pending", "version": ticket["version"]}
    )
    assert pending.status_code == 200, pending.text
    time.sleep(2)
    deskos("schedule", "run", "SlaSweep")
    reopened = api.patch(
        f"/support/tickets/{ticket['id']}",
        as_=demo.agent,
        json={"status": "open", "version": pending.json()["version"]},
    )
    assert reopened.status_code == 200, reopened.text

    # Then resolution was paused, and is due later by the time it stood still
    assert pending.json()["sla"]["metrics"]["resolution"]["state"] == "paused", pending.text
    resumed = reopened.json()["sla"]["metrics"]["resolution"]
    assert resumed["state"] == "running"
    assert (datetime.fromisoformat(resumed["due_at"]) - first_due).total_seconds() >= 2
    assert event_kinds(api, demo.agent, ticket["id"])[-2:] == [("paused", "resolution"), ("resumed", "resolution")]
