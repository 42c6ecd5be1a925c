"""Field service over real HTTP: a manager's rule turns a portal user's urgent installation ticket
into one automatic work order for the networking technician, inside working hours, with mail to
both and the decision in the audit trail; a ticket no rule matches gets none; the counts by status move by
what a test does."""

from __future__ import annotations

import json
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.e2e.conftest import PORTAL, TECHNICIAN
from tests.e2e.waits import PUMP_WAIT_SECONDS

RULE = {
    "name": "Urgent installations (e2e)",
    "priority": 500,
    "trigger": {"priorities": ["high", "urgent"], "categories": ["Installation"]},
    "template": {"type": "installation"},
    "assignment": {"logic": "skill_match", "required_skills": ["networking"]},
    "scheduling": {"auto_schedule": True, "offset_hours": 24},
}


def work_orders_of(api, token: str, ticket_id: str, *, at_least: int) -> list[dict]:
    deadline = time.monotonic() + PUMP_WAIT_SECONDS
    while True:
        response = api.get(f"/support/tickets/{ticket_id}/work-orders", as_=token)
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        if len(items) >= at_least or time.monotonic() > deadline:
            return items
        time.sleep(0.25)


def mail_about(deskos, number: str, address: str) -> list[dict]:
    """The emails to ``address`` naming ``number``, once there is one (or the wait is over)."""
    deadline = time.monotonic() + PUMP_WAIT_SECONDS
    while True:
        mails = json.loads(deskos("outbox", "--json", "--to", address))
        found = [m for m in mails if number in m["subject"]]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def test_an_urgent_installation_ticket_gets_one_automatic_work_order_for_the_networking_technician(api, demo, deskos):
    # Given a manager's rule for urgent installations, assigned by skill to "networking"
    created = api.post("/field-service/work-order-rules", as_=demo.manager, json=RULE)
    assert created.status_code == 201, created.text
    technician_id = api.user_id(demo.technician)

    # When a portal user opens an urgent Installation ticket
    ticket = api.create_ticket(
        demo.portal, subject="Install the office network", priority="urgent", category="Installation"
    )

    # Then within seconds it has one automatic work order for the technician, inside his working hours
    [order] = work_orders_of(api, demo.agent, ticket["id"], at_least=1)
    assert (order["source"], order["technician_id"], order["status"]) == ("automatic", technician_id, "scheduled")
    start = datetime.fromisoformat(order["scheduled_start"]).astimezone(ZoneInfo("Europe/London"))
    assert start.weekday() < 5 and 8 <= start.hour < 17
    # and the requester and the technician each have an email (sent once the work order is committed: it may
    # still be on its way when the work order shows)
    for address in (PORTAL, TECHNICIAN):
        assert mail_about(deskos, order["number"], address), f"no email to {address} about {order['number']}"
    # and the audit trail shows the decision
    trail = api.get("/audit", as_=demo.manager, params={"entity": "work_order", "limit": 100}).json()["items"]
    decisions = [e for e in trail if e["action"] == "automated" and e["entity_id"] == order["id"]]
    assert [d["detail"]["technician_id"] for d in decisions] == [technician_id]


def test_a_ticket_matching_no_rule_gets_no_work_order(api, demo):
    cabling = {**RULE, "name": "Cabling (e2e)", "trigger": {"categories": ["Cabling"]}}
    assert api.post("/field-service/work-order-rules", as_=demo.manager, json=cabling).status_code == 201
    ticket = api.create_ticket(demo.portal, subject="Question about an invoice", priority="low", category="Billing")
    marker = api.create_ticket(demo.portal, subject="Pull a cable", category="Cabling")

    # the later matching ticket's work order shows the stream got past the first one
    assert len(work_orders_of(api, demo.agent, marker["id"], at_least=1)) == 1
    assert work_orders_of(api, demo.agent, ticket["id"], at_least=0) == []


def test_the_status_counts_move_by_a_work_order_created_and_cancelled(api, demo):
    # (the automation may add work orders of other tickets meanwhile: only ``cancelled`` is this test's alone)
    def counts() -> dict:
        reply = api.get("/field-service/work-orders/status-counts", as_=demo.agent)
        assert reply.status_code == 200, reply.text
        return reply.json()

    before = counts()
    created = api.post("/field-service/work-orders", as_=demo.agent, json={"type": "inspection"})
    assert created.status_code == 201, created.text
    assert counts()["new"] >= before["new"] + 1
    cancelled = api.post(f"/field-service/work-orders/{created.json()['id']}/cancel", as_=demo.agent)
    assert cancelled.status_code == 200, cancelled.text
    assert counts()["cancelled"] == before["cancelled"] + 1
