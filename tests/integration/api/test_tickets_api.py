"""Tickets through the API: creating, listing, reading, changing and moving them through their statuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.caller import Role
from tests.integration.api.harness import Tenant, call

TICKETS = "/support/tickets"
TICKET = "/support/tickets/{ticket_id}"
BY_NUMBER = "/support/tickets/by-number/{number}"


def action(name: str) -> str:
    return f"/support/tickets/{{ticket_id}}/{name}"


def number(n: int) -> str:
    return f"TK-{datetime.now(UTC):%Y}-{n:05d}"


def ids(reply) -> list[str]:
    assert reply.status == 200, reply.text
    return [t["id"] for t in reply.json["items"]]


# ---- creating ----------------------------------------------------------------------------------


def test_a_portal_user_creates_a_ticket_for_their_own_client_through_the_portal(tenant: Tenant):
    # Given a portal user of one client, and another client of the tenant
    own, other = tenant.client("Own Co"), tenant.client("Other Co")
    portal = tenant.portal_user(own["id"])

    # When they create a ticket naming the other client and another channel
    reply = call(portal, "POST", TICKETS, body={"subject": "VPN down", "client_id": other["id"], "channel": "phone"})

    # Then it is created for their own client, through the portal, with its number and location
    assert reply.status == 201, reply.text
    ticket = reply.json
    assert reply.header("Location") == f"/support/tickets/{ticket['id']}"
    assert ticket["number"] == number(1)
    assert ticket["client_id"] == own["id"]
    assert ticket["channel"] == "portal"
    assert ticket["requester"] == {"kind": "portal_user", "id": portal.user_id, "name": None}
    assert (ticket["status"], ticket["priority"], ticket["version"]) == ("new", "normal", 1)


def test_a_staff_ticket_for_a_client_copies_its_customer_type_and_location(tenant: Tenant):
    # Given a premium client with a location
    client = tenant.client(customer_type="premium", location={"lat": 52.37, "lng": 4.89})

    # When an agent opens a ticket for it
    reply = call(tenant.agent, "POST", TICKETS, body={"subject": "Boiler leaks", "client_id": client["id"]})

    # Then the ticket carries the client's customer type and location
    assert reply.status == 201, reply.text
    assert reply.json["customer_type"] == "premium"
    assert reply.json["location"] == {"lat": 52.37, "lng": 4.89}
    assert reply.json["channel"] == "api"
    assert reply.json["requester"] == {"kind": "staff", "id": tenant.agent.user_id, "name": None}


def test_a_staff_ticket_on_behalf_of_a_contact_names_the_contact_as_requester(tenant: Tenant):
    client = tenant.client()
    contact = tenant.contact(client["id"])

    reply = call(
        tenant.agent,
        "POST",
        TICKETS,
        body={
            "subject": "Call me",
            "client_id": client["id"],
            "requester_contact_id": contact["id"],
            "channel": "phone",
        },
    )

    assert reply.status == 201, reply.text
    assert reply.json["requester"] == {"kind": "contact", "id": contact["id"], "name": None}
    assert reply.json["channel"] == "phone"


def test_a_contact_of_another_client_cannot_be_the_requester(tenant: Tenant):
    client, other = tenant.client("A"), tenant.client("B")
    contact = tenant.contact(other["id"])

    reply = call(
        tenant.agent,
        "POST",
        TICKETS,
        body={"subject": "Hi", "client_id": client["id"], "requester_contact_id": contact["id"]},
    )

    assert "requester_contact_id" in reply.field_errors()


def test_a_ticket_for_an_unknown_client_is_refused_on_that_field(tenant: Tenant):
    reply = call(tenant.agent, "POST", TICKETS, body={"subject": "Hi", "client_id": "01JNOSUCHCLIENT0000000000"})

    assert "client_id" in reply.field_errors()
    assert ids(call(tenant.agent, "GET", TICKETS)) == []


def test_ticket_numbers_count_up_within_a_tenant_and_start_afresh_in_another(new_tenant):
    # Given two tenants
    acme, globex = new_tenant(), new_tenant()

    # When acme opens two tickets and globex one
    first, second = acme.ticket(), acme.ticket()
    elsewhere = globex.ticket()

    # Then each tenant's numbers start at 1 and increase by one
    assert [first["number"], second["number"]] == [number(1), number(2)]
    assert elsewhere["number"] == number(1)


# ---- invalid requests --------------------------------------------------------------------------


def test_a_body_that_is_not_json_is_a_bad_request(tenant: Tenant):
    reply = call(tenant.agent, "POST", TICKETS, body='{"subject": "unterminated')

    problem = reply.problem(400)
    assert "JSON" in problem["detail"]


@pytest.mark.parametrize(
    ("media_type", "body"),
    [
        ("text/plain", "subject: Hi"),
        ("application/x-www-form-urlencoded", "subject=Hi"),
        (
            "multipart/form-data; boundary=b",
            '--b\r\nContent-Disposition: form-data; name="subject"\r\n\r\nHi\r\n--b--\r\n',
        ),
    ],
    ids=["text", "form", "multipart"],
)
def test_a_body_sent_as_another_media_type_than_json_is_refused(tenant: Tenant, media_type, body):
    reply = call(tenant.agent, "POST", TICKETS, body=body, headers={"Content-Type": media_type})

    assert "json" in reply.problem(415)["detail"].lower()
    assert ids(call(tenant.agent, "GET", TICKETS)) == []


@pytest.mark.parametrize("key", ["has spaces", "x" * 256, "naïve"])
def test_an_idempotency_key_that_is_not_1_to_255_visible_ascii_characters_is_refused(tenant: Tenant, key):
    reply = call(tenant.agent, "POST", TICKETS, body={"subject": "Hi"}, headers={"Idempotency-Key": key})

    reply.problem(400)
    assert ids(call(tenant.agent, "GET", TICKETS)) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subject": "Hi", "severity": "high"}, "severity"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "   "}, "subject"),
        ({"subject": "Hi", "priority": "critical"}, "priority"),
        ({"subject": "Hi", "channel": "pigeon"}, "channel"),
        ({"description": "no subject"}, "subject"),
        ({"subject": "Hi", "tags": ["ok", ""]}, "tags.1"),
    ],
    ids=[
        "unknown-field",
        "subject-too-long",
        "blank-subject",
        "bad-priority",
        "bad-channel",
        "no-subject",
        "empty-tag",
    ],
)
def test_an_invalid_ticket_is_refused_with_the_offending_field(tenant: Tenant, body, field):
    reply = call(tenant.agent, "POST", TICKETS, body=body)

    errors = reply.field_errors()
    assert field in errors, errors
    assert all(errors.values())


# ---- idempotent creates ------------------------------------------------------------------------


def test_a_create_retried_with_the_same_idempotency_key_returns_the_first_ticket(tenant: Tenant):
    # Given a ticket created with an Idempotency-Key
    key = {"Idempotency-Key": "create-42"}
    first = call(tenant.agent, "POST", TICKETS, body={"subject": "Once"}, headers=key)
    assert first.status == 201, first.text

    # When the same request is retried
    retry = call(tenant.agent, "POST", TICKETS, body={"subject": "Once"}, headers=key)

    # Then it answers with the same ticket, and only one ticket exists
    assert retry.status == 201, retry.text
    assert (retry.json["id"], retry.json["number"]) == (first.json["id"], first.json["number"])
    assert retry.header("Location") == first.header("Location")
    assert ids(call(tenant.agent, "GET", TICKETS)) == [first.json["id"]]


def test_an_idempotency_key_reused_with_another_body_is_refused(tenant: Tenant):
    key = {"Idempotency-Key": "create-43"}
    first = call(tenant.agent, "POST", TICKETS, body={"subject": "Once"}, headers=key)

    reply = call(tenant.agent, "POST", TICKETS, body={"subject": "Something else"}, headers=key)

    reply.problem(422)
    assert ids(call(tenant.agent, "GET", TICKETS)) == [first.json["id"]]


def test_an_idempotent_retry_does_not_consume_a_ticket_number(tenant: Tenant):
    key = {"Idempotency-Key": "create-44"}
    call(tenant.agent, "POST", TICKETS, body={"subject": "Once"}, headers=key)
    call(tenant.agent, "POST", TICKETS, body={"subject": "Once"}, headers=key)

    assert tenant.ticket()["number"] == number(2)


# ---- listing -----------------------------------------------------------------------------------


def test_tickets_are_listed_newest_first(tenant: Tenant):
    made = [tenant.ticket(subject=f"T{i}")["id"] for i in range(3)]

    assert ids(call(tenant.agent, "GET", TICKETS)) == made[::-1]


@pytest.fixture
def varied(tenant: Tenant):
    """Four tickets that differ in status, priority, assignee and client."""
    acme, globex = tenant.client("Acme"), tenant.client("Globex")
    low = tenant.ticket(subject="low", priority="low", client_id=acme["id"])
    urgent = tenant.ticket(subject="urgent", priority="urgent", client_id=globex["id"])
    assigned = tenant.ticket(subject="assigned", priority="urgent", client_id=acme["id"])
    reply = call(
        tenant.agent,
        "POST",
        action("assign"),
        {"ticket_id": assigned["id"]},
        body={"assignee_id": tenant.agent.user_id},
    )
    assert reply.status == 200, reply.text
    plain = tenant.ticket(subject="plain")
    return {"acme": acme, "globex": globex, "low": low, "urgent": urgent, "assigned": assigned, "plain": plain}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "open"}, ["assigned"]),
        ({"status": "new"}, ["plain", "urgent", "low"]),
        ({"priority": "urgent"}, ["assigned", "urgent"]),
        ({"assignee_id": "<agent>"}, ["assigned"]),
        ({"client_id": "<acme>"}, ["assigned", "low"]),
        ({"client_id": "<acme>", "priority": "low"}, ["low"]),
        ({"status": "new", "priority": "urgent"}, ["urgent"]),
    ],
    ids=["status-open", "status-new", "priority", "assignee", "client", "client-and-priority", "status-and-priority"],
)
def test_the_list_keeps_only_tickets_matching_its_filters(tenant: Tenant, varied, query, expected):
    names = {"<agent>": tenant.agent.user_id, "<acme>": varied["acme"]["id"]}
    query = {k: names.get(v, v) for k, v in query.items()}

    found = ids(call(tenant.agent, "GET", TICKETS, query=query))

    assert found == [varied[name]["id"] for name in expected]


def test_the_list_keeps_only_tickets_created_within_the_range(tenant: Tenant):
    made = [tenant.ticket(subject=f"T{i}") for i in range(4)]

    query = {"created_from": made[1]["created_at"], "created_to": made[2]["created_at"]}
    found = ids(call(tenant.agent, "GET", TICKETS, query=query))

    assert found == [made[2]["id"], made[1]["id"]]


def test_a_ticket_moves_between_the_status_and_assignee_lists_as_it_changes(tenant: Tenant):
    # Given a ticket assigned to the agent, then unassigned and resolved
    ticket = tenant.ticket()
    call(
        tenant.agent, "POST", action("assign"), {"ticket_id": ticket["id"]}, body={"assignee_id": tenant.agent.user_id}
    )
    call(tenant.agent, "POST", action("assign"), {"ticket_id": ticket["id"]}, body={"assignee_id": None})
    call(tenant.agent, "POST", action("resolve"), {"ticket_id": ticket["id"]})

    # Then it is listed only where it is now
    assert ids(call(tenant.agent, "GET", TICKETS, query={"assignee_id": tenant.agent.user_id})) == []
    assert ids(call(tenant.agent, "GET", TICKETS, query={"status": "open"})) == []
    assert ids(call(tenant.agent, "GET", TICKETS, query={"status": "resolved"})) == [ticket["id"]]


def test_pages_of_a_filtered_list_visit_every_match_once(tenant: Tenant):
    made = [tenant.ticket(subject=f"T{i}", priority="high" if i % 2 else "low")["id"] for i in range(6)]

    seen, cursor = [], None
    for _ in range(10):
        query = {"priority": "high", "limit": "2", **({"cursor": cursor} if cursor else {})}
        reply = call(tenant.agent, "GET", TICKETS, query=query)
        seen += ids(reply)
        cursor = reply.json["next_cursor"]
        if cursor is None:
            break

    assert seen == made[1::2][::-1]


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z"])
def test_a_created_range_that_is_not_a_timestamp_is_refused(tenant: Tenant, value):
    reply = call(tenant.agent, "GET", TICKETS, query={"created_from": value})

    assert "query.created_from" in reply.field_errors()


def test_a_filter_value_that_is_not_a_status_is_refused(tenant: Tenant):
    reply = call(tenant.agent, "GET", TICKETS, query={"status": "exploded"})

    assert "query.status" in reply.field_errors()


def test_pages_follow_next_cursor_through_every_ticket_once(tenant: Tenant):
    made = [tenant.ticket(subject=f"T{i}")["id"] for i in range(5)]

    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        reply = call(tenant.agent, "GET", TICKETS, query=query)
        seen += ids(reply)
        pages += 1
        cursor = reply.json["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "the cursor never ends"

    assert seen == made[::-1]
    assert pages == 3


@pytest.fixture
def a_cursor(tenant: Tenant) -> str:
    for i in range(3):
        tenant.ticket(subject=f"T{i}", priority="high")
    cursor = call(tenant.agent, "GET", TICKETS, query={"limit": "1"}).json["next_cursor"]
    assert cursor
    return cursor


def test_a_cursor_from_another_tenant_is_refused(new_tenant, a_cursor):
    other = new_tenant()
    other.ticket()

    reply = call(other.agent, "GET", TICKETS, query={"limit": "1", "cursor": a_cursor})

    reply.problem(400)


def test_a_cursor_from_another_filter_set_is_refused(tenant: Tenant, a_cursor):
    reply = call(tenant.agent, "GET", TICKETS, query={"limit": "1", "priority": "high", "cursor": a_cursor})

    reply.problem(400)


@pytest.mark.parametrize(
    "tamper", [lambda c: c[:-2] + ("AA" if c[-2:] != "AA" else "BB"), lambda c: "x" + c, lambda c: "junk"]
)
def test_a_tampered_cursor_is_refused(tenant: Tenant, a_cursor, tamper):
    reply = call(tenant.agent, "GET", TICKETS, query={"limit": "1", "cursor": tamper(a_cursor)})

    reply.problem(400)


@pytest.mark.parametrize("limit", ["0", "101", "ten"])
def test_a_page_size_outside_1_to_100_is_refused(tenant: Tenant, limit):
    reply = call(tenant.agent, "GET", TICKETS, query={"limit": limit})

    assert "query.limit" in reply.field_errors()


# ---- reading one -------------------------------------------------------------------------------


def test_a_ticket_is_read_by_id_with_its_version_as_etag(tenant: Tenant):
    ticket = tenant.ticket()

    reply = call(tenant.agent, "GET", TICKET, {"ticket_id": ticket["id"]})

    assert reply.status == 200
    assert reply.json == ticket
    assert reply.header("ETag") == '"1"'


def test_a_ticket_is_found_by_its_number(tenant: Tenant):
    tenant.ticket()
    second = tenant.ticket(subject="second")

    reply = call(tenant.agent, "GET", BY_NUMBER, {"number": second["number"]})

    assert reply.status == 200
    assert reply.json["id"] == second["id"]


@pytest.mark.parametrize(
    ("template", "params"),
    [(TICKET, {"ticket_id": "01JNOSUCHTICKET0000000000"}), (BY_NUMBER, {"number": "TK-1999-99999"})],
    ids=["by-id", "by-number"],
)
def test_an_unknown_ticket_is_not_found(tenant: Tenant, template, params):
    call(tenant.agent, "GET", template, params).problem(404)


# ---- changing ----------------------------------------------------------------------------------


def test_a_patch_with_the_version_read_changes_the_ticket_and_its_version(tenant: Tenant):
    ticket = tenant.ticket()

    reply = call(
        tenant.agent,
        "PATCH",
        TICKET,
        {"ticket_id": ticket["id"]},
        body={"version": 1, "priority": "high", "status": "pending", "tags": ["vip"]},
    )

    assert reply.status == 200, reply.text
    assert (reply.json["priority"], reply.json["status"], reply.json["tags"]) == ("high", "pending", ["vip"])
    assert reply.json["version"] == 2
    assert call(tenant.agent, "GET", TICKET, {"ticket_id": ticket["id"]}).json == reply.json


def test_a_patch_may_carry_the_version_as_if_match(tenant: Tenant):
    ticket = tenant.ticket()
    etag = call(tenant.agent, "GET", TICKET, {"ticket_id": ticket["id"]}).header("ETag")

    reply = call(
        tenant.agent, "PATCH", TICKET, {"ticket_id": ticket["id"]}, body={"subject": "New"}, headers={"If-Match": etag}
    )

    assert reply.status == 200, reply.text
    assert (reply.json["subject"], reply.json["version"]) == ("New", 2)


@pytest.mark.parametrize("carrier", ["body", "if-match"])
def test_a_patch_with_a_stale_version_is_a_conflict_and_changes_nothing(tenant: Tenant, carrier):
    # Given a ticket someone else changed since we read version 1
    ticket = tenant.ticket()
    call(tenant.agent, "PATCH", TICKET, {"ticket_id": ticket["id"]}, body={"version": 1, "subject": "Theirs"})

    # When we send our change for version 1
    body, headers = {"subject": "Ours"}, {}
    if carrier == "body":
        body["version"] = 1
    else:
        headers["If-Match"] = '"1"'
    reply = call(tenant.agent, "PATCH", TICKET, {"ticket_id": ticket["id"]}, body=body, headers=headers)

    # Then it is refused and their change stands
    reply.problem(409)
    assert call(tenant.agent, "GET", TICKET, {"ticket_id": ticket["id"]}).json["subject"] == "Theirs"


@pytest.mark.parametrize(
    "etag", ["abc", '"v1"', "*", "²", "9" * 5000], ids=["abc", "v1", "star", "superscript", "long"]
)
def test_an_if_match_that_is_not_a_version_is_a_bad_request(tenant: Tenant, etag):
    ticket = tenant.ticket()

    reply = call(
        tenant.agent, "PATCH", TICKET, {"ticket_id": ticket["id"]}, body={"subject": "X"}, headers={"If-Match": etag}
    )

    reply.problem(400)


def test_a_patch_without_a_version_is_refused(tenant: Tenant):
    ticket = tenant.ticket()

    reply = call(tenant.agent, "PATCH", TICKET, {"ticket_id": ticket["id"]}, body={"subject": "Blind"})

    assert "version" in reply.field_errors()


def test_a_patch_cannot_move_a_resolved_ticket_back_to_open(tenant: Tenant):
    ticket = tenant.ticket()
    resolved = call(tenant.agent, "POST", action("resolve"), {"ticket_id": ticket["id"]}).json

    reply = call(
        tenant.agent,
        "PATCH",
        TICKET,
        {"ticket_id": ticket["id"]},
        body={"version": resolved["version"], "status": "open"},
    )

    reply.problem(409)
    assert call(tenant.agent, "GET", TICKET, {"ticket_id": ticket["id"]}).json["status"] == "resolved"


@pytest.mark.parametrize("status", ["resolved", "closed", "new"])
def test_a_patch_cannot_set_a_status_that_has_its_own_action(tenant: Tenant, status):
    ticket = tenant.ticket()

    reply = call(tenant.agent, "PATCH", TICKET, {"ticket_id": ticket["id"]}, body={"version": 1, "status": status})

    assert "status" in reply.field_errors()


@pytest.mark.parametrize("field", ["subject", "priority", "status", "tags"])
def test_a_patch_cannot_null_a_required_field(tenant: Tenant, field):
    ticket = tenant.ticket()

    reply = call(tenant.agent, "PATCH", TICKET, {"ticket_id": ticket["id"]}, body={"version": 1, field: None})

    assert field in reply.field_errors()


# ---- assigning ---------------------------------------------------------------------------------


def test_assigning_a_new_ticket_to_staff_opens_it(tenant: Tenant):
    ticket = tenant.ticket()

    reply = call(
        tenant.manager,
        "POST",
        action("assign"),
        {"ticket_id": ticket["id"]},
        body={"assignee_id": tenant.agent.user_id},
    )

    assert reply.status == 200, reply.text
    assert (reply.json["assignee_id"], reply.json["status"], reply.json["version"]) == (tenant.agent.user_id, "open", 2)


def test_a_manager_can_be_the_assignee(tenant: Tenant):
    ticket = tenant.ticket()

    reply = call(
        tenant.agent,
        "POST",
        action("assign"),
        {"ticket_id": ticket["id"]},
        body={"assignee_id": tenant.manager.user_id},
    )

    assert reply.status == 200, reply.text
    assert reply.json["assignee_id"] == tenant.manager.user_id


def test_unassigning_keeps_the_status(tenant: Tenant):
    ticket = tenant.ticket()
    call(
        tenant.agent, "POST", action("assign"), {"ticket_id": ticket["id"]}, body={"assignee_id": tenant.agent.user_id}
    )

    reply = call(tenant.agent, "POST", action("assign"), {"ticket_id": ticket["id"]}, body={"assignee_id": None})

    assert reply.status == 200, reply.text
    assert (reply.json["assignee_id"], reply.json["status"]) == (None, "open")


@pytest.mark.parametrize("who", ["portal-user", "unknown-user", "staff-of-another-tenant", "staff-without-profile"])
def test_a_ticket_can_only_be_assigned_to_active_staff_of_the_tenant(tenant: Tenant, new_tenant, who):
    # Given a ticket, and someone who is not staff of this tenant
    client = tenant.client()
    ticket = tenant.ticket(client_id=client["id"])
    assignee = {
        "portal-user": lambda: tenant.portal_user(client["id"]).user_id,
        "unknown-user": lambda: "no-such-user",
        "staff-of-another-tenant": lambda: new_tenant().agent.user_id,
        "staff-without-profile": lambda: tenant.user("ghost", Role.STAFF, profile=False).user_id,
    }[who]()

    # When the ticket is assigned to them
    reply = call(tenant.agent, "POST", action("assign"), {"ticket_id": ticket["id"]}, body={"assignee_id": assignee})

    # Then it is refused on that field and the ticket stays as it was
    assert "assignee_id" in reply.field_errors()
    after = call(tenant.agent, "GET", TICKET, {"ticket_id": ticket["id"]}).json
    assert (after["assignee_id"], after["status"], after["version"]) == (None, "new", 1)


def test_a_closed_ticket_cannot_be_assigned(tenant: Tenant):
    ticket = tenant.ticket()
    call(tenant.agent, "POST", action("close"), {"ticket_id": ticket["id"]})

    reply = call(
        tenant.agent, "POST", action("assign"), {"ticket_id": ticket["id"]}, body={"assignee_id": tenant.agent.user_id}
    )

    reply.problem(409)


def test_an_assignment_with_a_stale_version_is_a_conflict(tenant: Tenant):
    ticket = tenant.ticket()
    call(tenant.agent, "PATCH", TICKET, {"ticket_id": ticket["id"]}, body={"version": 1, "subject": "Changed"})

    reply = call(
        tenant.agent,
        "POST",
        action("assign"),
        {"ticket_id": ticket["id"]},
        body={"assignee_id": tenant.agent.user_id, "version": 1},
    )

    reply.problem(409)


# ---- resolve, close, reopen --------------------------------------------------------------------


def test_resolving_an_open_ticket_stamps_when(tenant: Tenant):
    ticket = tenant.ticket()

    reply = call(tenant.agent, "POST", action("resolve"), {"ticket_id": ticket["id"]})

    assert reply.status == 200, reply.text
    assert reply.json["status"] == "resolved"
    assert reply.json["resolved_at"] is not None


def test_closing_a_resolved_ticket_stamps_when(tenant: Tenant):
    ticket = tenant.ticket()
    call(tenant.agent, "POST", action("resolve"), {"ticket_id": ticket["id"]})

    reply = call(tenant.agent, "POST", action("close"), {"ticket_id": ticket["id"]})

    assert reply.status == 200, reply.text
    assert reply.json["status"] == "closed"
    assert reply.json["closed_at"] is not None


def test_reopening_a_closed_ticket_makes_it_open_again(tenant: Tenant):
    ticket = tenant.ticket()
    call(tenant.agent, "POST", action("resolve"), {"ticket_id": ticket["id"]})
    call(tenant.agent, "POST", action("close"), {"ticket_id": ticket["id"]})

    reply = call(tenant.agent, "POST", action("reopen"), {"ticket_id": ticket["id"]})

    assert reply.status == 200, reply.text
    assert (reply.json["status"], reply.json["resolved_at"], reply.json["closed_at"]) == ("open", None, None)


@pytest.mark.parametrize(
    ("before", "act"),
    [
        (["resolve"], "resolve"),
        (["close"], "resolve"),
        (["close"], "close"),
        ([], "reopen"),
        (["resolve", "reopen"], "reopen"),
    ],
    ids=["resolve-resolved", "resolve-closed", "close-closed", "reopen-new", "reopen-open"],
)
def test_an_action_the_status_does_not_allow_is_a_conflict(tenant: Tenant, before, act):
    ticket = tenant.ticket()
    for step in before:
        assert call(tenant.agent, "POST", action(step), {"ticket_id": ticket["id"]}).status == 200
    status = call(tenant.agent, "GET", TICKET, {"ticket_id": ticket["id"]}).json["status"]

    reply = call(tenant.agent, "POST", action(act), {"ticket_id": ticket["id"]})

    assert reply.problem(409)["current_status"] == status
    assert call(tenant.agent, "GET", TICKET, {"ticket_id": ticket["id"]}).json["status"] == status


def test_an_action_with_a_stale_if_match_is_a_conflict(tenant: Tenant):
    ticket = tenant.ticket()
    call(tenant.agent, "PATCH", TICKET, {"ticket_id": ticket["id"]}, body={"version": 1, "subject": "Changed"})

    reply = call(tenant.agent, "POST", action("resolve"), {"ticket_id": ticket["id"]}, headers={"If-Match": '"1"'})

    reply.problem(409)
    assert call(tenant.agent, "GET", TICKET, {"ticket_id": ticket["id"]}).json["status"] == "new"


# ---- the portal's view -------------------------------------------------------------------------


@pytest.fixture
def portal_scene(tenant: Tenant):
    """Two clients with a portal user each; one ticket per client."""
    own, other = tenant.client("Own"), tenant.client("Other")
    portal, neighbour = tenant.portal_user(own["id"], "portal"), tenant.portal_user(other["id"], "neighbour")
    return {
        "portal": portal,
        "mine": tenant.ticket(by=portal, subject="mine"),
        "staff-made": tenant.ticket(subject="staff-made for me", client_id=own["id"]),
        "theirs": tenant.ticket(by=neighbour, subject="theirs"),
        "internal": tenant.ticket(subject="no client"),
        "other": other,
        "agent": tenant.agent,
    }


def test_a_portal_user_can_close_and_reopen_their_own_ticket(portal_scene):
    portal, ticket = portal_scene["portal"], portal_scene["mine"]

    closed = call(portal, "POST", action("close"), {"ticket_id": ticket["id"]})
    reopened = call(portal, "POST", action("reopen"), {"ticket_id": ticket["id"]})

    assert (closed.status, closed.json["status"]) == (200, "closed")
    assert (reopened.status, reopened.json["status"]) == (200, "open")


def test_a_portal_user_can_reopen_only_within_the_reopen_window_but_staff_always_can(portal_scene, monkeypatch):
    # Given the portal user's ticket, closed eight days ago (the window is seven)
    portal, ticket = portal_scene["portal"], portal_scene["mine"]
    call(portal, "POST", action("close"), {"ticket_id": ticket["id"]})
    later = datetime.now(UTC) + timedelta(days=8)
    monkeypatch.setattr("shared.support.tickets.now", lambda: later)

    # When the portal user tries to reopen it, and then an agent does
    refused = call(portal, "POST", action("reopen"), {"ticket_id": ticket["id"]})
    reopened = call(portal_scene["agent"], "POST", action("reopen"), {"ticket_id": ticket["id"]})

    # Then only the agent can
    refused.problem(409)
    assert (reopened.status, reopened.json["status"]) == (200, "open")


@pytest.mark.parametrize(
    ("method", "template", "body"),
    [
        ("PATCH", TICKET, {"version": 1, "subject": "Mine now"}),
        ("POST", action("assign"), {"assignee_id": "x"}),
        ("POST", action("resolve"), None),
    ],
    ids=["patch", "assign", "resolve"],
)
def test_a_portal_user_may_not_edit_assign_or_resolve_even_their_own_ticket(
    tenant, portal_scene, method, template, body
):
    ticket = portal_scene["mine"]

    reply = call(portal_scene["portal"], method, template, {"ticket_id": ticket["id"]}, body=body)

    reply.problem(403)
    assert call(tenant.agent, "GET", TICKET, {"ticket_id": ticket["id"]}).json == ticket


@pytest.mark.parametrize(
    ("method", "template", "by"),
    [
        ("GET", TICKET, "ticket_id"),
        ("GET", BY_NUMBER, "number"),
        ("POST", action("close"), "ticket_id"),
        ("POST", action("reopen"), "ticket_id"),
    ],
    ids=["get", "by-number", "close", "reopen"],
)
@pytest.mark.parametrize("whose", ["theirs", "internal"])
def test_a_portal_user_cannot_reach_a_ticket_of_another_client(tenant, portal_scene, method, template, by, whose):
    ticket = portal_scene[whose]

    reply = call(portal_scene["portal"], method, template, {by: ticket["id" if by == "ticket_id" else by]})

    reply.problem(404)
    assert ticket["id"] not in reply.text and ticket["subject"] not in reply.text
    assert call(tenant.agent, "GET", TICKET, {"ticket_id": ticket["id"]}).json == ticket


def test_a_portal_user_lists_only_their_clients_tickets(portal_scene):
    expected = [portal_scene["staff-made"]["id"], portal_scene["mine"]["id"]]

    assert ids(call(portal_scene["portal"], "GET", TICKETS)) == expected
    asking_for_other = call(portal_scene["portal"], "GET", TICKETS, query={"client_id": portal_scene["other"]["id"]})
    assert ids(asking_for_other) == expected


# ---- the ticket number sequence ----------------------------------------------------------------

SEQUENCE = "/support/ticket-number-sequence"


def test_a_new_tenant_numbers_tickets_tk_year_five_digits(tenant: Tenant):
    reply = call(tenant.agent, "GET", SEQUENCE)

    assert reply.status == 200, reply.text
    assert reply.json == {
        "prefix": "TK",
        "include_year": True,
        "include_month": False,
        "padding": 5,
        "separator": "-",
        "reset": "yearly",
        "next_value": number(1),
    }


def test_the_preview_moves_on_as_tickets_are_numbered(tenant: Tenant):
    tenant.ticket()
    tenant.ticket()

    assert call(tenant.agent, "GET", SEQUENCE).json["next_value"] == number(3)


HD = {"prefix": "HD", "include_year": False, "include_month": False, "padding": 3, "separator": "_", "reset": "never"}


def test_a_manager_changes_the_format_and_new_tickets_use_it(tenant: Tenant):
    # Given a tenant that has numbered a ticket the default way
    old = tenant.ticket()

    # When a manager switches to HD_001 style
    reply = call(tenant.manager, "PUT", SEQUENCE, body=HD)

    # Then the preview and the next ticket use the new format
    assert reply.status == 200, reply.text
    assert reply.json == {**HD, "next_value": "HD_001"}
    new = tenant.ticket()
    assert new["number"] == "HD_001"
    # And the old number still finds its ticket
    assert call(tenant.agent, "GET", BY_NUMBER, {"number": old["number"]}).json["id"] == old["id"]
    assert call(tenant.agent, "GET", BY_NUMBER, {"number": "HD_001"}).json["id"] == new["id"]


def test_a_monthly_format_puts_the_month_in_the_number(tenant: Tenant):
    fmt = {"include_year": True, "include_month": True, "reset": "monthly"}

    call(tenant.manager, "PUT", SEQUENCE, body=fmt)

    assert tenant.ticket()["number"] == f"TK-{datetime.now(UTC):%Y-%m}-00001"


def test_the_preview_is_the_number_the_next_ticket_gets(tenant: Tenant):
    # Given a ticket numbered TK-YYYY-00001, and a format that no longer resets yearly
    tenant.ticket()
    preview = call(tenant.manager, "PUT", SEQUENCE, body={"reset": "never"}).json["next_value"]

    # When the next ticket is created
    made = tenant.ticket()

    # Then it got the number the preview promised (and numbers stay unique)
    assert made["number"] != number(1)
    assert made["number"] == preview


@pytest.mark.parametrize("role", ["agent", "portal"])
def test_only_managers_change_the_number_format(tenant: Tenant, role):
    user = tenant.agent if role == "agent" else tenant.portal_user(tenant.client()["id"])

    reply = call(user, "PUT", SEQUENCE, body=HD)

    reply.problem(403)
    assert call(tenant.agent, "GET", SEQUENCE).json["prefix"] == "TK"


def test_portal_users_do_not_see_the_number_format(tenant: Tenant):
    portal = tenant.portal_user(tenant.client()["id"])

    call(portal, "GET", SEQUENCE).problem(403)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"include_year": False, "reset": "yearly"}, "body"),
        ({"include_month": False, "reset": "monthly"}, "body"),
        ({"include_year": False, "include_month": True, "reset": "never"}, "body"),
        ({"separator": "/"}, "separator"),
        ({"prefix": "TK-1"}, "prefix"),
        ({"prefix": ""}, "prefix"),
        ({"padding": 0}, "padding"),
        ({"reset": "weekly"}, "reset"),
        ({"colour": "red"}, "colour"),
    ],
    ids=[
        "yearly-without-year",
        "monthly-without-month",
        "month-without-year",
        "separator",
        "prefix-with-separator",
        "empty-prefix",
        "no-padding",
        "reset-weekly",
        "unknown-field",
    ],
)
def test_a_number_format_that_cannot_work_is_refused(tenant: Tenant, change, field):
    reply = call(tenant.manager, "PUT", SEQUENCE, body=change)

    errors = reply.field_errors()
    assert field in errors, errors
    assert call(tenant.agent, "GET", SEQUENCE).json["next_value"] == number(1)
