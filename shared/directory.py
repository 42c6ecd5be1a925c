"""The tenant's user directory: a profile per Cognito user, so domain rules (an assignee must be
staff of the tenant) are checked with one keyed read instead of a call to the identity provider."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UTCDateTimeAttribute

from shared.caller import Role
from shared.clock import now
from shared.db.entities import Requires
from shared.db.table import Item, tkey
from shared.errors import Unprocessable


class UserProfile(Item, discriminator="user"):
    user_id = UnicodeAttribute()
    username = UnicodeAttribute()
    email = UnicodeAttribute()
    name = UnicodeAttribute()
    role = UnicodeAttribute()
    client_id = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(tenant_id: str, user_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "USER", user_id), "USER"

    @property
    def is_staff(self) -> bool:
        return self.active and self.role in (Role.STAFF, Role.MANAGERS)


def active_staff(tenant_id: str, user_id: str, field: str) -> Requires:
    """A write that needs ``user_id`` to be an active staff user of the tenant (a 422 on ``field`` if not)."""
    return Requires(
        UserProfile,
        UserProfile.key(tenant_id, user_id),
        (UserProfile.active == True) & UserProfile.role.is_in("staff", "managers"),  # noqa: E712
        Unprocessable.field(field, "Not an active staff user of this tenant."),
    )


def save_profile(
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
    pk, sk = UserProfile.key(tenant_id, user_id)
    profile = UserProfile(
        pk,
        sk,
        tenant_id=tenant_id,
        user_id=user_id,
        username=username,
        email=email,
        name=name,
        role=str(role),
        client_id=client_id,
        created_at=now(),
        updated_by=actor,
        GSI1PK=tkey(tenant_id, "USERS"),
        GSI1SK=username,
    )
    profile.save()
    return profile


def manager_emails(tenant_id: str) -> list[str]:
    """The active managers' addresses: one Query of the tenant's users."""
    users = UserProfile.gsi1.query(tkey(tenant_id, "USERS"), filter_condition=UserProfile.role == "managers")
    return sorted({u.email for u in users if u.active})
