"""Clients and contacts through the API; the portal sees only its own client account."""

from __future__ import annotations

import pytest

from tests.integration.api.harness import Tenant, call

CLIENTS = "/crm/clients"
CLIENT = "/crm/clients/{client_id}"
CONTACTS = "/crm/contacts"
CONTACT = "/crm/contacts/{contact_id}"


def names(reply) -> list[str]:
    assert reply.status == 200, reply.text
    return sorted(item["name"] for item in reply.json["items"])


# ---- clients -----------------------------------------------------------------------------------


def test_staff_creates_a_client_and_reads_it_back(tenant: Tenant):
    body = {
        "name": "Initech",
        "customer_type": "enterprise",
        "address": "4120 Freidrich Lane, Austin",
        "location": {"lat": 30.27, "lng": -97.74},
        "tags": ["software"],
    }

    created = call(tenant.agent, "POST", CLIENTS, body=body)

    assert created.status == 201, created.text
    client = created.json
    assert created.header("Location") == f"/crm/clients/{client['id']}"
    assert {k: client[k] for k in body} == body
    assert client["version"] == 1
    assert call(tenant.agent, "GET", CLIENT, {"client_id": client["id"]}).json == client


def test_a_client_is_standard_unless_told_otherwise(tenant: Tenant):
    assert tenant.client()["customer_type"] == "standard"


def test_staff_lists_every_client_of_the_tenant(tenant: Tenant):
    for name in ("Acme", "Globex", "Initech"):
        tenant.client(name)

    assert names(call(tenant.agent, "GET", CLIENTS)) == ["Acme", "Globex", "Initech"]


def test_client_pages_follow_next_cursor(tenant: Tenant):
    for name in ("A", "B", "C"):
        tenant.client(name)

    first = call(tenant.agent, "GET", CLIENTS, query={"limit": "2"})
    second = call(tenant.agent, "GET", CLIENTS, query={"limit": "2", "cursor": first.json["next_cursor"]})

    assert len(first.json["items"]) == 2
    assert sorted(names(first) + names(second)) == ["A", "B", "C"]
    assert second.json["next_cursor"] is None


def test_a_client_cursor_from_another_tenant_is_refused(tenant: Tenant, new_tenant):
    for name in ("A", "B"):
        tenant.client(name)
    cursor = call(tenant.agent, "GET", CLIENTS, query={"limit": "1"}).json["next_cursor"]
    other = new_tenant()

    call(other.agent, "GET", CLIENTS, query={"cursor": cursor}).problem(400)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "A", "customer_type": "Gold Plus"}, "customer_type"),
        ({"name": "A", "location": {"lat": 91, "lng": 0}}, "location.lat"),
        ({"name": "A", "location": {"lat": 0}}, "location.lng"),
        ({"name": "A", "vip": True}, "vip"),
    ],
    ids=["no-name", "long-name", "bad-customer-type", "latitude-out-of-range", "no-longitude", "unknown-field"],
)
def test_an_invalid_client_is_refused_with_the_offending_field(tenant: Tenant, body, field):
    reply = call(tenant.agent, "POST", CLIENTS, body=body)

    assert field in reply.field_errors()
    assert names(call(tenant.agent, "GET", CLIENTS)) == []


def test_an_unknown_client_is_not_found(tenant: Tenant):
    call(tenant.agent, "GET", CLIENT, {"client_id": "01JNOSUCHCLIENT0000000000"}).problem(404)


def test_a_client_create_retried_with_the_same_idempotency_key_makes_one_client(tenant: Tenant):
    key = {"Idempotency-Key": "client-1"}
    first = call(tenant.agent, "POST", CLIENTS, body={"name": "Once"}, headers=key)

    retry = call(tenant.agent, "POST", CLIENTS, body={"name": "Once"}, headers=key)

    assert (first.status, retry.status) == (201, 201)
    assert retry.json["id"] == first.json["id"]
    assert names(call(tenant.agent, "GET", CLIENTS)) == ["Once"]


# ---- contacts ----------------------------------------------------------------------------------


def test_staff_adds_a_contact_to_a_client_and_reads_it_back(tenant: Tenant):
    client = tenant.client()
    body = {
        "client_id": client["id"],
        "name": "Peter Gibbons",
        "email": "peter@initech.test",
        "phone": "+1 512 555 0100",
    }

    created = call(tenant.agent, "POST", CONTACTS, body=body)

    assert created.status == 201, created.text
    contact = created.json
    assert created.header("Location") == f"/crm/contacts/{contact['id']}"
    assert {k: contact[k] for k in body} == body
    assert call(tenant.agent, "GET", CONTACT, {"contact_id": contact["id"]}).json == contact


