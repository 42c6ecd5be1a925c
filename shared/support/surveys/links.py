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


def issue_token(tenant_id: str, invitation_id: str, expires_at: datetime, kind: str | None = None) -> str:
    """``kind`` (nps, csat, ces) rides in the token, signed and readable, so the answer page shows the survey's
    scale before anything is sent."""
    return links.sign(PURPOSE, tenant_id, invitation_id, expires_at, **({"kind": kind} if kind else {}))


def read_token(token: str, at: datetime) -> Claim:
    """The tenant and invitation a link was signed for; 422 if it was altered or has expired."""
    grant = links.read(PURPOSE, token, at, what="survey link")
    return Claim(grant.tenant_id, grant.subject)


def link(token: str) -> str:
    """The web app's survey page; it answers through ``POST /support/survey-responses?token=``."""
    return links.page_url("survey", token)
