"""GET /audit: the trail the stream consumer writes, read by managers only."""

from __future__ import annotations

import pytest

from tests.integration.api.harness import Tenant, call

AUDIT = "/audit"


def entries(reply) -> list[dict]:
    assert reply.status == 200, reply.text
    return reply.json["items"]


def test_a_created_ticket_appears_in_the_audit_trail_with_its_actor(tenant: Tenant, stream_to_audit):
    # Given an agent created a ticket, and the table's stream reached the audit trail
    ticket = tenant.ticket()
    assert stream_to_audit(tenant) > 0

    # When a manager reads the trail
    reply = call(tenant.manager, "GET", AUDIT, query={"entity": "ticket"})

    # Then the creation is there, by that agent
    [entry] = entries(reply)
    assert (entry["entity_type"], entry["entity_id"], entry["action"]) == ("ticket", ticket["id"], "create")
    assert entry["actor"] == tenant.agent.user_id
    assert {"subject", "status", "number"} <= set(entry["changed"])


def test_an_update_is_audited_with_the_fields_it_changed(tenant: Tenant, stream_to_audit):
    ticket = tenant.ticket()
    call(
        tenant.manager,
        "PATCH",
        "/support/tickets/{ticket_id}",
        {"ticket_id": ticket["id"]},
        body={"version": 1, "priority": "urgent"},
    )
    stream_to_audit(tenant)

    latest = entries(call(tenant.manager, "GET", AUDIT, query={"entity": "ticket"}))[0]

    assert (latest["action"], latest["changed"], latest["actor"]) == ("update", ["priority"], tenant.manager.user_id)


def test_the_trail_is_newest_first_even_within_one_second(tenant: Tenant, stream_to_audit):
    # Given eight clients created one after another (stream timestamps have a one-second grain)
    made = [tenant.client(f"Client {i}")["id"] for i in range(8)]
    stream_to_audit(tenant)

    # When a manager reads the trail
    trail = entries(call(tenant.manager, "GET", AUDIT, query={"entity": "client"}))

    # Then the latest change comes first
    assert [e["entity_id"] for e in trail] == made[::-1]


def test_the_trail_can_be_narrowed_to_one_kind_of_entity(tenant: Tenant, stream_to_audit):
    tenant.client()
    tenant.ticket()
    stream_to_audit(tenant)

    trail = entries(call(tenant.manager, "GET", AUDIT, query={"entity": "client"}))

    assert [e["entity_type"] for e in trail] == ["client"]


def test_the_trail_shows_no_other_tenants_changes(tenant: Tenant, new_tenant, stream_to_audit):
    # Given another tenant's ticket, and both tenants' changes in the audit trail
    tenant.ticket()
    other = new_tenant()
    theirs = other.ticket(subject="Their secret")
    stream_to_audit(tenant, other)

    # When this tenant's manager reads the trail

    reply = call(tenant.manager, "GET", AUDIT)

    # Then the other tenant's change is not there (though its own manager sees it)
    assert entries(reply) and theirs["id"] not in reply.text
    assert any(e["entity_id"] == theirs["id"] for e in entries(call(other.manager, "GET", AUDIT)))


@pytest.mark.parametrize("role", ["agent", "portal"])
def test_only_managers_read_the_audit_trail(tenant: Tenant, stream_to_audit, role):
    ticket = tenant.ticket()
    stream_to_audit(tenant)
    user = tenant.agent if role == "agent" else tenant.portal_user(tenant.client()["id"])

    reply = call(user, "GET", AUDIT)

    reply.problem(403)
    assert ticket["id"] not in reply.text


def test_an_entity_name_that_is_not_one_is_refused(tenant: Tenant):
    reply = call(tenant.manager, "GET", AUDIT, query={"entity": "Ticket; DROP"})

    assert "query.entity" in reply.field_errors()