def test_contacts_are_listed_for_the_tenant_or_for_one_client(tenant: Tenant):
    initech, globex = tenant.client("Initech"), tenant.client("Globex")
    tenant.contact(initech["id"], "Peter")
    tenant.contact(initech["id"], "Milton")
    tenant.contact(globex["id"], "Hank")

    assert names(call(tenant.agent, "GET", CONTACTS)) == ["Hank", "Milton", "Peter"]
    assert names(call(tenant.agent, "GET", CONTACTS, query={"client_id": initech["id"]})) == ["Milton", "Peter"]


def test_a_contact_for_an_unknown_client_is_refused_on_that_field(tenant: Tenant):
    reply = call(tenant.agent, "POST", CONTACTS, body={"client_id": "01JNOSUCHCLIENT0000000000", "name": "Nobody"})

    assert "client_id" in reply.field_errors()
    assert names(call(tenant.agent, "GET", CONTACTS)) == []


def test_a_contact_for_a_client_of_another_tenant_is_refused(tenant: Tenant, new_tenant):
    elsewhere = new_tenant().client()

    reply = call(tenant.agent, "POST", CONTACTS, body={"client_id": elsewhere["id"], "name": "Spy"})

    assert "client_id" in reply.field_errors()


@pytest.mark.parametrize(
    ("change", "field"),
    [({"email": "not-an-email"}, "email"), ({"phone": "call me"}, "phone"), ({"name": ""}, "name")],
    ids=["email", "phone", "name"],
)
def test_an_invalid_contact_is_refused_with_the_offending_field(tenant: Tenant, change, field):
    client = tenant.client()

    reply = call(tenant.agent, "POST", CONTACTS, body={"client_id": client["id"], "name": "Peter", **change})

    assert field in reply.field_errors()


# ---- the portal's view -------------------------------------------------------------------------


@pytest.fixture
def crm_scene(tenant: Tenant):
    own, other = tenant.client("Own"), tenant.client("Other")
    return {
        "portal": tenant.portal_user(own["id"]),
        "own": own,
        "other": other,
        "own_contact": tenant.contact(own["id"], "Own person"),
        "other_contact": tenant.contact(other["id"], "Other person"),
    }


def test_a_portal_user_sees_only_their_own_client(crm_scene):
    portal = crm_scene["portal"]

    listed = call(portal, "GET", CLIENTS)
    own = call(portal, "GET", CLIENT, {"client_id": crm_scene["own"]["id"]})

    assert [c["id"] for c in listed.json["items"]] == [crm_scene["own"]["id"]]
    assert own.json == crm_scene["own"]


def test_a_portal_user_cannot_read_another_client(crm_scene):
    other = crm_scene["other"]

    reply = call(crm_scene["portal"], "GET", CLIENT, {"client_id": other["id"]})

    reply.problem(404)
    assert other["name"] not in reply.text


def test_a_portal_user_sees_only_their_clients_contacts(crm_scene):
    portal = crm_scene["portal"]

    assert names(call(portal, "GET", CONTACTS)) == ["Own person"]
    assert names(call(portal, "GET", CONTACTS, query={"client_id": crm_scene["other"]["id"]})) == ["Own person"]
    own = call(portal, "GET", CONTACT, {"contact_id": crm_scene["own_contact"]["id"]})
    assert own.json == crm_scene["own_contact"]


def test_a_portal_user_cannot_read_a_contact_of_another_client(crm_scene):
    other = crm_scene["other_contact"]

    reply = call(crm_scene["portal"], "GET", CONTACT, {"contact_id": other["id"]})

    reply.problem(404)
    assert other["name"] not in reply.text


@pytest.mark.parametrize(
    ("template", "body"), [(CLIENTS, {"name": "Mine"}), (CONTACTS, {"name": "Me"})], ids=["client", "contact"]
)
def test_a_portal_user_cannot_create_clients_or_contacts(tenant: Tenant, crm_scene, template, body):
    if template == CONTACTS:
        body = {**body, "client_id": crm_scene["own"]["id"]}

    reply = call(crm_scene["portal"], "POST", template, body=body)

    reply.problem(403)
    assert names(call(tenant.agent, "GET", CLIENTS)) == ["Other", "Own"]
    assert names(call(tenant.agent, "GET", CONTACTS)) == ["Other person", "Own person"]
