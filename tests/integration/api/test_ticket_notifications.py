"""The TicketNotifications stream consumer: who is emailed for which change, from which template, exactly once."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local import outbox
from infra.resources import STREAM_CONSUMERS
from shared.inbound import mailbox
from tests.integration.api.conftest import ConsumerStream
from tests.integration.api.harness import Tenant, call

CONSUMER = next(c for c in STREAM_CONSUMERS if c.name == "TicketNotifications")
COMMENTS = "/support/tickets/{ticket_id}/comments"


@pytest.fixture(scope="module")
def _stream(module_cloud) -> ConsumerStream:
    return ConsumerStream(module_cloud, CONSUMER)


@pytest.fixture
def stream(cloud, _stream) -> ConsumerStream:
    _stream.delivered.clear()
    return _stream


def inbox(cloud, address: str) -> list[dict[str, Any]]:
    return [m for m in outbox.messages(cloud.server.url) if address in m["destinations"]["ToAddresses"]]


@pytest.fixture
def scene(cloud) -> dict[str, Any]:
    tenant = Tenant()
    client = tenant.client("Initech")
    contact = tenant.contact(client["id"], "Peter Gibbons", email=f"peter@{tenant.id}.example")
    ticket = tenant.ticket(subject="TPS reports", client_id=client["id"], requester_contact_id=contact["id"])
    return {"tenant": tenant, "client": client, "contact": contact, "ticket": ticket}


def test_a_new_ticket_acknowledges_its_requester_with_number_link_and_reply_address(scene, stream, cloud):
    stream.drain()
    (ack,) = inbox(cloud, scene["contact"]["email"])
    ticket, tenant = scene["ticket"], scene["tenant"]
    assert ack["subject"] == f"[{ticket['number']}] We received your request: TPS reports"
    assert f"/app/tickets/{ticket['id']}" in ack["body"] and "Peter Gibbons" in ack["body"]
    assert ack["headers"]["Reply-To"] == mailbox.reply_address(tenant.id, ticket["id"])
    assert mailbox.replied_ticket(tenant.id, [ack["headers"]["Message-ID"]]) == ticket["id"]
    assert ack["headers"]["Auto-Submitted"] == "auto-generated"
    assert ack["body"].startswith("##- Please type your reply above this line -##")


def test_a_public_staff_reply_reaches_the_requester_and_an_internal_note_does_not(scene, stream, cloud):
    tenant, ticket, email = scene["tenant"], scene["ticket"], scene["contact"]["email"]
    on = {"ticket_id": ticket["id"]}
    call(tenant.agent, "POST", COMMENTS, on, body={"body": "Use the new cover sheet.", "public": True})
    call(tenant.agent, "POST", COMMENTS, on, body={"body": "SECRET: he is slow", "public": False})
    stream.drain()
    mails = inbox(cloud, email)
    assert [m["subject"] for m in mails] == [f"[{ticket['number']}] We received your request: TPS reports",
                                            f"[{ticket['number']}] TPS reports"]  # fmt: skip
    assert "Use the new cover sheet." in mails[1]["body"]
    every = outbox.messages(cloud.server.url)
    assert not any("SECRET" in m["body"] for m in every)


def test_a_requester_reply_reaches_the_managers_then_the_assignee(scene, stream, cloud):
    tenant, client, ticket = scene["tenant"], scene["client"], scene["ticket"]
    portal = tenant.portal_user(client["id"])
    call(portal, "POST", COMMENTS, {"ticket_id": ticket["id"]}, body={"body": "Any news?"})
    stream.drain()
    (to_manager,) = inbox(cloud, tenant.manager.email)
    assert "Any news?" in to_manager["body"] and "Reply-To" not in to_manager["headers"]
    call(
        tenant.manager,
        "POST",
        "/support/tickets/{ticket_id}/assign",
        {"ticket_id": ticket["id"]},
        body={"assignee_id": tenant.agent.user_id},
    )
    call(portal, "POST", COMMENTS, {"ticket_id": ticket["id"]}, body={"body": "Hello again?"})
    stream.drain()
    to_agent = inbox(cloud, tenant.agent.email)
    assert [m["subject"].split("] ")[1].split(":")[0] for m in to_agent] == ["Assigned to you", "portal replied"]
    assert "Hello again?" in to_agent[1]["body"]


def test_taking_a_ticket_oneself_sends_no_assignment_email(scene, stream, cloud):
    tenant, ticket = scene["tenant"], scene["ticket"]
    call(
        tenant.agent,
        "POST",
        "/support/tickets/{ticket_id}/assign",
        {"ticket_id": ticket["id"]},
        body={"assignee_id": tenant.agent.user_id},
    )
    stream.drain()
    assert inbox(cloud, tenant.agent.email) == []


def test_resolution_tells_the_requester(scene, stream, cloud):
    tenant, ticket = scene["tenant"], scene["ticket"]
    call(tenant.agent, "POST", "/support/tickets/{ticket_id}/resolve", {"ticket_id": ticket["id"]})
    stream.drain()
    assert inbox(cloud, scene["contact"]["email"])[-1]["subject"] == f"[{ticket['number']}] Resolved: TPS reports"


def test_a_redelivered_batch_sends_nothing_twice(scene, stream, cloud):
    stream.drain()
    before = len(outbox.messages(cloud.server.url))
    stream.redeliver()
    stream.redeliver()
    assert len(outbox.messages(cloud.server.url)) == before
    assert len(inbox(cloud, scene["contact"]["email"])) == 1


def test_an_override_changes_the_text_and_a_switched_off_kind_is_not_sent(cloud, stream):
    tenant = Tenant()
    client = tenant.client()
    contact = tenant.contact(client["id"], email=f"milton@{tenant.id}.example")
    override = {"subject": "Ticket {{ ticket.number }} is ours", "text": "Stapler noted, {{ requester.name }}.\n"}
    call(tenant.manager, "PUT", "/support/notification-templates", body={**override, "kind": "ticket_created"})
    off = {**override, "enabled": False}
    call(tenant.manager, "PUT", "/support/notification-templates", body={**off, "kind": "ticket_resolved"})
    ticket = tenant.ticket(client_id=client["id"], requester_contact_id=contact["id"])
    call(tenant.agent, "POST", "/support/tickets/{ticket_id}/resolve", {"ticket_id": ticket["id"]})
    stream.drain()
    (ack,) = inbox(cloud, contact["email"])
    assert ack["subject"] == f"Ticket {ticket['number']} is ours" and "Stapler noted, Peter Gibbons." in ack["body"]


def test_a_staff_ticket_without_requester_contact_tells_nobody(cloud, stream):
    tenant = Tenant()
    tenant.ticket()
    stream.drain()
    assert inbox(cloud, tenant.agent.email) == [] and inbox(cloud, tenant.manager.email) == []


def test_a_portal_users_ticket_is_acknowledged_to_the_portal_user(cloud, stream):
    tenant = Tenant()
    portal = tenant.portal_user(tenant.client()["id"])
    ticket = tenant.ticket(by=portal, subject="Portal printer")
    stream.drain()
    (ack,) = inbox(cloud, portal.email)
    assert ack["subject"] == f"[{ticket['number']}] We received your request: Portal printer"
