"""Who is calling: built only from verified token claims, passed down as a value."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from shared.errors import Forbidden, Unauthorized

_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


class Role(StrEnum):
    MANAGERS = "managers"
    STAFF = "staff"
    PORTAL = "portal"


# managers ⊃ staff: a manager may do everything a staff agent may.
_IMPLIES = {Role.MANAGERS: {Role.MANAGERS, Role.STAFF}, Role.STAFF: {Role.STAFF}, Role.PORTAL: {Role.PORTAL}}

STAFF = frozenset({Role.STAFF})
MANAGERS = frozenset({Role.MANAGERS})
STAFF_PORTAL = frozenset({Role.STAFF, Role.PORTAL})


def valid_tenant_id(value: str) -> bool:
    return bool(_TENANT_ID.match(value))


def _groups(raw: Any) -> set[str]:
    # The local authorizer passes a JSON list; API Gateway's Cognito authorizer flattens it to
    # a string such as "[managers staff]" or "managers,staff".
    if isinstance(raw, str):
        return {g for g in re.split(r"[\s,]+", raw.strip("[]")) if g}
    if isinstance(raw, Iterable):
        return {str(g) for g in raw}
    return set()


def _instant(raw: Any) -> float | None:
    # The local authorizer passes iat as epoch seconds; API Gateway's Cognito authorizer as a date string
    # such as "Sun Nov 22 00:00:00 UTC 2026".
    if isinstance(raw, int | float) or (isinstance(raw, str) and raw.isdigit()):
        return float(raw)
    try:
        return datetime.strptime(str(raw), "%a %b %d %H:%M:%S UTC %Y").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True)
class TenantContext:
    tenant_id: str
    user_id: str
    username: str
    roles: frozenset[Role]
    client_id: str | None = None
    email: str | None = None
    issued_at: float | None = None  # the token's iat, epoch seconds: revoked sessions are refused by it

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any] | None) -> TenantContext:
        if not claims:
            raise Unauthorized("A valid bearer token is required.")
        tenant_id = str(claims.get("custom:tenant_id") or "")
        if not valid_tenant_id(tenant_id):
            raise Forbidden("The token carries no tenant.")
        roles: set[Role] = set()
        for group in _groups(claims.get("cognito:groups")):
            if group in Role.__members__.values():
                roles |= _IMPLIES[Role(group)]
        client_id = claims.get("custom:client_id") or None
        if Role.PORTAL in roles and not client_id:
            roles.discard(Role.PORTAL)  # a portal user without a client account may see nothing
        return cls(
            tenant_id=tenant_id,
            user_id=str(claims.get("sub") or ""),
            username=str(claims.get("cognito:username") or claims.get("username") or ""),
            roles=frozenset(roles),
            client_id=client_id,
            email=claims.get("email"),
            issued_at=_instant(claims.get("iat")),
        )

    @property
    def is_staff(self) -> bool:
        return Role.STAFF in self.roles

    @property
    def is_manager(self) -> bool:
        return Role.MANAGERS in self.roles

    @property
    def is_portal(self) -> bool:
        return Role.PORTAL in self.roles and not self.is_staff

    def require(self, allowed: Iterable[Role]) -> None:
        if not self.roles & set(allowed):
            raise Forbidden("Your role may not do this.")
