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


def region() -> str:
    """Uncached: PynamoDB asks for it while classes are created, before tests or the launcher set the env."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-west-1"


@cache
def settings() -> Settings:
    env = os.environ
    return Settings(
        table_name=env.get("DESKOS_TABLE", "deskos"),
        bucket_name=env.get("DESKOS_BUCKET", "deskos-uploads"),
        region=region(),
        cursor_secret=env.get("DESKOS_CURSOR_SECRET", "local-development-cursor-secret").encode(),
        idempotency_ttl_seconds=int(env.get("DESKOS_IDEMPOTENCY_TTL", "86400")),
        reopen_window_days=int(env.get("DESKOS_REOPEN_WINDOW_DAYS", "7")),
        mail_sender=env.get("DESKOS_MAIL_SENDER", "no-reply@deskos.local"),
    )
