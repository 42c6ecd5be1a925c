"""Tenant administration: /admin/users (invite, list, get, change role, deactivate, reactivate) and
/admin/settings, through the route handlers against moto's DynamoDB, Cognito and SES."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest

from infra.local import outbox
from shared import directory, sessions
from shared.admin import users
from shared.admin.users import RoleChange
from shared.caller import Role, TenantContext
from shared.errors import Conflict
from tests.integration.api.harness import Tenant, User, call


def email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.test"


def invite(tenant: Tenant, role: str = "staff", **fields: Any) -> dict[str, Any]:
    reply = call(
        tenant.manager, "POST", "/admin/users", body={"email": email(), "name": "Nia New", "role": role, **fields}
    )
    assert reply.status == 201, reply.text
    return reply.json


def as_user(tenant: Tenant, made: dict[str, Any], *, issued_at: str = "Sun Nov 22 00:00:00 UTC 2026") -> dict:
    """The claims API Gateway would pass for the invited user's token, issued at ``issued_at``."""
    user = User(tenant.id, made["email"], (made["role"],), client_id=made["client_id"], user_id=made["id"])
    return {**user.claims(), "iat": issued_at}


def cognito_user(module_cloud, username: str) -> dict[str, Any]:
    cognito = module_cloud.client("cognito-idp")
    pool = module_cloud.resources.user_pool_id
    found = cognito.admin_get_user(UserPoolId=pool, Username=username)
    groups = cognito.admin_list_groups_for_user(UserPoolId=pool, Username=username)["Groups"]
    attributes = {a["Name"]: a["Value"] for a in found["UserAttributes"]}
    return {**attributes, "enabled": found["Enabled"], "groups": sorted(g["GroupName"] for g in groups)}


def assert_no_cognito_user(module_cloud, username: str) -> None:
    cognito = module_cloud.client("cognito-idp")
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=module_cloud.resources.user_pool_id, Username=username)


def manager_ctx(tenant: Tenant) -> TenantContext:
    manager = tenant.manager
    return TenantContext(tenant.id, manager.user_id, manager.username, frozenset({Role.MANAGERS, Role.STAFF}))


@pytest.fixture
def firm(module_cloud) -> Tenant:
    """A tenant whose one manager was invited the way every user is (and so is counted); its agent has no
    profile, so the directory holds only whom a test invites."""
    tenant = Tenant(profiles=False)
    made = invite(tenant, "managers")
    tenant.manager = User(tenant.id, made["email"], ("managers",), user_id=made["id"])
    return tenant


# ---- invite ------------------------------------------------------------------------------------


def test_a_manager_invites_a_staff_user_who_gets_a_cognito_user_a_profile_and_an_email(module_cloud, firm):
    address = email()
    reply = call(firm.manager, "POST", "/admin/users", body={"email": address, "name": "Sam Staff", "role": "staff"})

    assert reply.status == 201, reply.text
    user = reply.json
    assert reply.header("Location") == f"/admin/users/{user['id']}"
    assert {k: user[k] for k in ("email", "name", "role", "client_id", "active", "version")} == {
        "email": address,
        "name": "Sam Staff",
        "role": "staff",
        "client_id": None,
        "active": True,
        "version": 1,
    }
    made = cognito_user(module_cloud, address)
    assert (made["sub"], made["custom:tenant_id"], made["enabled"], made["groups"]) == (
        user["id"],
        firm.id,
        True,
        ["staff"],
    )
    sent = [m for m in outbox.messages(module_cloud.server.url) if address in m["destinations"]["ToAddresses"]]
    assert len(sent) == 1 and "temporary password" in sent[0]["body"]


def test_a_portal_user_is_invited_for_a_client_of_the_tenant(module_cloud, firm):
    client = firm.client()
    made = invite(firm, "portal", client_id=client["id"])

    assert made["client_id"] == client["id"]
    assert cognito_user(module_cloud, made["email"])["custom:client_id"] == client["id"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": "portal"}, "needs the client account"),
        ({"role": "portal", "client_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ"}, "No such client"),
        ({"role": "staff", "client_id": "01HZZZZZZZZZZZZZZZZZZZZZZZ"}, "Only portal users"),
    ],
)
def test_a_client_id_is_required_for_portal_users_only_and_must_exist(module_cloud, firm, fields, message):
    address = email()
    reply = call(firm.manager, "POST", "/admin/users", body={"email": address, "name": "X", **fields})

    assert message in reply.field_errors()["client_id"]
    assert_no_cognito_user(module_cloud, address)


