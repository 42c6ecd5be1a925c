"""The signed token of an emailed survey link: it alone names the tenant and the invitation, until it expires."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from shared.caller import valid_tenant_id
from shared.cursors import b64url, unb64url
from shared.errors import Unprocessable
from shared.settings import public_url, settings

MAX_TOKEN = 1024


@dataclass(frozen=True)
class Claim:
    tenant_id: str
    invitation_id: str


def _signature(payload: bytes) -> bytes:
    return hmac.new(settings().survey_secret, b"survey-invitation\x00" + payload, hashlib.sha256).digest()[:24]


def issue_token(tenant_id: str, invitation_id: str, expires_at: datetime) -> str:
    payload = json.dumps(
        {"t": tenant_id, "i": invitation_id, "e": int(expires_at.timestamp())}, separators=(",", ":")
    ).encode()
    return f"{b64url(payload)}.{b64url(_signature(payload))}"


def read_token(token: str, at: datetime) -> Claim:
    """The tenant and invitation a link was signed for; 422 if it was altered or has expired."""
    invalid = Unprocessable.field("token", "The survey link is invalid.")
    try:
        body, signature = token.split(".")
        payload = unb64url(body)
        if not hmac.compare_digest(unb64url(signature), _signature(payload)):
            raise invalid
        claim = json.loads(payload)
        tenant_id, invitation_id, expires = str(claim["t"]), str(claim["i"]), int(claim["e"])
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise invalid from None
    if not valid_tenant_id(tenant_id):
        raise invalid
    if at.timestamp() > expires:
        raise Unprocessable.field("token", "The survey link has expired.")
    return Claim(tenant_id, invitation_id)


def link(token: str) -> str:
    return f"{public_url()}/support/survey-responses?token={token}"
