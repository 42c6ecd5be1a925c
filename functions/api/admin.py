"""Tenant administration: /admin/users… (managers), /admin/settings (read: staff; write: managers) and
/admin/branding (what the portal shows of them: every user)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query

from functions.api.core import Api
from functions.api.core.params import Cursor, Limit, UserId
from functions.api.core.responses import page_out, tagged
from shared import directory, tenants
from shared.admin import users
from shared.admin.users import NewUser, RoleChange, UserOut
from shared.caller import MANAGERS, STAFF, STAFF_PORTAL, Role
from shared.db.pages import DEFAULT_LIMIT
from shared.schemas import PageOut
from shared.tenants import BrandingOut, SettingsOut, SettingsUpdate

api = Api("admin")


# ---- users -------------------------------------------------------------------------------------


@api.get("/admin/users", roles=MANAGERS, summary="List the tenant's users by email, or those of one role")
def list_users(
    role: Annotated[Role | None, Query()] = None, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[UserOut]:
    return page_out(directory.page(api.caller(), role=role, limit=limit, cursor=cursor), UserOut)


@api.post(
    "/admin/users",
    roles=MANAGERS,
    cognito=("invite",),
    mail=True,
    summary="Invite a manager, staff or portal user (emailed a temporary password)",
    responses={201: {"description": "Invited"}},
)
def invite_user(body: Annotated[NewUser, Body()]) -> Response[UserOut]:
    made = api.create_once("InviteUser", body, lambda: UserOut.of(users.invite(api.caller(), body)))
    return api.created(f"/admin/users/{made['id']}", made)


@api.get("/admin/users/<user_id>", roles=MANAGERS, summary="Get a user")
def get_user(user_id: UserId) -> Response[UserOut]:
    return tagged(UserOut.of(directory.get(api.caller(), user_id)))


@api.put(
    "/admin/users/<user_id>/role",
    roles=MANAGERS,
    cognito=("regroup",),
    summary="Make a user a manager or staff (optimistic locking; not the last active manager)",
)
def change_user_role(user_id: UserId, body: Annotated[RoleChange, Body()]) -> Response[UserOut]:
    return tagged(UserOut.of(users.change_role(api.caller(), user_id, body, api.if_match())))


@api.post(
    "/admin/users/<user_id>/deactivate",
    roles=MANAGERS,
    cognito=("disable",),
    summary="Deactivate a user: no more sign-ins; its tokens refused within minutes (not the last manager)",
)
def deactivate_user(user_id: UserId) -> Response[UserOut]:
    return tagged(UserOut.of(users.deactivate(api.caller(), user_id, api.if_match())))


@api.post("/admin/users/<user_id>/reactivate", roles=MANAGERS, cognito=("enable",), summary="Reactivate a user")
def reactivate_user(user_id: UserId) -> Response[UserOut]:
    return tagged(UserOut.of(users.reactivate(api.caller(), user_id, api.if_match())))


# ---- settings ----------------------------------------------------------------------------------


@api.get("/admin/settings", roles=STAFF, summary="The tenant's settings")
def get_settings() -> Response[SettingsOut]:
    return tagged(tenants.settings_of(api.caller()))


@api.get("/admin/branding", roles=STAFF_PORTAL, summary="The firm's name and colour, as the web app shows them")
def get_branding() -> BrandingOut:
    return tenants.branding_of(api.caller())


@api.put("/admin/settings", roles=MANAGERS, summary="Replace the tenant's settings (optimistic locking)")
def replace_settings(body: Annotated[SettingsUpdate, Body()]) -> Response[SettingsOut]:
    return tagged(tenants.replace_settings(api.caller(), body, api.if_match()))


handler = api.handler
