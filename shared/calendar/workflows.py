"""Meeting workflows (managers): when an appointment is booked, N minutes before it starts, N minutes after
it ends or when it is cancelled, run actions — an email to the attendees or the organizer (a marketing email
template of the tenant, or the action's own template text), a survey to the client's contacts who attended,
an onboarding or follow-up task.

Keys: ``T#<t>#MWF#<id>`` / ``MWF``; all GSI1 ``T#<t>#MWFS``; the active ones GSI2 ``T#<t>#MWFS#ACTIVE``
(what the planner reads for each appointment change: one Query). Template text is checked by the sandbox when
saved (422 naming the line); the email templates and the survey the actions name must exist in the tenant,
checked in the write's own transaction."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator
from pynamodb.attributes import BooleanAttribute, JSONAttribute, UnicodeAttribute

from shared.caller import TenantContext
from shared.db.entities import Entity, Requires, expect_version, insert, remove, save
from shared.db.pages import Page, query_page
from shared.db.table import tkey
from shared.errors import Unprocessable
from shared.schemas import Audited, Id, Name, Strict, Versioned
from shared.support.surveys.model import Survey

Trigger = Literal["booked", "before_start", "after_end", "cancelled"]
TIMED = ("before_start", "after_end")
MAX_OFFSET = 60 * 24 * 60  # minutes: 60 days
MAX_ACTIONS = 10
MAX_ACTIONS_BYTES = 300_000
Subject = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
TaskTitle = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
AppointmentType = Annotated[str, StringConstraints(min_length=1, max_length=50, pattern=r"^[a-z0-9_-]+$")]


class TriggerIn(BaseModel):
    model_config = {"extra": "forbid"}
    kind: Trigger
    minutes: int = Field(default=0, ge=0, le=MAX_OFFSET, description="For before_start and after_end.")


class FilterIn(Strict):
    appointment_types: Annotated[list[AppointmentType], Field(max_length=20)] = []
    client_ids: Annotated[list[Id], Field(max_length=50)] = []


class EmailAction(Strict):
    """Exactly one of a marketing email template (``email_template_id``) and the action's own ``subject`` with
    ``text`` and/or ``html``."""

    kind: Literal["email"]
    to: Literal["attendees", "organizer", "everyone"] = "attendees"
    email_template_id: Id | None = Field(default=None, description="A marketing email template of the tenant.")
    subject: Subject | None = Field(
        default=None, description="Without a template: {{ appointment.title }}, {{ recipient.name }}…"
    )
    text: Body | None = None
    html: Body | None = None

    @model_validator(mode="after")
    def _one_source(self) -> EmailAction:
        own = self.subject is not None or self.text is not None or self.html is not None
        if self.email_template_id is not None and own:
            raise ValueError("give email_template_id or subject with text and/or html, not both")
        if self.email_template_id is None and (self.subject is None or (self.text is None and self.html is None)):
            raise ValueError("give email_template_id, or subject with text, html or both")
        return self


class SurveyAction(Strict):
    kind: Literal["survey"]
    survey_id: Id = Field(description="Sent to the contacts who attend (a client's people).")


class TaskAction(Strict):
    kind: Literal["onboarding_task", "follow_up_task"]
    title: TaskTitle
    due_in_days: int = Field(default=1, ge=0, le=365)


Action = Annotated[EmailAction | SurveyAction | TaskAction, Field(discriminator="kind")]


class WorkflowIn(Strict):
    name: Name
    active: bool = True
    trigger: TriggerIn
    filter: FilterIn = FilterIn()
    actions: Annotated[list[Action], Field(min_length=1, max_length=MAX_ACTIONS)]

    @model_validator(mode="after")
    def _fits_an_item(self) -> WorkflowIn:
        # a DynamoDB item holds 400 KB: the templates of all actions together get most of it
        size = sum(len(json.dumps(a.model_dump(), ensure_ascii=False).encode()) for a in self.actions)
        if size > MAX_ACTIONS_BYTES:
            raise ValueError(f"the actions' templates come to {size} bytes; at most {MAX_ACTIONS_BYTES} together")
        return self


class WorkflowUpdate(WorkflowIn, Versioned):
    """The whole workflow, replaced (optimistic locking)."""


class WorkflowOut(Audited):
    id: str
    name: str
    active: bool
    trigger: TriggerIn
    filter: FilterIn
    actions: list[Action]


class Workflow(Entity, discriminator="meeting_workflow"):
    noun, prefix = "meeting workflow", "MWF"
    name = UnicodeAttribute()
    active = BooleanAttribute(default=True)
    trigger = JSONAttribute()
    filter = JSONAttribute()
    actions = JSONAttribute()

    @staticmethod
    def partition_of_all(tenant_id: str) -> str:
        return tkey(tenant_id, "MWFS")

    @staticmethod
    def partition_of_active(tenant_id: str) -> str:
        return tkey(tenant_id, "MWFS", "ACTIVE")

    def index(self) -> None:
        self.GSI1PK, self.GSI1SK = self.partition_of_all(self.tenant_id), self.time_order
        active = self.partition_of_active(self.tenant_id) if self.active else None
        self.GSI2PK, self.GSI2SK = (active, self.time_order) if active else (None, None)

    def applies_to(self, appointment: object) -> bool:
        types, clients = self.filter.get("appointment_types") or [], self.filter.get("client_ids") or []
        return (not types or appointment.type in types) and (not clients or appointment.client_id in clients)

    def fires_at(self, appointment: object) -> datetime | None:
        """When the trigger fires for ``appointment`` (None: at its event — booked, cancelled)."""
        minutes = timedelta(minutes=int(self.trigger.get("minutes") or 0))
        kind = self.trigger["kind"]
        if kind == "before_start":
            return appointment.start - minutes
        if kind == "after_end":
            return appointment.end + minutes
        return None


def _checked(ctx: TenantContext, body: WorkflowIn) -> tuple[dict, list[Requires]]:
    """The stored form; template text checked; the email templates and the survey the actions name, as the
    write's conditions (one each)."""
    from shared import templating  # Jinja2: only the functions that save or render templates load it
    from shared.marketing.templates import EmailTemplate  # likewise: the calendar's other routes do without it

    survey: Requires | None = None
    named: dict[tuple[str, str], Requires] = {}
    for i, action in enumerate(body.actions):
        if isinstance(action, EmailAction) and action.email_template_id is not None:
            key = EmailTemplate.key(ctx.tenant_id, action.email_template_id)
            error = Unprocessable.field(f"actions[{i}].email_template_id", "No such email template.")
            named.setdefault(key, Requires(EmailTemplate, key, EmailTemplate.PK.exists(), error))
        elif isinstance(action, EmailAction):
            templating.check(action.subject, field=f"actions[{i}].subject")
            if action.text is not None:
                templating.check(action.text, field=f"actions[{i}].text")
            if action.html is not None:
                templating.check(action.html, field=f"actions[{i}].html", html=True)
        elif isinstance(action, SurveyAction):
            if survey is not None and survey.key != Survey.key(ctx.tenant_id, action.survey_id):
                raise Unprocessable.field(f"actions[{i}].survey_id", "A workflow sends one survey.")
            survey = Requires(
                Survey,
                Survey.key(ctx.tenant_id, action.survey_id),
                Survey.PK.exists(),
                Unprocessable.field(f"actions[{i}].survey_id", "No such survey."),
            )
    if body.trigger.kind not in TIMED and body.trigger.minutes:
        raise Unprocessable.field("trigger.minutes", f"A {body.trigger.kind} trigger fires at once: send 0.")
    return body.model_dump(exclude={"version"}, exclude_none=True), [*named.values(), *([survey] if survey else [])]


