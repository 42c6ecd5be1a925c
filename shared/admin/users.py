"""Tenant administration of users: invite a manager, staff or portal user, give another role, deactivate,
reactivate. Each is the directory (``shared.directory``: the truth, and its invariants) and the identity
provider (``shared.admin.identity``: who may sign in, with which groups) kept in step: the directory's
change is made first, where a refusal (the last manager, a stale version) costs nothing, and undone if the
identity provider then fails, so nothing is left half-made.

An invited user gets an email with a temporary password (never stored: it is sent from the request that
made it) and chooses a new one at first sign-in. The operator's ``deskos user create`` goes through
``invite`` too, with a permanent password and no email.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Literal

from pydantic import Field

from shared import directory, mail, sessions, tenants
from shared.admin import identity
from shared.caller import Role, TenantContext
from shared.crm.clients import Client
from shared.db.entities import expect_version
from shared.db.errors import storage_errors
from shared.db.table import get_or_none
from shared.directory import UserProfile
from shared.errors import Conflict, Unprocessable
from shared.schemas import Email, Id, Name, Out, Strict, Versioned
from shared.settings import public_url

TEMPORARY_PASSWORD_DAYS = 3  # the pool's temporary password validity (infra/cdk/auth.py)
UNDELIVERABLE = frozenset({"InvalidParameterValue", "MessageRejected"})  # SES on an address it will not send to


class NewUser(Strict):
    email: Email
    name: Name
    role: Role
    client_id: Id | None = Field(default=None, description="Portal users only (required): their client account.")


class RoleChange(Versioned):
    role: Literal["managers", "staff"] = Field(description="A portal user keeps its role: invite staff anew.")


class UserOut(Out):
    id: str
    email: str
    name: str
    role: Role
    client_id: str | None
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, profile: UserProfile) -> UserOut:
        return cls(
            id=profile.user_id,
            email=profile.email,
            name=profile.name,
            role=Role(profile.role),
            client_id=profile.client_id,
            active=profile.active,
            created_at=profile.created_at,
            updated_at=profile.updated_at or profile.created_at,
            version=int(profile.version),
        )


def invite(ctx: TenantContext, body: NewUser, *, password: str | None = None) -> UserProfile:
    """A new user of the caller's tenant: emailed a temporary password, or (the operator) given ``password``."""
    _check_client(ctx, body)
    temporary = identity.temporary_password()
    user_id = identity.create_user(
        email=body.email,
        name=body.name,
        tenant_id=ctx.tenant_id,
        role=body.role,
        client_id=body.client_id,
        password=temporary,
    )
    undo: list[Callable[[], None]] = [lambda: identity.delete_user(body.email)]
    profile = directory.new_profile(
        ctx.tenant_id,
        user_id=user_id,
        username=body.email,
        email=body.email,
        name=body.name,
        role=body.role,
        client_id=body.client_id,
        actor=ctx.user_id,
    )
    with _undone_on_failure(undo):
        directory.add(profile)
        undo.append(lambda: directory.remove(profile))
        if password is not None:
            identity.set_permanent_password(body.email, password)
        else:
            _send_invitation(ctx, profile, temporary)
    return profile


def change_role(ctx: TenantContext, user_id: str, body: RoleChange, if_match: int | None) -> UserProfile:
    profile = directory.get(ctx, user_id)
    expect_version(profile, body.version, if_match)
    old, new = Role(profile.role), Role(body.role)
    if old is Role.PORTAL:
        raise Unprocessable.field("role", "A portal user is a client's: it keeps its role; invite staff anew.")
    if old is new:
        return profile
    directory.change(ctx, profile, role=new)
    with _undone_on_failure([lambda: directory.change(ctx, profile, role=old)]):
        identity.move_to_group(profile.username, old, new)
    sessions.forget_tenant(ctx.tenant_id)
    return profile


def deactivate(ctx: TenantContext, user_id: str, if_match: int | None) -> UserProfile:
    profile = directory.get(ctx, user_id)
    expect_version(profile, if_match, required=False)
    if not profile.active:
        raise Conflict("The user is already deactivated.", current_status="deactivated")
    directory.change(ctx, profile, active=False)
    with _undone_on_failure([lambda: directory.change(ctx, profile, active=True)]):
        identity.disable(profile.username)
    sessions.forget_tenant(ctx.tenant_id)
    return profile


def reactivate(ctx: TenantContext, user_id: str, if_match: int | None) -> UserProfile:
    profile = directory.get(ctx, user_id)
    expect_version(profile, if_match, required=False)
    if profile.active:
        raise Conflict("The user is active.", current_status="active")
    directory.change(ctx, profile, active=True)
    with _undone_on_failure([lambda: directory.change(ctx, profile, active=False)]):
        identity.enable(profile.username)
    return profile


# ---- helpers -----------------------------------------------------------------------------------


def _check_client(ctx: TenantContext, body: NewUser) -> None:
    """Before anything is made: a portal user names a client of the tenant (another tenant's is no client of
    this one: its key holds the caller's tenant); no one else names one. The directory checks it again, in
    its transaction, against a client deleted meanwhile."""
    if body.role is not Role.PORTAL:
        if body.client_id is not None:
            raise Unprocessable.field("client_id", "Only portal users belong to a client account.")
        return
    if body.client_id is None:
        raise Unprocessable.field("client_id", "A portal user needs the client account it belongs to.")
    with storage_errors():
        if get_or_none(Client, Client.key(ctx.tenant_id, body.client_id)) is None:
            raise Unprocessable.field("client_id", "No such client.")


@contextmanager
def _undone_on_failure(undo: list[Callable[[], None]]) -> Iterator[None]:
    """Runs ``undo`` (last first) if the block fails, then lets the failure go on."""
    try:
        yield
    except BaseException:
        for step in reversed(undo):
            step()
        raise


def _send_invitation(ctx: TenantContext, profile: UserProfile, temporary: str) -> None:
    tenant = tenants.find(ctx.tenant_id)
    firm = tenant.name if tenant else ctx.tenant_id
    body = (
        f"Hello {profile.name},\n\n"
        f"You have been invited to {firm} on DeskOS ({profile.role}).\n\n"
        f"Sign in at {public_url()}/app/sign-in with\n"
        f"  email:              {profile.email}\n"
        f"  temporary password: {temporary}\n\n"
        f"You will be asked to choose your own password. The temporary one expires in "
        f"{TEMPORARY_PASSWORD_DAYS} days; ask {firm} for a new invitation after that.\n"
    )
    from botocore.exceptions import ClientError

    try:
        mail.send([profile.email], f"Your DeskOS account at {firm}", body)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in UNDELIVERABLE:
            raise
        raise Unprocessable.field("email", "This address cannot receive email.") from None