def test_another_tenants_client_is_no_client_and_nothing_is_made(module_cloud, firm):
    other = Tenant()
    theirs = other.client()
    address = email()

    reply = call(
        firm.manager,
        "POST",
        "/admin/users",
        body={"email": address, "name": "X", "role": "portal", "client_id": theirs["id"]},
    )

    assert reply.field_errors() == {"client_id": "No such client."}
    assert_no_cognito_user(module_cloud, address)


def test_an_address_the_mail_service_refuses_is_a_422_and_nothing_is_left_made(module_cloud, firm):
    address = f"a,{uuid.uuid4().hex[:8]}@example.test"  # a shape the API and Cognito take, SES does not

    reply = call(firm.manager, "POST", "/admin/users", body={"email": address, "name": "X", "role": "staff"})

    assert reply.field_errors() == {"email": "This address cannot receive email."}
    assert_no_cognito_user(module_cloud, address)
    assert call(firm.manager, "GET", "/admin/users", query={"role": "staff"}).json["items"] == []


def test_an_email_already_in_use_is_a_conflict(module_cloud, firm):
    made = invite(firm)
    again = call(firm.manager, "POST", "/admin/users", body={"email": made["email"], "name": "Y", "role": "staff"})
    again.problem(409)


def test_an_invitation_retried_with_its_idempotency_key_makes_one_user(module_cloud, firm):
    body, key = {"email": email(), "name": "Once", "role": "staff"}, {"Idempotency-Key": uuid.uuid4().hex}
    first = call(firm.manager, "POST", "/admin/users", body=body, headers=key)
    second = call(firm.manager, "POST", "/admin/users", body=body, headers=key)
    assert (first.status, second.status) == (201, 201) and first.json == second.json


def test_staff_may_not_invite(module_cloud, firm):
    call(firm.agent, "POST", "/admin/users", body={"email": email(), "name": "X", "role": "staff"}).problem(403)


# ---- list and get ------------------------------------------------------------------------------


def test_users_are_listed_by_role_in_pages(module_cloud, firm):
    staff = sorted(invite(firm)["email"] for _ in range(3))

    seen, cursor = [], None
    while True:
        query = {"role": "staff", "limit": "2", **({"cursor": cursor} if cursor else {})}
        reply = call(firm.manager, "GET", "/admin/users", query=query)
        assert reply.status == 200, reply.text
        assert len(reply.json["items"]) <= 2
        seen += [u["email"] for u in reply.json["items"]]
        cursor = reply.json["next_cursor"]
        if not cursor:
            break

    assert seen == staff
    everyone = call(firm.manager, "GET", "/admin/users").json["items"]
    assert {u["role"] for u in everyone} == {"managers", "staff"} and len(everyone) == 4


def test_a_cursor_of_another_role_is_refused(module_cloud, firm):
    invite(firm), invite(firm)
    cursor = call(firm.manager, "GET", "/admin/users", query={"role": "staff", "limit": "1"}).json["next_cursor"]
    call(firm.manager, "GET", "/admin/users", query={"role": "managers", "cursor": cursor}).problem(400)


def test_a_user_is_read_with_its_version(module_cloud, firm):
    made = invite(firm)
    reply = call(firm.manager, "GET", "/admin/users/{user_id}", {"user_id": made["id"]})
    assert reply.status == 200 and reply.json == made and reply.header("ETag") == '"1"'
    call(firm.manager, "GET", "/admin/users/{user_id}", {"user_id": "nobody"}).problem(404)


# ---- roles -------------------------------------------------------------------------------------


def test_a_staff_user_is_promoted_with_its_version_and_its_group_follows(module_cloud, firm):
    made = invite(firm)
    path = {"user_id": made["id"]}

    reply = call(firm.manager, "PUT", "/admin/users/{user_id}/role", path, body={"role": "managers", "version": 1})

    assert reply.status == 200, reply.text
    assert (reply.json["role"], reply.json["version"]) == ("managers", 2)
    assert cognito_user(module_cloud, made["email"])["groups"] == ["managers"]
    stale = call(firm.manager, "PUT", "/admin/users/{user_id}/role", path, body={"role": "staff", "version": 1})
    assert stale.problem(409)["current_version"] == 2
    assert (
        "version"
        in call(firm.manager, "PUT", "/admin/users/{user_id}/role", path, body={"role": "staff"}).field_errors()
    )


