"""Opaque, tamper-proof pagination cursors bound to one tenant and one query."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import zlib
from typing import Any

from shared.errors import BadRequest
from shared.settings import settings

_MAX_CURSOR = 2048


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(tenant_id: str, query: str, payload: bytes) -> bytes:
    message = b"\x00".join([tenant_id.encode(), query.encode(), payload])
    return hmac.new(settings().cursor_secret, message, hashlib.sha256).digest()[:18]


def encode(tenant_id: str, query: str, last_key: dict[str, Any] | None) -> str | None:
    """`query` names the query and its filters, so a cursor cannot be replayed on another."""
    if not last_key:
        return None
    payload = zlib.compress(json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode())
    return f"{b64url(payload)}.{b64url(_sign(tenant_id, query, payload))}"


def decode(tenant_id: str, query: str, cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        if len(cursor) > _MAX_CURSOR:
            raise ValueError
        body, signature = cursor.split(".")
        payload = unb64url(body)
        if not hmac.compare_digest(unb64url(signature), _sign(tenant_id, query, payload)):
            raise ValueError
        last_key = json.loads(zlib.decompress(payload))
        if not isinstance(last_key, dict):
            raise ValueError
        return last_key
    except (ValueError, TypeError, zlib.error, UnicodeDecodeError):
        raise BadRequest("The cursor is invalid for this query.") from None
