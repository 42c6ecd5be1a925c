"""Answering a survey (by the emailed link, or in the portal for a ticket of one's client), once per
invitation, and listing the answers. An answer and its day counters are one transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints
from pynamodb.exceptions import TransactWriteError

from shared.caller import TenantContext
from shared.clock import iso, now
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.pages import Page, instant_range, query_page
from shared.db.table import Item, get_or_404, transaction
from shared.errors import Conflict, Unprocessable
from shared.links import MAX_TOKEN
from shared.schemas import Out, Strict
from shared.support.surveys.links import Claim, read_token
from shared.support.surveys.model import (
    SCALES,
    Invitation,
    Kind,
    SurveyResponse,
    SurveyStat,
    kind_scope,
    survey_scope,
)

Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


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
    ticket_id: str | None
    appointment_id: str | None = None
    respondent: Respondent
    channel: Literal["link", "portal"]
    responded_at: datetime


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
        appointment_id=invitation.appointment_id,
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


def page(
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
    return query_page(
        index,
        hash_key,
        ctx.tenant_id,
        f"survey-responses:{survey_id}:{responded_from}:{responded_to}",
        limit=limit,
        cursor=cursor,
        newest_first=True,
        range_key_condition=instant_range(sk, responded_from, responded_to, ("responded_from", "responded_to")),
    )
