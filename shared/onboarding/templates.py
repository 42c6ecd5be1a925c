"""Onboarding templates: the checklist a firm gives every new client (tasks and document requests), versioned."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from shared.caller import TenantContext
from shared.db.entities import expect_version, insert, save
from shared.db.pages import Page, query_page
from shared.db.table import tkey
from shared.onboarding.model import AssigneeKind, Template
from shared.schemas import Audited, Name, Out, Strict, Versioned

MAX_ITEMS = 200  # tasks and documents together
MAX_OFFSET_DAYS = 5 * 366
Description = Annotated[str, StringConstraints(max_length=1000)]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET_DAYS, description="Days after the process's start date.")]


class TemplateTask(Strict):
    title: Name
    description: Description = ""
    assignee_kind: AssigneeKind = "staff"
    due_offset_days: Offset = 0
    order: int = Field(default=0, ge=0, le=10_000, description="Tasks are materialised by order, then as listed.")


class TemplateDocument(Strict):
    name: Name
    description: Description = ""
    required: bool = True
    due_offset_days: Offset = 0


class TemplateIn(Strict):
    name: Name
    description: Description = ""
    active: bool = True
    tasks: list[TemplateTask] = Field(default_factory=list, max_length=MAX_ITEMS)
    documents: list[TemplateDocument] = Field(default_factory=list, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _at_most_max_items(self) -> TemplateIn:
        if len(self.tasks) + len(self.documents) > MAX_ITEMS:
            raise ValueError(f"a template holds at most {MAX_ITEMS} tasks and documents together")
        return self


class TemplateUpdate(TemplateIn, Versioned):
    pass


class TemplateTaskOut(Out):
    title: str
    description: str
    assignee_kind: AssigneeKind
    due_offset_days: int
    order: int


class TemplateDocumentOut(Out):
    name: str
    description: str
    required: bool
    due_offset_days: int


class TemplateOut(Audited):
    id: str
    name: str
    description: str
    active: bool
    tasks: list[TemplateTaskOut]
    documents: list[TemplateDocumentOut]
    created_at: datetime


def _fields(body: TemplateIn) -> dict:
    return body.model_dump(exclude={"version"})


def create(ctx: TenantContext, body: TemplateIn) -> Template:
    return insert(Template.new(ctx, **_fields(body)))


def replace(ctx: TenantContext, template_id: str, body: TemplateUpdate, if_match: int | None) -> Template:
    template = Template.load(ctx, template_id)
    expect_version(template, body.version, if_match)
    for field, value in _fields(body).items():
        setattr(template, field, value)
    return save(ctx, template)


def page(ctx: TenantContext, *, limit: int, cursor: str | None) -> Page[Template]:
    partition = tkey(ctx.tenant_id, "ONBTPLS")
    return query_page(Template.gsi1, partition, ctx.tenant_id, "onboarding-templates", limit=limit, cursor=cursor)
