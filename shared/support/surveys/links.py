"""The signed token of an emailed survey link: it alone names the tenant and the invitation, until it expires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared import links

PURPOSE = "survey-invitation"


@dataclass(frozen=True)
class Claim:
    tenant_id: str
    invitation_id: str


def issue_token(tenant_id: str, invitation_id: str, expires_at: datetime) -> str:
    return links.sign(PURPOSE, tenant_id, invitation_id, expires_at)


def read_token(token: str, at: datetime) -> Claim:
    """The tenant and invitation a link was signed for; 422 if it was altered or has expired."""
    grant = links.read(PURPOSE, token, at, what="survey link")
    return Claim(grant.tenant_id, grant.subject)


def link(token: str) -> str:
    return links.api_url("/support/survey-responses", token)