def test_a_portal_user_keeps_its_role(module_cloud, firm):
    made = invite(firm, "portal", client_id=firm.client()["id"])
    reply = call(
        firm.manager,
        "PUT",
        "/admin/users/{user_id}/role",
        {"user_id": made["id"]},
        body={"role": "staff", "version": 1},
    )
    assert "role" in reply.field_errors()


def test_the_last_active_manager_cannot_be_demoted_or_deactivated(module_cloud, firm):
    path = {"user_id": firm.manager.user_id}

    demoted = call(firm.manager, "PUT", "/admin/users/{user_id}/role", path, body={"role": "staff", "version": 1})
    deactivated = call(firm.manager, "POST", "/admin/users/{user_id}/deactivate", path)

    assert "last active manager" in demoted.problem(409)["detail"]
    assert "last active manager" in deactivated.problem(409)["detail"]
    assert cognito_user(module_cloud, firm.manager.username)["groups"] == ["managers"]
    # with a second manager, the first may step down
    invite(firm, "managers")
    assert (
        call(firm.manager, "PUT", "/admin/users/{user_id}/role", path, body={"role": "staff", "version": 1}).status
        == 200
    )


def test_two_managers_demoting_each_other_at_once_leave_one_manager(module_cloud, firm):
    second = invite(firm, "managers")
    ids = [firm.manager.user_id, second["id"]]
    outcomes: list[str] = []

    def demote(user_id: str) -> None:
        ctx = manager_ctx(firm)
        try:
            users.change_role(ctx, user_id, RoleChange(role="staff", version=1), None)
            outcomes.append("demoted")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=demote, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["demoted", "refused"]
    managers = directory.page(manager_ctx(firm), role=Role.MANAGERS, limit=10, cursor=None).items
    assert len(managers) == 1


# ---- deactivate and reactivate -----------------------------------------------------------------


def test_a_deactivated_user_cannot_sign_in_and_its_earlier_token_is_refused(module_cloud, firm):
    made = invite(firm)
    token = as_user(firm, made)
    assert call(token, "GET", "/me").status == 200

    reply = call(firm.manager, "POST", "/admin/users/{user_id}/deactivate", {"user_id": made["id"]})

    assert reply.status == 200 and reply.json["active"] is False and reply.json["version"] == 2
    assert cognito_user(module_cloud, made["email"])["enabled"] is False
    assert "session has ended" in call(token, "GET", "/me").problem(401)["detail"]
    call(firm.manager, "POST", "/admin/users/{user_id}/deactivate", {"user_id": made["id"]}).problem(409)


def test_a_warm_container_refuses_an_earlier_token_once_its_view_is_older_than_the_check_interval(
    module_cloud, firm, monkeypatch
):
    # Given a container that has just read the tenant's revocations (none) and serves the user's token
    made = invite(firm)
    token = as_user(firm, made)
    assert call(token, "GET", "/me").status == 200
    clock = [1_000_000.0]
    monkeypatch.setattr(sessions.time, "monotonic", lambda: clock[0])
    sessions.forget()
    assert call(token, "GET", "/me").status == 200

    # When another container deactivates the user (this one's view is not told)
    users.deactivate(manager_ctx(firm), made["id"], None)
    sessions._revoked[firm.id] = (clock[0], {})

    # Then the token works until the view is as old as the check interval, and is refused from then on
    interval = sessions.settings().session_check_seconds
    clock[0] += interval - 1
    assert call(token, "GET", "/me").status == 200
    clock[0] += 1
    call(token, "GET", "/me").problem(401)


def test_requests_read_the_tenants_revocations_once_per_check_interval_not_per_request(module_cloud, firm, monkeypatch):
    # Given a container that has not seen the tenant yet, and a count of its reads of revocations
    reads: list[str] = []
    real = sessions.revocations_since
    monkeypatch.setattr(
        sessions, "revocations_since", lambda tenant_id, since: reads.append(tenant_id) or real(tenant_id, since)
    )
    sessions.forget()

    # When the tenant's users make several requests within the interval
    for user in (firm.manager, firm.agent, firm.manager):
        assert call(user, "GET", "/admin/settings").status == 200

    # Then the revocations were read once
    assert reads == [firm.id]


def test_a_reactivated_user_signs_in_again_and_is_served(module_cloud, firm):
    made = invite(firm)
    path = {"user_id": made["id"]}
    call(firm.manager, "POST", "/admin/users/{user_id}/deactivate", path)

    reply = call(firm.manager, "POST", "/admin/users/{user_id}/reactivate", path)

    assert reply.status == 200 and reply.json["active"] is True
    assert cognito_user(module_cloud, made["email"])["enabled"] is True
    call(as_user(firm, made), "GET", "/me").problem(401)  # the old token stays refused
    fresh = as_user(firm, made, issued_at=str(int(time.time()) + 2))
    assert call(fresh, "GET", "/me").status == 200
    call(firm.manager, "POST", "/admin/users/{user_id}/reactivate", path).problem(409)