def create(ctx: TenantContext, body: WorkflowIn) -> Workflow:
    fields, named = _checked(ctx, body)
    return insert(Workflow.new(ctx, **fields), requires=named)


def replace(ctx: TenantContext, workflow_id: str, body: WorkflowUpdate, if_match: int | None) -> Workflow:
    workflow = Workflow.load(ctx, workflow_id)
    expect_version(workflow, body.version, if_match)
    fields, named = _checked(ctx, body)
    for name, value in fields.items():
        setattr(workflow, name, value)
    return save(ctx, workflow, requires=named)


def delete(ctx: TenantContext, workflow_id: str, if_match: int | None) -> None:
    """Its pending executions are skipped when they come due (the workflow is gone)."""
    workflow = Workflow.load(ctx, workflow_id)
    expect_version(workflow, if_match, required=False)
    remove(workflow)


def page(ctx: TenantContext, *, limit: int, cursor: str | None) -> Page[Workflow]:
    partition = Workflow.partition_of_all(ctx.tenant_id)
    return query_page(Workflow.gsi1, partition, ctx.tenant_id, "meeting-workflows", limit=limit, cursor=cursor)


def active(tenant_id: str) -> list[Workflow]:
    """Every active workflow of the tenant: one Query of GSI2 (paged by PynamoDB)."""
    return list(Workflow.gsi2.query(Workflow.partition_of_active(tenant_id)))
