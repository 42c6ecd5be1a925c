"""Satisfaction surveys: the survey, the invitation a resolved ticket earns, the one response it
allows, and the running per-day counters the NPS / CSAT / CES summaries read.

Access patterns (see README): survey by id (GetItem); surveys newest first (GSI1); the newest active
survey sent after an event (GSI2); invitation by id (GetItem), newest invitation of a ticket (GSI3);
response by invitation (GetItem), responses newest first (GSI1), of a survey (GSI2); counters of a
survey or of a kind, per day and score (Query on a date range). Answering writes the response and
its counters in one transaction, so a summary reads days, never responses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints
from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import TransactWriteError

from shared import mail
from shared.caller import TenantContext, valid_tenant_id
from shared.clock import iso, now
from shared.crm.clients import Contact
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.pages import Page, instant_range, query_page
from shared.db.table import Item, get_or_404, get_or_none, tkey, transaction
from shared.directory import UserProfile
from shared.errors import Conflict, Unprocessable
from shared.ids import new_id
from shared.schemas import Audited, Name, Out, Strict, Versioned
from shared.settings import public_url, settings

Kind = Literal["nps", "csat", "ces"]
SendAfter = Literal["resolved"]
SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
CooldownDays = Annotated[int, Field(ge=0, le=365)]
MAX_TOKEN = 1024


# ---- entities ----------------------------------------------------------------------------------


class Survey(Item, discriminator="survey"):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    question = UnicodeAttribute()
    follow_up_question = UnicodeAttribute(null=True)
    active = BooleanAttribute(default=True)
    send_after = UnicodeAttribute(default="resolved")
    cooldown_days = NumberAttribute(default=30)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @staticmethod
    def key(tenant_id: str, survey_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "SURVEY", survey_id), "SURVEY"

    @staticmethod
    def sent_after(tenant_id: str, event: str) -> str:
        return tkey(tenant_id, "SURVEYS", "ACTIVE", event)

    def index(self) -> None:
        order = f"{iso(self.created_at)}#{self.id}"
        self.GSI1PK, self.GSI1SK = tkey(self.tenant_id, "SURVEYS"), order
        active = self.sent_after(self.tenant_id, self.send_after) if self.active else None
        self.GSI2PK, self.GSI2SK = (active, order) if active else (None, None)


class Invitation(Item, discriminator="survey_invitation"):
    id = UnicodeAttribute()
    survey_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    ticket_number = UnicodeAttribute()
    recipient = JSONAttribute()  # {"kind": "contact"|"portal_user", "id": ...}
    email = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()
    sent_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def key(tenant_id: str, invitation_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "SURVEYINV", invitation_id), "INVITATION"

    @staticmethod
    def of_ticket(tenant_id: str, ticket_id: str) -> str:
        return tkey(tenant_id, "TICKET", ticket_id, "SURVEYINV")


class Recipient(Item, discriminator="survey_recipient"):
    """When a contact (or portal user) was last invited to a survey: the cooldown."""

    last_invited_at = UTCDateTimeAttribute()
    last_invitation_id = UnicodeAttribute()

    @staticmethod
    def key(tenant_id: str, recipient: dict[str, str]) -> tuple[str, str]:
        return tkey(tenant_id, "SURVEYRECIPIENT", recipient["kind"], recipient["id"]), "RECIPIENT"


class SurveyResponse(Item, discriminator="survey_response"):
    id = UnicodeAttribute()  # the invitation's id: one response per invitation
    survey_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    score = NumberAttribute()
    comment = UnicodeAttribute(null=True)
    ticket_id = UnicodeAttribute()
    respondent = JSONAttribute()
    channel = UnicodeAttribute()  # "link" (signed token) or "portal"
    responded_at = UTCDateTimeAttribute()

    @staticmethod
    def key(tenant_id: str, invitation_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "SURVEYRESP", invitation_id), "RESPONSE"

    @staticmethod
    def timeline(tenant_id: str) -> str:
        return tkey(tenant_id, "SURVEYRESPONSES")

    @staticmethod
    def of_survey(tenant_id: str, survey_id: str) -> str:
        return tkey(tenant_id, "SURVEY", survey_id, "RESPONSES")


class SurveyStat(Item, discriminator="survey_stat"):
    """How many responses gave one score on one day, for a survey or for all surveys of a kind."""

    responses = NumberAttribute(default=0)

    @staticmethod
    def partition(tenant_id: str, scope: str) -> str:
        return tkey(tenant_id, "SURVEYSTATS", scope)

    @staticmethod
    def sort(day: date, score: int) -> str:
        return f"{day.isoformat()}#{score:02d}"


def survey_scope(survey_id: str) -> str:
    return f"SURVEY#{survey_id}"


def kind_scope(kind: str) -> str:
    return f"KIND#{kind}"


# ---- API models --------------------------------------------------------------------------------


class NewSurvey(Strict):
    name: Name
    kind: Kind
    question: Question
    follow_up_question: Question | None = None
    active: bool = True
    send_after: SendAfter = "resolved"
    cooldown_days: CooldownDays = 30


class SurveyPatch(Versioned):
    name: Name | None = None
    question: Question | None = None
    follow_up_question: Question | None = None
    active: bool | None = None
    send_after: SendAfter | None = None
    cooldown_days: CooldownDays | None = None


class SurveyOut(Audited):
    id: str
    name: str
    kind: Kind
    question: str
    follow_up_question: str | None
    active: bool
    send_after: SendAfter
    cooldown_days: int


class Answer(Strict):
    score: int = Field(ge=0, le=10, description="nps 0-10, csat 1-5, ces 1-7")
    comment: Comment | None = Field(default=None, description="The answer to the follow-up question.")


class TokenAnswer(Answer):
    token: str | None = Field(default=None, max_length=MAX_TOKEN, description="From the invitation's link.")


class Respondent(BaseModel):
    kind: Literal["contact", "portal_user"]
    id: str


class SurveyResponseOut(Out):
    id: str
    survey_id: str
    kind: Kind
    score: int
    comment: str | None
    ticket_id: str
    respondent: Respondent
    channel: Literal["link", "portal"]
    responded_at: datetime


class NpsSummary(BaseModel):
    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None = Field(description="% promoters - % detractors, -100..100; null without responses")


class ScaleSummary(BaseModel):
    responses: int
    average: float | None
    distribution: dict[str, int] = Field(description="responses per score, every score of the scale")


# ---- surveys -----------------------------------------------------------------------------------


def create(ctx: TenantContext, body: NewSurvey) -> Survey:
    moment, survey_id = now(), new_id()
    survey = Survey(
        *Survey.key(ctx.tenant_id, survey_id),
        tenant_id=ctx.tenant_id,
        id=survey_id,
        **body.model_dump(),
        created_at=moment,
        updated_at=moment,
        updated_by=ctx.user_id,
    )
    survey.index()
    with storage_errors():
        survey.save(condition=Survey.PK.does_not_exist())
    return survey


def get(ctx: TenantContext, survey_id: str) -> Survey:
    return get_or_404(Survey, Survey.key(ctx.tenant_id, survey_id), "survey")


def search(ctx: TenantContext, *, limit: int, cursor: str | None) -> Page[Survey]:
    with storage_errors():
        return query_page(
            Survey.gsi1.query,
            hash_key=tkey(ctx.tenant_id, "SURVEYS"),
            scan_index_forward=False,
            tenant_id=ctx.tenant_id,
            query_name="surveys",
            cursor=cursor,
            limit=limit,
        )


def update(ctx: TenantContext, survey_id: str, patch: SurveyPatch, if_match: int | None) -> Survey:
    expected = patch.version or if_match
    if expected is None:
        raise Unprocessable.field("version", "Send the version you read, in the body or as If-Match.")
    survey = get(ctx, survey_id)
    if expected != survey.version:
        raise Conflict(f"Stale version {expected}: the survey is at version {survey.version}.")
    for field, value in patch.model_dump(exclude_unset=True, exclude={"version"}).items():
        if value is None and field != "follow_up_question":
            raise Unprocessable.field(field, "May not be null.")
        setattr(survey, field, value)
    survey.updated_at, survey.updated_by = now(), ctx.user_id
    survey.index()
    with storage_errors("The survey changed meanwhile; reload and retry."):
        survey.save()
    return survey


def delete(ctx: TenantContext, survey_id: str, if_match: int | None) -> None:
    """Responses and counters stay: summaries over past days keep their figures."""
    survey = get(ctx, survey_id)
    if if_match is not None and if_match != survey.version:
        raise Conflict(f"Stale version {if_match}: the survey is at version {survey.version}.")
    with storage_errors("The survey changed meanwhile; reload and retry."):
        survey.delete()


# ---- signed links ------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: bytes) -> bytes:
    return hmac.new(settings().survey_secret, b"survey-invitation\x00" + payload, hashlib.sha256).digest()[:24]


def issue_token(tenant_id: str, invitation_id: str, expires_at: datetime) -> str:
    payload = json.dumps(
        {"t": tenant_id, "i": invitation_id, "e": int(expires_at.timestamp())}, separators=(",", ":")
    ).encode()
    return f"{_b64(payload)}.{_b64(_signature(payload))}"


@dataclass(frozen=True)
class Claim:
    tenant_id: str
    invitation_id: str


def read_token(token: str, at: datetime) -> Claim:
    """The tenant and invitation a link was signed for; 422 if it was altered or has expired."""
    invalid = Unprocessable.field("token", "The survey link is invalid.")
    try:
        body, signature = token.split(".")
        payload = _unb64(body)
        if not hmac.compare_digest(_unb64(signature), _signature(payload)):
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


# ---- invitations (the stream consumer's side) --------------------------------------------------


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
    email = _email_of(tenant_id, recipient)
    if not email:
        return None
    moment = now()
    invitation = Invitation(
        *Invitation.key(tenant_id, invitation_id(ticket.id, ticket.resolved_at)),
        tenant_id=tenant_id,
        id=invitation_id(ticket.id, ticket.resolved_at),
        survey_id=survey.id,
        kind=survey.kind,
        ticket_id=ticket.id,
        ticket_number=ticket.number,
        recipient={"kind": recipient["kind"], "id": recipient["id"]},
        email=email,
        created_at=moment,
        expires_at=moment + timedelta(days=settings().survey_link_days),
        GSI3PK=Invitation.of_ticket(tenant_id, ticket.id),
        GSI3SK=iso(moment),
    )
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


def _email_of(tenant_id: str, recipient: dict[str, str]) -> str | None:
    with storage_errors():
        if recipient["kind"] == "contact":
            contact = get_or_none(Contact, Contact.key(tenant_id, recipient["id"]))
            return contact.email if contact else None
        if recipient["kind"] == "portal_user":
            profile = get_or_none(UserProfile, UserProfile.key(tenant_id, recipient["id"]))
            return profile.email if profile and profile.active else None
    return None


def _send(invitation: Invitation, survey: Survey) -> Invitation:
    token = issue_token(invitation.tenant_id, invitation.id, invitation.expires_at)
    lines = [
        f"Your request {invitation.ticket_number} has been resolved.",
        "",
        survey.question,
        _scale_hint(survey.kind),
        "",
        f"Answer here (the link works once, until {invitation.expires_at:%Y-%m-%d}):",
        link(token),
    ]
    mail.send([invitation.email], f"How did we do? ({invitation.ticket_number})", "\n".join(lines))
    invitation.sent_at = now()
    with storage_errors():
        invitation.update(actions=[Invitation.sent_at.set(invitation.sent_at)])
    return invitation


def _scale_hint(kind: str) -> str:
    low, high = SCALES[kind]
    return f"(a score from {low} to {high})"


# ---- responses ---------------------------------------------------------------------------------


def respond_with_token(token: str, answer: Answer) -> SurveyResponse:
    """No login: the signed token alone names the tenant and the invitation."""
    return respond_to_claim(read_token(token, now()), answer)


def respond_to_claim(claim: Claim, answer: Answer) -> SurveyResponse:
    invitation = get_or_404(Invitation, Invitation.key(claim.tenant_id, claim.invitation_id), "survey invitation")
    return _record(invitation, answer, "link")


def respond_for_ticket(ctx: TenantContext, ticket: Any, answer: Answer) -> SurveyResponse:
    """A portal user answers the newest invitation of a ticket of its client."""
    with storage_errors():
        found = list(
            Invitation.gsi3.query(Invitation.of_ticket(ctx.tenant_id, ticket.id), scan_index_forward=False, limit=1)
        )
    if not found:
        raise Conflict("This ticket has no survey to answer.")
    invitation = found[0]
    if now() > invitation.expires_at:
        raise Conflict("The survey of this ticket has closed.")
    return _record(invitation, answer, "portal")


def _record(invitation: Invitation, answer: Answer, channel: str) -> SurveyResponse:
    low, high = SCALES[invitation.kind]
    if not low <= answer.score <= high:
        raise Unprocessable.field("score", f"A {invitation.kind} score is from {low} to {high}.")
    t, moment = invitation.tenant_id, now()
    order = f"{iso(moment)}#{invitation.id}"
    response = SurveyResponse(
        *SurveyResponse.key(t, invitation.id),
        tenant_id=t,
        id=invitation.id,
        survey_id=invitation.survey_id,
        kind=invitation.kind,
        score=answer.score,
        comment=answer.comment or None,
        ticket_id=invitation.ticket_id,
        respondent=invitation.recipient,
        channel=channel,
        responded_at=moment,
        updated_by=f"{invitation.recipient['kind']}:{invitation.recipient['id']}",
        GSI1PK=SurveyResponse.timeline(t),
        GSI1SK=order,
        GSI2PK=SurveyResponse.of_survey(t, invitation.survey_id),
        GSI2SK=order,
    )
    day = moment.astimezone(UTC).date()
    try:
        with storage_errors(), transaction() as tx:
            tx.save(response, condition=SurveyResponse.PK.does_not_exist())
            for scope in (survey_scope(invitation.survey_id), kind_scope(invitation.kind)):
                tx.update(
                    SurveyStat(SurveyStat.partition(t, scope), SurveyStat.sort(day, answer.score)),
                    actions=[
                        SurveyStat.responses.add(1),
                        SurveyStat.entity.set(SurveyStat),
                        SurveyStat.tenant_id.set(t),
                    ],
                )
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            raise Conflict("This survey has already been answered.") from None
        raise
    return response


def responses(
    ctx: TenantContext,
    *,
    survey_id: str | None,
    responded_from: datetime | None,
    responded_to: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[SurveyResponse]:
    if survey_id:
        index, sk, hash_key = SurveyResponse.gsi2, Item.GSI2SK, SurveyResponse.of_survey(ctx.tenant_id, survey_id)
    else:
        index, sk, hash_key = SurveyResponse.gsi1, Item.GSI1SK, SurveyResponse.timeline(ctx.tenant_id)
    condition = instant_range(sk, responded_from, responded_to, ("responded_from", "responded_to"))
    with storage_errors():
        return query_page(
            index.query,
            hash_key=hash_key,
            range_key_condition=condition,
            scan_index_forward=False,
            tenant_id=ctx.tenant_id,
            query_name=f"survey-responses:{survey_id}:{responded_from}:{responded_to}",
            cursor=cursor,
            limit=limit,
        )


# ---- summaries ---------------------------------------------------------------------------------


def score_counts(
    ctx: TenantContext, kind: Kind, *, survey_id: str | None, date_from: date | None, date_to: date | None
) -> dict[int, int]:
    """Responses per score over a date range (UTC days, inclusive): one Query over the day counters."""
    if date_from and date_to and date_from > date_to:
        raise Unprocessable.field("date_from", "date_from is after date_to.")
    if survey_id:
        survey = get(ctx, survey_id)
        if survey.kind != kind:
            raise Unprocessable.field("survey_id", f"The survey is a {survey.kind} survey, not {kind}.")
        scope = survey_scope(survey_id)
    else:
        scope = kind_scope(kind)
    low = date_from.isoformat() if date_from else "0"
    high = (date_to.isoformat() if date_to else "9999") + "#~"
    low_score, high_score = SCALES[kind]
    counts = dict.fromkeys(range(low_score, high_score + 1), 0)
    with storage_errors():
        for stat in SurveyStat.query(
            SurveyStat.partition(ctx.tenant_id, scope), SurveyStat.SK.between(low, high), page_size=1000
        ):
            score = int(stat.SK.rsplit("#", 1)[1])
            counts[score] = counts.get(score, 0) + int(stat.responses)
    return counts


def nps(counts: dict[int, int]) -> NpsSummary:
    total = sum(counts.values())
    promoters = sum(n for score, n in counts.items() if score >= 9)
    detractors = sum(n for score, n in counts.items() if score <= 6)
    return NpsSummary(
        responses=total,
        promoters=promoters,
        passives=total - promoters - detractors,
        detractors=detractors,
        nps=round((promoters - detractors) * 100 / total, 1) if total else None,
    )


def scale(counts: dict[int, int]) -> ScaleSummary:
    total = sum(counts.values())
    average = round(sum(score * n for score, n in counts.items()) / total, 2) if total else None
    return ScaleSummary(
        responses=total, average=average, distribution={str(score): n for score, n in sorted(counts.items())}
    )
