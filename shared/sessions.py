"""Revoked sessions: a user deactivated, or given another role, loses API access within
``session_check_seconds`` even with a token issued before — without a read per request.

Each container keeps, per tenant, the users whose sessions were revoked within the longest life of a token
(one Query of the directory's sparse index of revocations), and reads it again at most every
``session_check_seconds`` (default 60; the local cloud's chalice.json sets its own). A token not issued after
its user's revocation is refused with a 401: sign in again (a deactivated user cannot: Cognito refuses it).
Revocations older than a token can live are never read, so the Query stays small.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from datetime import datetime, timedelta

from shared import aws
from shared.caller import TenantContext
from shared.clock import now
from shared.directory import revocations_since
from shared.errors import Unauthorized
from shared.settings import settings

TOKEN_LIFETIME = timedelta(hours=1, minutes=5)  # the pool's id-token validity (infra/cdk/auth.py) and some skew
MAX_TENANTS = 1024  # tenants a container remembers; the least recently seen goes first

_revoked: OrderedDict[str, tuple[float, dict[str, datetime]]] = OrderedDict()
_lock = threading.Lock()


def refuse_revoked(ctx: TenantContext) -> None:
    revoked_at = _revocations(ctx.tenant_id).get(ctx.user_id)
    if revoked_at is not None and (ctx.issued_at is None or ctx.issued_at <= revoked_at.timestamp()):
        raise Unauthorized("This session has ended: the account was deactivated or its role changed. Sign in again.")


def forget_tenant(tenant_id: str) -> None:
    """This container reads the tenant's revocations again at its next request (it just made one)."""
    with _lock:
        _revoked.pop(tenant_id, None)


def forget() -> None:
    """Drop what this container remembers (tests switch between local clouds; a restored snapshot)."""
    with _lock:
        _revoked.clear()


aws.on_forget(forget)


def _revocations(tenant_id: str) -> dict[str, datetime]:
    with _lock:
        cached = _revoked.get(tenant_id)
        if cached is not None and time.monotonic() - cached[0] < settings().session_check_seconds:
            _revoked.move_to_end(tenant_id)
            return cached[1]
    read_at = time.monotonic()
    fresh = revocations_since(tenant_id, now() - TOKEN_LIFETIME)  # outside the lock: other tenants need not wait
    with _lock:
        _revoked[tenant_id] = (read_at, fresh)
        _revoked.move_to_end(tenant_id)
        while len(_revoked) > MAX_TENANTS:
            _revoked.popitem(last=False)
    return fresh
