"""A tenant's surveys: create, read, list, edit and delete them (managers; staff read)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from shared.caller import TenantContext
from shared.db.entities import apply_patch, expect_version, insert, remove, save
from shared.db.pages import Page, query_page
from shared.schemas import Audited, Name, Strict, Version
from shared.support.surveys.model import Kind, SendAfter, Survey

Question = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
CooldownDays = Annotated[int, Field(ge=0, le=365)]


class NewSurvey(Strict):
    name: Name
    kind: Kind
    question: Question
    follow_up_question: Question | None = None
    active: bool = True
    send_after: SendAfter = "resolved"
    cooldown_days: CooldownDays = 30


class SurveyPatch(Strict):
    version: Version = None
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


def create(ctx: TenantContext, body: NewSurvey) -> Survey:
    return insert(Survey.new(ctx, **body.model_dump()))


def page(ctx: TenantContext, *, limit: int, cursor: str | None) -> Page[Survey]:
    partition = Survey.partition_of_all(ctx.tenant_id)
    return query_page(Survey.gsi1, partition, ctx.tenant_id, "surveys", limit=limit, cursor=cursor, newest_first=True)


def update(ctx: TenantContext, survey_id: str, patch: SurveyPatch, if_match: int | None) -> Survey:
    survey = Survey.load(ctx, survey_id)
    expect_version(survey, patch.version, if_match)
    apply_patch(survey, patch, nullable={"follow_up_question"})
    return save(ctx, survey)


def delete(ctx: TenantContext, survey_id: str, if_match: int | None) -> None:
    """Responses and counters stay: summaries over past days keep their figures."""
    survey = Survey.load(ctx, survey_id)
    expect_version(survey, if_match, required=False)
    remove(survey)
