"""Process settings, read from the environment once and on first use (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Settings:
    table_name: str
    bucket_name: str
    region: str
    cursor_secret: bytes
    idempotency_ttl_seconds: int
    reopen_window_days: int
    mail_sender: str
    survey_secret: bytes  # signs survey links; defaults to the cursor secret (domain-separated)
    survey_link_days: int
    session_check_seconds: float  # how stale a container's view of revoked sessions may be (shared.sessions)


def region() -> str:
    """Uncached: PynamoDB asks for it while classes are created, before tests or the launcher set the env."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-west-1"


def public_url() -> str:
    """Where links in emails point. Uncached: the local cloud learns its API port only once it listens."""
    return (os.environ.get("DESKOS_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/")


LOCAL_ACCOUNT_ID = "123456789012"  # the local cloud's (moto's) account


def tenant_role_name(profile: str) -> str:
    """The local cloud's name of the tenant-access role of an access profile (the cloud's come from CDK)."""
    return f"deskos-tenant-{profile}"


def tenant_role_variable(profile: str) -> str:
    return "DESKOS_TENANT_ROLE_" + profile.upper().replace("-", "_")


def tenant_role_arn(profile: str) -> str:
    """The tenant-access role of an access profile (``shared.credentials.profile``) from the environment (a
    deployed function is given its own profile's), else the local cloud's."""
    local = f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{tenant_role_name(profile)}"
    return os.environ.get(tenant_role_variable(profile)) or local


def user_pool_id() -> str:
    """The Cognito user pool that administered users live in (only user administration needs it). Uncached:
    the local cloud learns it once it has provisioned the pool."""
    pool = os.environ.get("DESKOS_USER_POOL_ID")
    if not pool:
        raise RuntimeError("DESKOS_USER_POOL_ID is not set: the function administers users and needs its pool")
    return pool


@cache
def settings() -> Settings:
    env = os.environ
    cursor_secret = env.get("DESKOS_CURSOR_SECRET", "local-development-cursor-secret").encode()
    return Settings(
        table_name=env.get("DESKOS_TABLE", "deskos"),
        bucket_name=env.get("DESKOS_BUCKET", "deskos-uploads"),
        region=region(),
        cursor_secret=cursor_secret,
        idempotency_ttl_seconds=int(env.get("DESKOS_IDEMPOTENCY_TTL", "86400")),
        reopen_window_days=int(env.get("DESKOS_REOPEN_WINDOW_DAYS", "7")),
        mail_sender=env.get("DESKOS_MAIL_SENDER", "no-reply@deskos.local"),
        survey_secret=env["DESKOS_SURVEY_SECRET"].encode() if env.get("DESKOS_SURVEY_SECRET") else cursor_secret,
        survey_link_days=int(env.get("DESKOS_SURVEY_LINK_DAYS", "30")),
        session_check_seconds=float(env.get("DESKOS_SESSION_CHECK_SECONDS", "60")),
    )
