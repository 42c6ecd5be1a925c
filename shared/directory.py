"""The tenant's user directory: a profile per Cognito user, so domain rules (an assignee must be
staff of the tenant) are checked with one keyed read instead of a call to the identity provider.

Keys: the profile ``T#<t>#USER#<id>`` / ``USER``; every user of the tenant by username on GSI1
``T#<t>#USERS``; the users of one role on GSI2 ``T#<t>#USERS#<role>``; and, sparse, the users whose
sessions were revoked (deactivated, or given another role) on GSI3 ``T#<t>#SIGNOUTS`` by the instant of
revocation, which ``shared.sessions`` reads. The tenant's active managers are counted in one item
(``T#<t>#MANAGERS`` / ``COUNT``) that moves in the same transaction as the profile whose change moves it,
conditioned on leaving at least one: the last active manager cannot be demoted or deactivated, even by
two managers demoting each other at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError

from shared.caller import Role, TenantContext
from shared.clock import iso, now
from shared.crm.clients import Client
from shared.db.entities import Requires
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import Item, get_or_none, tkey, transaction
from shared.errors import Conflict, NotFound, Unprocessable

LAST_MANAGER = "The tenant's last active manager cannot be demoted or deactivated; make another manager first."


class UserProfile(Item, discriminator="user"):
    noun: ClassVar[str] = "user"  # for the entity kit's version checks
    user_id = UnicodeAttribute()
    username = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    client_id = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    sessions_revoked_at = UTCDateTimeAttribute(null=True)  # tokens issued before are refused
    version = NumberAttribute(default=1)  # also what a profile made before users were administered reads

    @staticmethod
    def key(tenant_id: str, user_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "USER", user_id), "USER"

    @staticmethod
    def partition_of_all(tenant_id: str) -> str:
        return tkey(tenant_id, "USERS")

    @staticmethod
    def partition_of_role(tenant_id: str, role: str) -> str:
        return tkey(tenant_id, "USERS", role)

    @staticmethod
    def partition_of_signouts(tenant_id: str) -> str:
        return tkey(tenant_id, "SIGNOUTS")

    @property
    def is_staff(self) -> bool:
        return self.active and self.role in (Role.STAFF, Role.MANAGERS)

    @property
    def counts_as_manager(self) -> bool:
        return self.active and self.role == Role.MANAGERS


class ManagerCount(Item, discriminator="manager_count"):
    active_managers = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "MANAGERS"), "COUNT"


def active_staff(tenant_id: str, user_id: str, field: str) -> Requires:
    """A write that needs ``user_id`` to be an active staff user of the tenant (a 422 on ``field`` if not)."""
    return Requires(
        UserProfile,
        UserProfile.key(tenant_id, user_id),
        (UserProfile.active == True) & UserProfile.role.is_in("staff", "managers"),  # noqa: E712
        Unprocessable.field(field, "Not an active staff user of this tenant."),
    )


def new_profile(
    tenant_id: str,
    *,
    user_id: str,
    username: str,
    email: str,
    name: str,
    role: Role,
    client_id: str | None,
    actor: str,
) -> UserProfile:
    moment = now()
    return UserProfile(
        *UserProfile.key(tenant_id, user_id),
        tenant_id=tenant_id,
        user_id=user_id,
        username=username,
        email=email,
        name=name,
        role=str(role),
        client_id=client_id,
        active=True,
        created_at=moment,
        updated_at=moment,
        updated_by=actor,
        version=1,
        GSI1PK=UserProfile.partition_of_all(tenant_id),
        GSI1SK=username,
        GSI2PK=UserProfile.partition_of_role(tenant_id, str(role)),
        GSI2SK=username,
    )


def save_profile(tenant_id: str, **fields) -> UserProfile:
    """A profile written alone (tests and benchmarks set a scene with it; users are added with ``add``)."""
    profile = new_profile(tenant_id, **fields)
    profile.save()
    return profile


def add(profile: UserProfile) -> None:
    """Record a new user: a portal user's client must exist in the tenant; a manager counts."""
    tenant_id = profile.tenant_id
    try:
        with storage_errors(), transaction() as tx:
            tx.save(profile, condition=UserProfile.PK.does_not_exist())
            if profile.client_id is not None:
                tx.condition_check(Client, *Client.key(tenant_id, profile.client_id), condition=Client.PK.exists())
            if profile.counts_as_manager:
                _count(tx, tenant_id, +1)
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            raise Conflict("This user is already in the directory.") from None
        if profile.client_id is not None and cancelled_by_condition(error, 1):
            raise Unprocessable.field("client_id", "No such client.") from None
        raise


def remove(profile: UserProfile) -> None:
    """Undo ``add`` (an invitation that could not be completed)."""
    with storage_errors(), transaction() as tx:
        tx.delete(profile, condition=UserProfile.version == profile.version)
        if profile.counts_as_manager:
            _count(tx, profile.tenant_id, -1, at_least=0)


def get(ctx: TenantContext, user_id: str) -> UserProfile:
    with storage_errors():
        profile = get_or_none(UserProfile, UserProfile.key(ctx.tenant_id, user_id))
    if profile is None:
        raise NotFound("No such user.")
    return profile


