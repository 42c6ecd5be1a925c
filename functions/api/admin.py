"""Tenant administration: /admin/users… (managers) and /admin/settings (read: staff; write: managers)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from functions.api.core import Api
from shared import directory, tenants
from shared.admin import users
from shared.admin.users import NewUser, RoleChange, UserOut
from shared.caller import MANAGERS, STAFF, Role
from shared.db.pages import DEFAULT_LIMIT, MAX_LIMIT
from shared.schemas import ID_PATTERN, PageOut
from shared.tenants import SettingsOut, SettingsUpdate

api = Api("admin")
UserId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=2048)]


def _etag(model, version: int) -> Response:
    return Response(200, "application/json", model, headers={"ETag": f'"{version}"'})


def _user(profile) -> Response[UserOut]:
    return _etag(UserOut.of(profile), profile.current_version)


# ---- users -------------------------------------------------------------------------------------


@api.get("/admin/users", roles=MANAGERS, summary="List the tenant's users by email, or those of one role")
def list_users(
    role: Annotated[Role | None, Query()] = None, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[UserOut]:
    page = directory.page(api.caller(), role=role, limit=limit, cursor=cursor)
    return PageOut[UserOut](items=[UserOut.of(p) for p in page.items], next_cursor=page.next_cursor)


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
    return _user(directory.get(api.caller(), user_id))


@api.put(
    "/admin/users/<user_id>/role",
    roles=MANAGERS,
    cognito=("regroup",),
    summary="Make a user a manager or staff (optimistic locking; not the last active manager)",
)
def change_user_role(user_id: UserId, body: Annotated[RoleChange, Body()]) -> Response[UserOut]:
    return _user(users.change_role(api.caller(), user_id, body, api.if_match()))


@api.post(
    "/admin/users/<user_id>/deactivate",
    roles=MANAGERS,
    cognito=("disable",),
    summary="Deactivate a user: no more sign-ins; its tokens refused within minutes (not the last manager)",
)
def deactivate_user(user_id: UserId) -> Response[UserOut]:
    return _user(users.deactivate(api.caller(), user_id, api.if_match()))


@api.post("/admin/users/<user_id>/reactivate", roles=MANAGERS, cognito=("enable",), summary="Reactivate a user")
def reactivate_user(user_id: UserId) -> Response[UserOut]:
    return _user(users.reactivate(api.caller(), user_id, api.if_match()))


# ---- settings ----------------------------------------------------------------------------------


@api.get("/admin/settings", roles=STAFF, summary="The tenant's settings")
def get_settings() -> Response[SettingsOut]:
    out = tenants.settings_of(api.caller())
    return _etag(out, out.version)


@api.put("/admin/settings", roles=MANAGERS, summary="Replace the tenant's settings (optimistic locking)")
def replace_settings(body: Annotated[SettingsUpdate, Body()]) -> Response[SettingsOut]:
    out = tenants.replace_settings(api.caller(), body, api.if_match())
    return _etag(out, out.version)


handler = api.handler
