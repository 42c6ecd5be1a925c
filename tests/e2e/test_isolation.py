"""Tenants and clients are walled off: what is not yours does not exist (404), and lists leave it out."""

from __future__ import annotations

import pytest

OTHER_CLIENT_PORTAL = "portal@initrode.example"
OTHER_CLIENT_PASSWORD = "Initrode-pass-4!"


@pytest.fixture(scope="module")
def demo_ticket(api, demo) -> dict:
    """A ticket the demo portal user (client Acme Ltd) opened."""
    return api.create_ticket(demo.portal, subject="Invoice PDF is blank")


@pytest.fixture(scope="module")
def other_client_portal(api, demo, deskos, token) -> str:
    """The token of a portal user of Initrode, another client of the demo tenant."""
    made = api.post("/crm/clients", as_=demo.manager, json={"name": "Initrode"})
    assert made.status_code == 201, made.text
    deskos(
        "user",
        "create",
        "--tenant",
        "demo",
        "--role",
        "portal",
        "--email",
        OTHER_CLIENT_PORTAL,
        "--password",
        OTHER_CLIENT_PASSWORD,
        "--client-id",
        made.json()["id"],
    )
    return token(OTHER_CLIENT_PORTAL, OTHER_CLIENT_PASSWORD)


def test_another_tenants_staff_cannot_reach_a_ticket_by_id_or_number(api, other_tenant, demo, demo_ticket):
    # Given Globex's agent, who knows a demo ticket's id and number
    ticket_id, number, outsider = demo_ticket["id"], demo_ticket["number"], other_tenant.staff_token
    outsider_id = api.user_id(outsider)

    # When they read it, change it, assign it, or look its number up
    answers = {
        "get": api.get(f"/support/tickets/{ticket_id}", as_=outsider),
        "patch": api.patch(f"/support/tickets/{ticket_id}", as_=outsider, json={"version": 1, "priority": "low"}),
        "assign": api.post(f"/support/tickets/{ticket_id}/assign", as_=outsider, json={"assignee_id": outsider_id}),
        "by-number": api.get(f"/support/tickets/by-number/{number}", as_=outsider),
    }

    # Then each time there is no such ticket, as a problem document
    assert {call: r.status_code for call, r in answers.items()} == dict.fromkeys(answers, 404)
    assert {r.headers["Content-Type"] for r in answers.values()} == {"application/problem+json"}
    # And the ticket is untouched
    unchanged = api.get(f"/support/tickets/{ticket_id}", as_=demo.technician).json()
    assert (unchanged["version"], unchanged["priority"], unchanged["assignee_id"]) == (1, "normal", None)


def test_another_tenants_ticket_list_leaves_out_the_first_tenants_tickets(api, other_tenant, demo, demo_ticket):
    # Given a Globex ticket of its own
    own = api.create_ticket(other_tenant.staff_token, subject="Globex coffee machine")

    # When Globex's manager and agent list tickets
    listed = api.ticket_ids(other_tenant.manager_token) + api.ticket_ids(other_tenant.staff_token)

    # Then they see Globex's ticket and never the demo tenant's
    assert own["id"] in listed
    assert demo_ticket["id"] not in listed
    assert own["id"] not in api.ticket_ids(demo.technician)


def test_a_portal_user_of_another_client_cannot_see_the_first_clients_ticket(
    api, demo, demo_ticket, other_client_portal
):
    # Given a portal user of Initrode, and a ticket of Acme Ltd (same tenant)
    ticket_id, number = demo_ticket["id"], demo_ticket["number"]

    # When the Initrode user looks for it by id, by number and in the list
    by_id = api.get(f"/support/tickets/{ticket_id}", as_=other_client_portal)
    by_number = api.get(f"/support/tickets/by-number/{number}", as_=other_client_portal)
    listed = api.ticket_ids(other_client_portal)

    # Then it does not exist for them, while Acme's portal user still sees it
    assert (by_id.status_code, by_number.status_code) == (404, 404)
    assert ticket_id not in listed
    assert api.get(f"/support/tickets/{ticket_id}", as_=demo.portal).status_code == 200
