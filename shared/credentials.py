"""Tenant-scoped credentials: request handlers reach DynamoDB and S3 only as their caller's tenant.

Once a request's caller is known, ``enter(tenant, profile)`` makes the tenant's scope current: credentials
from STS AssumeRole on the tenant-access role of the route's access profile (read / write, plus what it does
with the uploads bucket), with the session tag ``tenant_id=<tenant>``. The role's policy allows
``dynamodb:LeadingKeys`` ``T#${aws:PrincipalTag/tenant_id}#*`` and S3 keys ``t/${aws:PrincipalTag/tenant_id}/*``
only (``infra/access_roles.py``), so a key built for another tenant is refused by AWS, not only by code.

Credentials, and the clients made with them, are cached per container per (tenant, role) and renewed while
more than ``MIN_VALIDITY`` is left: a presigned URL (up to 15 minutes) lives no longer than its signer's
credentials. The current scope is a ContextVar (the local API serves requests in threads; each thread has its
own context) set by the API after authorization and cleared by ``leave()`` when the request ends. Outside a
scope (stream consumers, schedules, the scan function, the CLI, tests) the process's default credentials
are used, as ``client()`` and ``current()`` let callers choose.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from shared import aws
from shared.caller import valid_tenant_id
from shared.errors import Unavailable
from shared.settings import tenant_role_arn

TAG = "tenant_id"
SESSION_SECONDS = 3600  # the most a role chained from a Lambda function's role may get
MIN_VALIDITY = 20 * 60  # renewed when less is left: longer than any presigned URL signed with them (15 min)
MAX_CACHED = 256  # (tenant, role) scopes a container keeps; the least recently used goes first
# STS answers that mean "not now" (its own retries already spent): the caller gets a retryable 503
STS_BUSY = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "ServiceUnavailable", "InternalFailure"}
)


def profile(writes: bool, s3: Iterable[str] = ()) -> str:
    """A route's access profile: ``read`` or ``write``, then what it does with the uploads bucket."""
    return "-".join(("write" if writes else "read", *sorted(s3)))


@dataclass
class Scope:
    """One tenant's credentials for one role, and the clients made with them."""

    tenant_id: str
    role_arn: str
    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: float  # epoch seconds
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def cached(self, name: str, make: Callable[[], Any]) -> Any:
        """``make()`` once per scope under ``name`` (a client, a PynamoDB connection)."""
        with self._lock:
            if name not in self._clients:
                self._clients[name] = make()
            return self._clients[name]

    @property
    def keys(self) -> aws.Keys:
        return aws.Keys(self.access_key_id, self.secret_access_key, self.session_token)

    def new_client(self, service: str, **options: Any) -> Any:
        """A client with this scope's credentials, from the container's botocore session."""
        return aws.client(service, credentials=self.keys, **options)


_current: ContextVar[Scope | None] = ContextVar("deskos_tenant_scope", default=None)
_scopes: OrderedDict[tuple[str, str], Scope] = OrderedDict()
_scopes_lock = threading.Lock()


def current() -> Scope | None:
    return _current.get()


def enter(tenant_id: str, access_profile: str) -> Scope:
    """Make ``tenant_id``'s scope for ``access_profile`` current, until ``leave()``."""
    scope = _scope(tenant_id, tenant_role_arn(access_profile))
    _current.set(scope)
    return scope


def leave() -> None:
    _current.set(None)


@contextmanager
def scoped(tenant_id: str, access_profile: str) -> Iterator[Scope]:
    token = _current.set(_scope(tenant_id, tenant_role_arn(access_profile)))
    try:
        yield _current.get()  # type: ignore[misc]
    finally:
        _current.reset(token)


def client(service: str, unscoped: Callable[[], Any], **options: Any) -> Any:
    """The current scope's boto3 client for ``service`` (made once per scope with ``options``), or, outside a
    scope, ``unscoped()``."""
    scope = _current.get()
    if scope is None:
        return unscoped()
    return scope.cached(f"client:{service}", lambda: scope.new_client(service, **options))


def forget() -> None:
    """Drop every cached scope (tests switch between local clouds; a SnapStart restore); ``aws.forget()`` calls it."""
    with _scopes_lock:
        _scopes.clear()
    _current.set(None)


aws.on_forget(forget)


def _scope(tenant_id: str, role_arn: str) -> Scope:
    key = (tenant_id, role_arn)
    with _scopes_lock:
        found = _scopes.get(key)
        if found is not None and found.expires_at - time.time() > MIN_VALIDITY:
            _scopes.move_to_end(key)
            return found
    fresh = _assume(tenant_id, role_arn)  # outside the lock: other tenants' requests need not wait for STS
    with _scopes_lock:
        _scopes[key] = fresh
        _scopes.move_to_end(key)
        while len(_scopes) > MAX_CACHED:
            _scopes.popitem(last=False)
    return fresh


def _assume(tenant_id: str, role_arn: str) -> Scope:
    # The tag is substituted into IAM resource patterns: only a well-formed tenant id (no wildcards) may be one.
    if not valid_tenant_id(tenant_id):
        raise ValueError(f"not a tenant id: {tenant_id!r}")
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    try:
        reply = _sts().assume_role(
            RoleArn=role_arn,
            RoleSessionName=f"deskos-{tenant_id}",
            DurationSeconds=SESSION_SECONDS,
            Tags=[{"Key": TAG, "Value": tenant_id}],
        )
    except (ConnectionError, HTTPClientError):
        raise Unavailable("Credentials are unavailable; retry shortly.", retry_after=1) from None
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in STS_BUSY:  # anything else (AccessDenied) is a bug: 500
            raise Unavailable("Credentials are unavailable; retry shortly.", retry_after=1) from None
        raise
    issued = reply["Credentials"]
    return Scope(
        tenant_id=tenant_id,
        role_arn=role_arn,
        access_key_id=issued["AccessKeyId"],
        secret_access_key=issued["SecretAccessKey"],
        session_token=issued["SessionToken"],
        expires_at=issued["Expiration"].timestamp(),
    )


@cache
def _sts() -> Any:
    return aws.client("sts")


aws.on_forget(_sts.cache_clear)
