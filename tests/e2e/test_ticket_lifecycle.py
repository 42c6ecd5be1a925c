"""A ticket's life over the real API: the portal opens it, staff work it, the audit trail remembers who did what."""

from __future__ import annotations

import re
import time

from tests.e2e.waits import PUMP_WAIT_SECONDS


def test_portal_user_creates_a_ticket_and_finds_it_by_its_number(api, demo):
    # When the demo portal user opens a ticket
    response = api.post("/support/tickets", as_=demo.portal, json={"subject": "Printer on fire", "priority": "high"})

    # Then the answer carries its number, formatted TK-<year>-<5 digits>, and where it lives
    assert response.status_code == 201, response.text
    created = response.json()
    assert re.fullmatch(rf"TK-{created['created_at'][:4]}-\d{{5}}", created["number"])
    assert (created["status"], created["channel"], created["priority"]) == ("new", "portal", "high")
    assert response.headers["Location"] == f"/support/tickets/{created['id']}"
    # And the number finds the same ticket
    found = api.get(f"/support/tickets/by-number/{created['number']}", as_=demo.portal)
    assert found.status_code == 200, found.text
    assert found.json()["id"] == created["id"]


def test_a_new_tenants_first_tickets_are_numbered_from_00001(api, deskos, token):
    # Given a tenant created a moment ago by the operator
    deskos(
        "tenant",
        "create",
        "initech",
        "--name",
        "Initech",
        "--manager-email",
        "manager@initech.example",
        "--manager-password",
        "Initech-pass-3!",
    )
    manager = token("manager@initech.example", "Initech-pass-3!")

    # When its manager opens two tickets
    first = api.create_ticket(manager, subject="TPS reports")
    second = api.create_ticket(manager, subject="Stapler missing")

    # Then they are the tenant's numbers 1 and 2 of this year
    year = first["created_at"][:4]
    assert (first["number"], second["number"]) == (f"TK-{year}-00001", f"TK-{year}-00002")


def test_staff_assign_a_portal_ticket_to_an_agent_and_resolve_it(api, demo):
    # Given a ticket the portal user opened, which staff see in their list
    ticket = api.create_ticket(demo.portal, subject="VPN drops every hour")
    assert ticket["id"] in api.ticket_ids(demo.technician)
    agent_id = api.user_id(demo.agent)

    # When a technician assigns it to the agent
    assigned = api.post(
        f"/support/tickets/{ticket['id']}/assign",
        as_=demo.technician,
        json={"assignee_id": agent_id, "version": ticket["version"]},
    )
    # Then it is the agent's, and open
    assert assigned.status_code == 200, assigned.text
    assert (assigned.json()["assignee_id"], assigned.json()["status"]) == (agent_id, "open")
    assert ticket["id"] in api.ticket_ids(demo.technician, assignee_id=agent_id)

    # When the technician resolves it
    resolved = api.post(
        f"/support/tickets/{ticket['id']}/resolve",
        as_=demo.technician,
        headers={"If-Match": f'"{assigned.json()["version"]}"'},
    )
    # Then it is resolved, and the portal user sees that too
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_at"] is not None
    assert api.get(f"/support/tickets/{ticket['id']}", as_=demo.portal).json()["status"] == "resolved"


def test_the_audit_trail_shows_a_tickets_creation_and_changes_with_their_actors(api, demo):
    # Given a ticket the portal user opened, and a technician assigned and resolved
    ticket = api.create_ticket(demo.portal, subject="Laptop will not boot")
    agent_id = api.user_id(demo.agent)
    assign = api.post(f"/support/tickets/{ticket['id']}/assign", as_=demo.technician, json={"assignee_id": agent_id})
    assert assign.status_code == 200, assign.text
    resolve = api.post(f"/support/tickets/{ticket['id']}/resolve", as_=demo.technician)
    assert resolve.status_code == 200, resolve.text

    # When a manager reads the audit trail, while the event pump catches up
    entries = wait_for_audit(api, demo.manager, ticket["id"], until=lambda found: len(found) >= 3)

    # Then it holds the creation by the portal user and both updates by the technician
    portal_id, technician_id = api.user_id(demo.portal), api.user_id(demo.technician)
    created = [e for e in entries if e["action"] == "create"]
    updates = [e for e in entries if e["action"] == "update"]
    assert [(e["entity_type"], e["actor"]) for e in created] == [("ticket", portal_id)]
    assert "subject" in created[0]["changed"]
    assert [e["actor"] for e in updates] == [technician_id, technician_id]
    changed = [set(e["changed"]) for e in updates]
    assert any({"assignee_id", "status"} <= c for c in changed), changed
    assert any({"resolved_at", "status"} <= c for c in changed), changed


def wait_for_audit(api, manager: str, entity_id: str, *, until) -> list[dict]:
    """The entity's audit entries, polled until ``until(entries)`` or the time is up."""
    deadline = time.monotonic() + PUMP_WAIT_SECONDS
    while True:
        response = api.get("/audit", as_=manager, params={"entity": "ticket", "limit": 100})
        assert response.status_code == 200, response.text
        found = [e for e in response.json()["items"] if e["entity_id"] == entity_id]
        if until(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.25)
