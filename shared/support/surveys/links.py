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


def issue_token(
    tenant_id: str,
    invitation_id: str,
    expires_at: datetime,
    kind: str | None = None,
    question: str | None = None,
    follow_up: str | None = None,
) -> str:
    """The survey's kind (nps, csat, ces) and, when the link stays within its length limit, its questions ride in
    the token, signed and readable, so the answer page shows them before anything is sent."""
    shown = {k: v for k, v in {"kind": kind, "question": question, "follow_up": follow_up}.items() if v}
    try:
        return links.sign(PURPOSE, tenant_id, invitation_id, expires_at, **shown)
    except ValueError:  # long questions: the page asks with the scale's own words
        return links.sign(PURPOSE, tenant_id, invitation_id, expires_at, **({"kind": kind} if kind else {}))


def read_token(token: str, at: datetime) -> Claim:
    """The tenant and invitation a link was signed for; 422 if it was altered or has expired."""
    grant = links.read(PURPOSE, token, at, what="survey link")
    return Claim(grant.tenant_id, grant.subject)


def link(token: str) -> str:
    """The web app's survey page; it answers through ``POST /support/survey-responses?token=``."""
    return links.page_url("survey", token)
