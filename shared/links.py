"""Signed tokens for links that work without signing in (a survey, a poll vote, an unsubscribe, a reply
address): the token alone names the tenant and what it grants, until it expires.

Each use has its own purpose string, mixed into the signature, so a token made for one use is refused by
every other (a survey token never unsubscribes anyone). Pages for people sit under the web app
(``page_url``); the API routes they call verify the token with ``read``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from shared.caller import valid_tenant_id
from shared.cursors import b64url, unb64url
from shared.errors import Unprocessable
from shared.settings import public_url, settings

MAX_TOKEN = 1024
_SIGNATURE_BYTES = 24


@dataclass(frozen=True)
class Grant:
    """What a verified token says: its tenant, the object it names, and any extra claims it carries."""

    tenant_id: str
    subject: str
    extra: Mapping[str, Any]


def _signature(purpose: str, payload: bytes) -> bytes:
    key = settings().link_secret
    return hmac.new(key, purpose.encode() + b"\x00" + payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def sign(purpose: str, tenant_id: str, subject: str, expires_at: datetime, **extra: Any) -> str:
    """A URL-safe token for ``purpose`` naming ``subject`` in ``tenant_id``; ``extra`` must be JSON-able."""
    payload = json.dumps(
        {"t": tenant_id, "s": subject, "e": int(expires_at.timestamp()), **({"x": extra} if extra else {})},
        separators=(",", ":"),
    ).encode()
    token = f"{b64url(payload)}.{b64url(_signature(purpose, payload))}"
    if len(token) > MAX_TOKEN:
        raise ValueError(f"a {purpose} token is longer than {MAX_TOKEN} characters")
    return token


def read(purpose: str, token: str, at: datetime, *, field: str = "token", what: str = "link") -> Grant:
    """The grant a token was signed with for ``purpose``; 422 on ``field`` if altered, foreign or expired."""
    invalid = Unprocessable.field(field, f"The {what} is invalid.")
    try:
        body, signature = token.split(".")
        payload = unb64url(body)
        if not hmac.compare_digest(unb64url(signature), _signature(purpose, payload)):
            raise invalid
        claim = json.loads(payload)
        tenant_id, subject, expires = str(claim["t"]), str(claim["s"]), int(claim["e"])
        extra = claim.get("x") or {}
        if not isinstance(extra, dict):
            raise invalid
    except (ValueError, TypeError, KeyError, UnicodeDecodeError, AttributeError):
        raise invalid from None
    if not valid_tenant_id(tenant_id):
        raise invalid
    if at.timestamp() > expires:
        raise Unprocessable.field(field, f"The {what} has expired.")
    return Grant(tenant_id, subject, extra)


def page_url(page: str, token: str) -> str:
    """The web app's page for an emailed link (``/app/<page>?token=…``): people land on a page, not on JSON."""
    return f"{public_url()}/app/{page}?token={quote(token, safe='')}"


def api_url(path: str, token: str) -> str:
    """An API route an email links to directly (a tracking pixel, a one-click unsubscribe)."""
    return f"{public_url()}{path}?token={quote(token, safe='')}"


def sign_address(purpose: str, tenant_id: str, subject: str) -> str:
    """A short signed tag for an email address's local part (``reply+<tag>@…``, which RFC 5321 bounds at 64
    characters): ``subject`` (ASCII letters and digits) and 80 bits of signature over the tenant and it, in
    lowercase base32, so a mail system that folds the case of addresses keeps it valid. It does not expire."""
    return f"{subject.lower()}.{_address_signature(purpose, tenant_id, subject.lower())}"


def read_address(purpose: str, tenant_id: str, tag: str) -> str | None:
    """The subject of a tag ``sign_address`` made for ``purpose`` in ``tenant_id``; None if it is not one."""
    subject, _, signature = tag.lower().partition(".")
    if not subject.isalnum() or not hmac.compare_digest(signature, _address_signature(purpose, tenant_id, subject)):
        return None
    return subject


def _address_signature(purpose: str, tenant_id: str, subject: str) -> str:
    # domain-separated from ``sign``'s tokens: their payload is JSON, this one is never "{"
    digest = _signature(f"address:{purpose}", f"{tenant_id}\x00{subject}".encode())[:10]
    return base64.b32encode(digest).decode().lower()
