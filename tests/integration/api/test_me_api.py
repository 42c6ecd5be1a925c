"""GET /me: who the token says the caller is."""

from __future__ import annotations

import pytest

from shared.caller import Role
from tests.integration.api.harness import Tenant, User, api_event, call, invoke


@pytest.mark.parametrize(
    ("role", "roles"),
    [("manager", ["managers", "staff"]), ("agent", ["staff"]), ("portal", ["portal"])],
)
def test_me_tells_each_role_its_tenant_roles_and_client(tenant: Tenant, role, roles):
    client_id = tenant.client()["id"]
    user = {"manager": tenant.manager, "agent": tenant.agent, "portal": tenant.portal_user(client_id)}[role]

    reply = call(user, "GET", "/me")

    assert reply.status == 200, reply.text
    assert reply.json == {
        "tenant_id": tenant.id,
        "user_id": user.user_id,
        "username": user.email,
        "email": user.email,
        "roles": roles,
        "client_id": client_id if role == "portal" else None,
    }


def test_me_reads_groups_flattened_by_api_gateway(tenant: Tenant):
    # API Gateway's Cognito authorizer hands a user in two groups as one string
    user = tenant.user("both", Role.MANAGERS)
    claims = {**user.claims(), "cognito:groups": "[managers staff]"}

    reply = invoke(api_event("GET", "/me", claims=claims))

    assert reply.json["roles"] == ["managers", "staff"]


def test_a_portal_user_without_a_client_account_is_refused(tenant: Tenant):
    orphan = User(tenant.id, "orphan", ("portal",))

    call(orphan, "GET", "/me").problem(403)


def test_a_token_without_a_tenant_is_refused(tenant: Tenant):
    claims = tenant.agent.claims()
    del claims["custom:tenant_id"]

    invoke(api_event("GET", "/me", claims=claims)).problem(403)


def test_a_request_without_a_token_is_unauthorized(tenant: Tenant):
    call(None, "GET", "/me").problem(401)
