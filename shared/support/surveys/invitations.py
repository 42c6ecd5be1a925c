"""Invitations, the stream consumer's side: the requester of a just-resolved ticket is invited, once per
resolution and not within the survey's cooldown, by an email with a signed link."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError

from shared import mail
from shared.clock import iso, now
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.table import transaction
from shared.settings import settings
from shared.support import tickets
from shared.support.surveys.links import issue_token, link
from shared.support.surveys.model import SCALES, Invitation, Recipient, Survey


def invitation_id(ticket_id: str, resolved_at: datetime) -> str:
    """One invitation per resolution of a ticket: a redelivered stream record finds the same one."""
    return f"{ticket_id}-{int(resolved_at.timestamp() * 1000)}"


def invite(ticket: Any) -> Invitation | None:
    """Invite the requester of a just-resolved ticket to the tenant's active survey, once.

    ``ticket`` is the ticket as the stream saw it. Nothing happens without an active survey, without
    a requester who has an email address, or within the survey's cooldown for that requester. The
    invitation is written before the email is sent and marked sent after: a redelivery resends only
    an invitation whose sending did not finish."""
    tenant_id = ticket.tenant_id
    survey = _active_survey(tenant_id, "resolved")
    recipient = ticket.requester if ticket.requester and ticket.requester.get("kind") != "staff" else None
    if survey is None or recipient is None or ticket.resolved_at is None:
        return None
    email = tickets.requester_email(tenant_id, recipient)
    if not email:
        return None
    about = {"ticket_id": ticket.id, "ticket_number": ticket.number}
    return _invite(survey, invitation_id(ticket.id, ticket.resolved_at), recipient, email, about)


def invite_to_meeting(survey: Survey, appointment: Any, contact: Mapping[str, str]) -> Invitation | None:
    """Invite a contact who attended ``appointment`` to ``survey`` (a meeting workflow's action), once per
    appointment and contact (a retried action finds the invitation), not within the survey's cooldown."""
    about = {"appointment_id": appointment.id, "appointment_title": appointment.title}
    recipient = {"kind": "contact", "id": contact["id"]}
    return _invite(survey, f"{appointment.id}-{contact['id']}", recipient, contact["email"], about)


def _invite(
    survey: Survey, invitation_id: str, recipient: Mapping[str, str], email: str, about: Mapping[str, str]
) -> Invitation | None:
    tenant_id, moment = survey.tenant_id, now()
    invitation = Invitation(
        *Invitation.key(tenant_id, invitation_id),
        tenant_id=tenant_id,
        id=invitation_id,
        survey_id=survey.id,
        kind=survey.kind,
        recipient={"kind": recipient["kind"], "id": recipient["id"]},
        email=email,
        created_at=moment,
        expires_at=moment + timedelta(days=settings().survey_link_days),
        **about,
    )
    if invitation.ticket_id:
        invitation.GSI3PK, invitation.GSI3SK = Invitation.of_ticket(tenant_id, invitation.ticket_id), iso(moment)
    marker = Recipient(
        *Recipient.key(tenant_id, invitation.recipient),
        tenant_id=tenant_id,
        last_invited_at=moment,
        last_invitation_id=invitation.id,
    )
    cutoff = moment - timedelta(days=int(survey.cooldown_days))
    try:
        with storage_errors(), transaction() as tx:
            tx.save(invitation, condition=Invitation.PK.does_not_exist())
            tx.save(marker, condition=Recipient.PK.does_not_exist() | (Recipient.last_invited_at <= cutoff))
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):  # delivered before: finish what that delivery began
            invitation = Invitation.get(*invitation.key(tenant_id, invitation.id), consistent_read=True)
            return _send(invitation, survey) if invitation.sent_at is None else None
        if cancelled_by_condition(error, 1):  # invited too recently
            return None
        raise
    return _send(invitation, survey)


def _active_survey(tenant_id: str, event: str) -> Survey | None:
    with storage_errors():
        found = list(Survey.gsi2.query(Survey.sent_after(tenant_id, event), scan_index_forward=False, limit=1))
    return found[0] if found else None


def _send(invitation: Invitation, survey: Survey) -> Invitation:
    token = issue_token(
        invitation.tenant_id,
        invitation.id,
        invitation.expires_at,
        survey.kind,
        survey.question,
        survey.follow_up_question,
    )
    if invitation.ticket_number:
        intro, about = f"Your request {invitation.ticket_number} has been resolved.", invitation.ticket_number
    else:
        intro, about = f"Thank you for meeting us: {invitation.appointment_title}.", invitation.appointment_title
    lines = [
        intro,
        "",
        survey.question,
        _scale_hint(survey.kind),
        "",
        f"Answer here (the link works once, until {invitation.expires_at:%Y-%m-%d}):",
        link(token),
    ]
    mail.send([invitation.email], f"How did we do? ({about})", "\n".join(lines))
    invitation.sent_at = now()
    with storage_errors():
        invitation.update(actions=[Invitation.sent_at.set(invitation.sent_at)])
    return invitation


def _scale_hint(kind: str) -> str:
    low, high = SCALES[kind]
    return f"(a score from {low} to {high})"
