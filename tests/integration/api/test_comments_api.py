"""Comments through the API: public replies, internal notes, who sees what."""

from __future__ import annotations

from tests.integration.api.harness import Tenant, call

COMMENTS = "/support/tickets/{ticket_id}/comments"


def post(user, ticket_id: str, body: str, public: bool = True):
    return call(user, "POST", COMMENTS, {"ticket_id": ticket_id}, body={"body": body, "public": public})


def bodies(user, ticket_id: str, **query) -> list[str]:
    reply = call(user, "GET", COMMENTS, {"ticket_id": ticket_id}, query=query or None)
    assert reply.status == 200, reply.text
    return [c["body"] for c in reply.json["items"]]


def test_staff_see_replies_and_notes_oldest_first_and_the_portal_only_public_ones(tenant: Tenant):
    # Given a portal user's ticket with a reply, an internal note and the requester's answer
    portal = tenant.portal_user(tenant.client()["id"])
    ticket_id = tenant.ticket(by=portal)["id"]
    for user, text, public in ((tenant.agent, "Reboot it", True), (tenant.agent, "Customer is VIP", False)):
        assert post(user, ticket_id, text, public).status == 201
    answer = post(portal, ticket_id, "Done, thanks")

    # Then staff see all three in order, the portal user never the note
    assert answer.status == 201 and answer.json["author_kind"] == "portal_user"
    assert answer.header("Location") == f"/support/tickets/{ticket_id}/comments/{answer.json['id']}"
    assert bodies(tenant.agent, ticket_id) == ["Reboot it", "Customer is VIP", "Done, thanks"]
    assert bodies(portal, ticket_id) == ["Reboot it", "Done, thanks"]


def test_a_portal_user_cannot_write_an_internal_note(tenant: Tenant):
    portal = tenant.portal_user(tenant.client()["id"])
    ticket_id = tenant.ticket(by=portal)["id"]
    assert "public" in post(portal, ticket_id, "psst", public=False).field_errors()
    assert bodies(tenant.agent, ticket_id) == []


def test_comment_bodies_are_stored_without_script(tenant: Tenant):
    ticket_id = tenant.ticket()["id"]
    made = post(tenant.agent, ticket_id, "See <script>alert(1)</script>[this](javascript:alert(1)) <b>now</b>")
    assert made.json["body"] == "See alert(1)[this](#)) <b>now</b>"
    assert "body" in post(tenant.agent, ticket_id, "<script></script>").field_errors()


def test_comments_come_in_pages(tenant: Tenant):
    ticket_id = tenant.ticket()["id"]
    for n in range(5):
        post(tenant.agent, ticket_id, f"update {n}")
    first = call(tenant.agent, "GET", COMMENTS, {"ticket_id": ticket_id}, query={"limit": "3"}).json
    rest = bodies(tenant.agent, ticket_id, limit="3", cursor=first["next_cursor"])
    assert [c["body"] for c in first["items"]] + rest == [f"update {n}" for n in range(5)]


def test_another_tenant_or_another_client_finds_no_ticket_to_comment_on(new_tenant):
    # Given a ticket of one tenant's client
    owner, other = new_tenant(), new_tenant()
    ticket_id = owner.ticket(client_id=owner.client("Own")["id"])["id"]
    post(owner.agent, ticket_id, "hello")
    outsider = owner.portal_user(owner.client("Someone else")["id"], name="outsider")

    # Then another tenant's staff and another client's portal user get 404, reading or writing
    for user in (other.agent, other.manager, outsider):
        assert call(user, "GET", COMMENTS, {"ticket_id": ticket_id}).problem(404)
        assert post(user, ticket_id, "hi").problem(404)
    assert call(owner.agent, "GET", COMMENTS, {"ticket_id": "01NOSUCHTICKET"}).problem(404)


def test_a_user_without_a_helpdesk_role_may_not_comment(tenant: Tenant):
    ticket_id = tenant.ticket()["id"]
    nobody = tenant.user("nobody", "technicians", profile=False)  # a group DeskOS does not know
    assert call(nobody, "GET", COMMENTS, {"ticket_id": ticket_id}).problem(403)
    assert post(nobody, ticket_id, "hi").problem(403)
