"""Satisfaction surveys: /support/surveys…, /support/survey-responses… and a portal user's answer
for its own ticket. Invitations are sent by the survey-invitations stream consumer, not here."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.metrics import MetricUnit

from functions.api.core import Api, metrics
from functions.api.core.params import Cursor, DateFrom, DateTo, EntityId, IdFilter, Limit
from functions.api.core.responses import no_content, page_out, tagged
from shared.caller import MANAGERS, STAFF, Role
from shared.clock import now
from shared.db.pages import DEFAULT_LIMIT
from shared.errors import Unprocessable
from shared.links import MAX_TOKEN
from shared.schemas import Moment, PageOut
from shared.support.surveys import definitions, links, responses, summaries
from shared.support.surveys.definitions import NewSurvey, SurveyOut, SurveyPatch
from shared.support.surveys.model import Survey, SurveyResponse
from shared.support.surveys.responses import Answer, SurveyResponseOut, TokenAnswer
from shared.support.surveys.summaries import NpsSummary, ScaleSummary
from shared.support.tickets import Ticket

api = Api("surveys")
PORTAL = frozenset({Role.PORTAL})


def answered(response: SurveyResponse) -> Response[SurveyResponseOut]:
    metrics.add_metric("SurveyResponses", MetricUnit.Count, 1)
    # no Location: a response has no address of its own (staff find it in the list)
    return Response(201, "application/json", SurveyResponseOut.of(response))


# ---- surveys -----------------------------------------------------------------------------------


@api.get("/support/surveys", roles=STAFF, summary="List surveys, newest first")
def list_surveys(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> PageOut[SurveyOut]:
    return page_out(definitions.page(api.caller(), limit=limit, cursor=cursor), SurveyOut)


@api.post("/support/surveys", roles=MANAGERS, summary="Create a survey", responses={201: {}})
def create_survey(body: Annotated[NewSurvey, Body()]) -> Response[SurveyOut]:
    made = api.create_once("CreateSurvey", body, lambda: SurveyOut.of(definitions.create(api.caller(), body)))
    return api.created(f"/support/surveys/{made['id']}", made)


@api.get("/support/surveys/<survey_id>", roles=STAFF, summary="Get a survey")
def get_survey(survey_id: EntityId) -> Response[SurveyOut]:
    return tagged(SurveyOut.of(Survey.load(api.caller(), survey_id)))


@api.patch("/support/surveys/<survey_id>", roles=MANAGERS, summary="Update a survey (optimistic locking)")
def update_survey(survey_id: EntityId, body: Annotated[SurveyPatch, Body()]) -> Response[SurveyOut]:
    return tagged(SurveyOut.of(definitions.update(api.caller(), survey_id, body, api.if_match())))


@api.delete("/support/surveys/<survey_id>", roles=MANAGERS, summary="Delete a survey", responses={204: {}})
def delete_survey(survey_id: EntityId) -> Response[None]:
    definitions.delete(api.caller(), survey_id, api.if_match())
    return no_content()


# ---- responses ---------------------------------------------------------------------------------


@api.post(
    "/support/survey-responses",
    roles=None,
    summary="Answer a survey through its emailed link (no login: the signed token names the invitation)",
    responses={201: {}},
)
def answer_survey(
    body: Annotated[TokenAnswer, Body()],
    token: Annotated[str | None, Query(max_length=MAX_TOKEN)] = None,
) -> Response[SurveyResponseOut]:
    signed = body.token or token
    if not signed:
        raise Unprocessable.field("token", "Send the token of the survey link, in the body or as ?token=.")
    claim = links.read_token(signed, now())
    api.act_for(claim.tenant_id)  # the verified link names the tenant: only its data from here on
    return answered(responses.respond_to_claim(claim, Answer(score=body.score, comment=body.comment)))


@api.post(
    "/support/tickets/<ticket_id>/survey-response",
    roles=PORTAL,
    summary="Answer the survey of a ticket of your client (portal)",
    responses={201: {}},
)
def answer_ticket_survey(ticket_id: EntityId, body: Annotated[Answer, Body()]) -> Response[SurveyResponseOut]:
    ctx = api.caller()
    return answered(responses.respond_for_ticket(ctx, Ticket.load(ctx, ticket_id), body))


@api.get("/support/survey-responses", roles=STAFF, summary="List survey responses, newest first")
def list_survey_responses(
    survey_id: IdFilter = None,
    responded_from: Annotated[Moment | None, Query()] = None,
    responded_to: Annotated[Moment | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[SurveyResponseOut]:
    page = responses.page(
        api.caller(),
        survey_id=survey_id,
        responded_from=responded_from,
        responded_to=responded_to,
        limit=limit,
        cursor=cursor,
    )
    return page_out(page, SurveyResponseOut)


@api.get("/support/survey-responses/nps-summary", roles=STAFF, summary="Net Promoter Score over a date range")
def get_nps_summary(survey_id: IdFilter = None, date_from: DateFrom = None, date_to: DateTo = None) -> NpsSummary:
    counts = summaries.score_counts(api.caller(), "nps", survey_id=survey_id, date_from=date_from, date_to=date_to)
    return summaries.nps(counts)


@api.get("/support/survey-responses/csat-summary", roles=STAFF, summary="Customer satisfaction over a date range")
def get_csat_summary(survey_id: IdFilter = None, date_from: DateFrom = None, date_to: DateTo = None) -> ScaleSummary:
    counts = summaries.score_counts(api.caller(), "csat", survey_id=survey_id, date_from=date_from, date_to=date_to)
    return summaries.scale(counts)


@api.get("/support/survey-responses/ces-summary", roles=STAFF, summary="Customer effort over a date range")
def get_ces_summary(survey_id: IdFilter = None, date_from: DateFrom = None, date_to: DateTo = None) -> ScaleSummary:
    counts = summaries.score_counts(api.caller(), "ces", survey_id=survey_id, date_from=date_from, date_to=date_to)
    return summaries.scale(counts)


handler = api.handler