def test_a_demoted_managers_earlier_token_is_refused(module_cloud, firm):
    second = invite(firm, "managers")
    token = as_user(firm, second)
    assert call(token, "GET", "/admin/users").status == 200

    call(
        firm.manager,
        "PUT",
        "/admin/users/{user_id}/role",
        {"user_id": second["id"]},
        body={"role": "staff", "version": 1},
    )

    call(token, "GET", "/admin/users").problem(401)


# ---- settings ----------------------------------------------------------------------------------

SETTINGS = {
    "name": "Globex",
    "time_zone": "America/New_York",
    "business_hours": [{"day": "mon", "start": "08:00", "end": "16:00"}],
    "attachment_limit_bytes": 10 * 1024 * 1024,
    "email_sender": "help@globex.example",
    "branding": {"display_name": "Globex Help", "colour": "#0a7cff"},
    "onboarding_reminder_every_days": 2,
}


def test_settings_are_read_by_staff_and_replaced_by_managers_with_their_version(module_cloud, firm):
    read = call(firm.agent, "GET", "/admin/settings")
    assert read.status == 200 and read.header("ETag") == '"1"'
    assert (read.json["time_zone"], read.json["attachment_limit_bytes"]) == ("UTC", 25 * 1024 * 1024)

    call(firm.agent, "PUT", "/admin/settings", body={**SETTINGS, "version": 1}).problem(403)
    replaced = call(firm.manager, "PUT", "/admin/settings", body={**SETTINGS, "version": 1})

    assert replaced.status == 200, replaced.text
    assert replaced.json | {"updated_at": None} == {**SETTINGS, "tenant_id": firm.id, "version": 2, "updated_at": None}
    assert call(firm.agent, "GET", "/admin/settings").json == replaced.json
    stale = call(firm.manager, "PUT", "/admin/settings", body={**SETTINGS, "version": 1})
    assert stale.problem(409)["current_version"] == 2
    assert "version" in call(firm.manager, "PUT", "/admin/settings", body=SETTINGS).field_errors()
    by_header = call(firm.manager, "PUT", "/admin/settings", body=SETTINGS, headers={"If-Match": '"2"'})
    assert by_header.status == 200 and by_header.json["version"] == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"attachment_limit_bytes": 1}, "attachment_limit_bytes"),
        ({"attachment_limit_bytes": 6 * 1024**3}, "attachment_limit_bytes"),
        ({"email_sender": "not an address"}, "email_sender"),
        ({"branding": {"colour": "blue"}}, "branding.colour"),
        ({"business_hours": [{"day": "mon", "start": "17:00", "end": "09:00"}]}, "business_hours.0"),
        ({"name": ""}, "name"),
    ],
)
def test_settings_are_validated_field_by_field(module_cloud, firm, change, field):
    reply = call(firm.manager, "PUT", "/admin/settings", body={**SETTINGS, **change, "version": 1})
    assert field in reply.field_errors(), reply.text


def test_the_tenants_time_zone_and_hours_are_a_new_sla_policys_default_calendar(module_cloud, firm):
    call(firm.manager, "PUT", "/admin/settings", body={**SETTINGS, "version": 1})

    policy = call(
        firm.manager,
        "POST",
        "/support/sla-policies",
        body={"name": "Default", "targets": {"normal": {"resolution": 60}}},
    )

    assert policy.status == 201, policy.text
    assert policy.json["calendar"] == {
        "time_zone": "America/New_York",
        "always_open": False,
        "windows": [{"day": "mon", "start": "08:00", "end": "16:00"}],
        "holidays": [],
    }


def test_the_attachment_limit_from_settings_is_what_uploads_are_checked_against(module_cloud, firm):
    call(firm.manager, "PUT", "/admin/settings", body={**SETTINGS, "attachment_limit_bytes": 1024 * 1024, "version": 1})
    ticket = firm.ticket()
    body = {"original_filename": "big.txt", "content_type": "text/plain", "size": 2 * 1024 * 1024}

    reply = call(firm.agent, "POST", "/support/tickets/{ticket_id}/attachments", {"ticket_id": ticket["id"]}, body=body)

    assert reply.status == 413, reply.text