def page(ctx: TenantContext, *, role: Role | None, limit: int, cursor: str | None) -> Page[UserProfile]:
    """The tenant's users by username, or those of one role: one Query of GSI1 or GSI2."""
    if role is None:
        index, partition, name = UserProfile.gsi1, UserProfile.partition_of_all(ctx.tenant_id), "users"
    else:
        index, partition, name = UserProfile.gsi2, UserProfile.partition_of_role(ctx.tenant_id, role), f"users:{role}"
    with storage_errors():
        return query_page(
            index.query, hash_key=partition, tenant_id=ctx.tenant_id, query_name=name, cursor=cursor, limit=limit
        )


def manager_emails(tenant_id: str) -> list[str]:
    """The active managers' addresses: one Query of the tenant's users (GSI1 holds profiles of every age)."""
    users = UserProfile.gsi1.query(
        UserProfile.partition_of_all(tenant_id), filter_condition=UserProfile.role == "managers"
    )
    return sorted({u.email for u in users if u.active})


def active_email(tenant_id: str, user_id: str | None) -> list[str]:
    """The address of the user ``user_id`` if it is active (one GetItem), else none."""
    with storage_errors():
        profile = get_or_none(UserProfile, UserProfile.key(tenant_id, user_id)) if user_id else None
    return [profile.email] if profile is not None and profile.active else []


def assignee_or_managers(tenant_id: str, assignee_id: str | None) -> list[str]:
    """Who hears about a ticket's events for staff: its active assignee, else the tenant's managers."""
    return active_email(tenant_id, assignee_id) or manager_emails(tenant_id)


def by_email(tenant_id: str, email: str) -> UserProfile | None:
    """The active user whose username is ``email`` (usernames are email addresses): one Query of GSI1."""
    with storage_errors():
        match = UserProfile.GSI1SK == email  # noqa: SIM300 (an attribute, not a constant)
        found = list(UserProfile.gsi1.query(UserProfile.partition_of_all(tenant_id), match, limit=1))
    return found[0] if found and isinstance(found[0], UserProfile) and found[0].active else None


def revocations_since(tenant_id: str, since: datetime) -> dict[str, datetime]:
    """user id -> when its sessions were last revoked, for revocations after ``since``: one Query."""
    partition = UserProfile.partition_of_signouts(tenant_id)
    with storage_errors():
        found = UserProfile.gsi3.query(partition, iso(since) <= UserProfile.GSI3SK)
        return {p.user_id: p.sessions_revoked_at for p in found if p.sessions_revoked_at is not None}


def change(ctx: TenantContext, profile: UserProfile, *, role: Role | None = None, active: bool | None = None) -> None:
    """Give the user another role, or (de)activate it, in one transaction with the manager count. The sessions
    of a user given another role or deactivated are revoked: its tokens name the role it had."""
    before, expected = profile.counts_as_manager, int(profile.version)
    unchanged = UserProfile.version == expected if expected > 1 else _first_version()
    moment = now()
    if role is not None:
        profile.role = str(role)
        profile.GSI2PK, profile.GSI2SK = UserProfile.partition_of_role(ctx.tenant_id, str(role)), profile.username
    if active is not None:
        profile.active = active
    if role is not None or active is False:
        profile.sessions_revoked_at = moment
        profile.GSI3PK = UserProfile.partition_of_signouts(ctx.tenant_id)
        profile.GSI3SK = f"{iso(moment)}#{profile.user_id}"
    profile.updated_at, profile.updated_by, profile.version = moment, ctx.user_id, expected + 1
    after = profile.counts_as_manager
    if before and not after:
        _ensure_count(ctx.tenant_id)
    try:
        with storage_errors(), transaction() as tx:
            tx.save(profile, condition=unchanged)
            if before != after:
                _count(tx, ctx.tenant_id, +1 if after else -1, at_least=1)
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            raise Conflict("The user changed meanwhile; reload and retry.") from None
        if cancelled_by_condition(error, 1):
            raise Conflict(LAST_MANAGER) from None
        raise


def _first_version():
    # a profile made before versions were kept has none: it is at version 1
    return UserProfile.PK.exists() & (UserProfile.version.does_not_exist() | (UserProfile.version == 1))


def _count(tx, tenant_id: str, delta: int, *, at_least: int = 0) -> None:
    """Move the active-manager count; a decrement must leave ``at_least``."""
    counter = ManagerCount(*ManagerCount.key(tenant_id))
    actions = [
        ManagerCount.active_managers.add(delta),
        ManagerCount.tenant_id.set(tenant_id),
        ManagerCount.entity.set(ManagerCount),
    ]
    condition = ManagerCount.active_managers > at_least if delta < 0 else None
    tx.update(counter, actions=actions, condition=condition)


def _ensure_count(tenant_id: str) -> None:
    """A tenant whose managers were added before they were counted gets its count (one Query, once)."""
    with storage_errors():
        if get_or_none(ManagerCount, ManagerCount.key(tenant_id)) is not None:
            return
        users = UserProfile.gsi1.query(UserProfile.partition_of_all(tenant_id))
        active = sum(1 for u in users if isinstance(u, UserProfile) and u.counts_as_manager)
    counter = ManagerCount(*ManagerCount.key(tenant_id), tenant_id=tenant_id, active_managers=active)
    with storage_errors("The manager count changed meanwhile; retry."):
        counter.save(condition=ManagerCount.PK.does_not_exist())
