"""SLA policies: what is promised to whom, and on which business hours.

All of a tenant's policies live in one item, the policy book (``T#<t>#SLA`` / ``POLICIES``): the
first matching active policy is chosen by order, so every ticket change that can change the
choice needs all of them, and one item is one read — it joins the BatchGet a ticket create already
makes (creating a ticket stays at two round trips). A book holds at most ``MAX_POLICIES``
(well under DynamoDB's 400 KB item limit with full calendars). Writes are optimistic: the book
has a version, and each policy its own version for ``If-Match``.

SlaTargets are minutes of business time per priority and metric; fractions are allowed (0.5 = 30
seconds: chat channels promise replies in seconds).
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints
from pynamodb.attributes import JSONAttribute, VersionAttribute

from shared import tenants
from shared.business_time import BusinessCalendar
from shared.caller import TenantContext
from shared.clock import now
from shared.db.entities import expect_version
from shared.db.errors import storage_errors
from shared.db.table import Item, get_or_none, tkey
from shared.errors import NotFound, Unprocessable
from shared.hours import BusinessCalendarIn
from shared.ids import new_id
from shared.schemas import Name, Storable, Strict, Tag, Version, Versioned

MAX_POLICIES = 50
METRICS = ("first_response", "next_response", "resolution")
PRIORITIES = ("low", "normal", "high", "urgent")

Metric = Literal["first_response", "next_response", "resolution"]
Minutes = Annotated[float, Field(gt=0, le=366 * 24 * 60, description="Business minutes; fractions allowed."), Storable]
Value = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class SlaConditions(Strict):
    """All optional; AND across fields, OR within a field. Empty conditions match every ticket."""

    priorities: list[Literal["low", "normal", "high", "urgent"]] = Field(default_factory=list, max_length=4)
    categories: list[Value] = Field(default_factory=list, max_length=50)
    customer_types: list[Value] = Field(default_factory=list, max_length=50)
    tags: list[Tag] = Field(default_factory=list, max_length=50)


class SlaTargets(Strict):
    first_response: Minutes | None = None
    next_response: Minutes | None = None
    resolution: Minutes | None = None


class SlaPriorityTargets(Strict):
    low: SlaTargets = Field(default_factory=SlaTargets)
    normal: SlaTargets = Field(default_factory=SlaTargets)
    high: SlaTargets = Field(default_factory=SlaTargets)
    urgent: SlaTargets = Field(default_factory=SlaTargets)


class SlaPolicyIn(Strict):
    name: Name
    active: bool = True
    order: int = Field(default=100, ge=0, le=1_000_000, description="Lower first; the first matching policy wins.")
    conditions: SlaConditions = Field(default_factory=SlaConditions)
    targets: SlaPriorityTargets
    warning_percent: int = Field(default=80, ge=1, le=100, description="Warn when this share of a target is used.")
    calendar: BusinessCalendarIn | None = Field(
        default=None, description="Default: the tenant's time zone and business hours (/admin/settings)."
    )


class SlaPolicyUpdate(SlaPolicyIn, Versioned):
    version: Version = None


class SlaPolicy(SlaPolicyIn):
    """A stored policy (also its response body)."""

    noun: ClassVar[str] = "SLA policy"
    id: str
    version: int
    calendar: BusinessCalendarIn
    created_at: datetime
    updated_at: datetime

    @cached_property
    def business_calendar(self) -> BusinessCalendar:
        return self.calendar.calendar()

    def targets_for(self, priority: str) -> SlaTargets:
        return getattr(self.targets, priority)

    def matches(self, ticket: object) -> bool:
        c = self.conditions
        return (
            self.active
            and (not c.priorities or ticket.priority in c.priorities)
            and (not c.categories or ticket.category in c.categories)
            and (not c.customer_types or ticket.customer_type in c.customer_types)
            and (not c.tags or bool(set(c.tags) & set(ticket.tags or ())))
        )


class PolicyBook(Item, discriminator="sla_policies"):
    policies = JSONAttribute(default=list)
    version = VersionAttribute()

    @staticmethod
    def key(tenant_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "SLA"), "POLICIES"

    @classmethod
    def empty(cls, tenant_id: str) -> PolicyBook:
        return cls(*cls.key(tenant_id), tenant_id=tenant_id, policies=[])

    def all(self) -> list[SlaPolicy]:
        return sorted((SlaPolicy.model_validate(p) for p in self.policies), key=lambda p: (p.order, p.id))

    def find(self, policy_id: str) -> SlaPolicy:
        for policy in self.all():
            if policy.id == policy_id:
                return policy
        raise NotFound("No such SLA policy.")

    def match(self, ticket: object) -> SlaPolicy | None:
        """The first active policy, by order, whose conditions the ticket meets."""
        return next((p for p in self.all() if p.matches(ticket)), None)

    def _store(self, policies: list[SlaPolicy]) -> None:
        self.policies = [p.model_dump(mode="json") for p in policies]


# ---- operations ---------------------------------------------------------------------------------


def load(tenant_id: str) -> PolicyBook:
    return get_or_none(PolicyBook, PolicyBook.key(tenant_id)) or PolicyBook.empty(tenant_id)


def get(ctx: TenantContext, policy_id: str) -> SlaPolicy:
    return load(ctx.tenant_id).find(policy_id)


def create(ctx: TenantContext, body: SlaPolicyIn) -> SlaPolicy:
    book = load(ctx.tenant_id)
    policies = book.all()
    if len(policies) >= MAX_POLICIES:
        raise Unprocessable(f"A tenant may have at most {MAX_POLICIES} SLA policies; delete or merge some.")
    moment = now()
    policy = SlaPolicy(
        **body.model_dump(exclude={"calendar"}),
        calendar=body.calendar or tenants.default_calendar(ctx.tenant_id),
        id=new_id(),
        version=1,
        created_at=moment,
        updated_at=moment,
    )
    book._store([*policies, policy])
    _save(ctx, book)
    return policy


def replace(ctx: TenantContext, policy_id: str, body: SlaPolicyUpdate, if_match: int | None) -> SlaPolicy:
    book = load(ctx.tenant_id)
    current = book.find(policy_id)
    expect_version(current, body.version, if_match)
    changed = SlaPolicy(
        **body.model_dump(exclude={"version", "calendar"}),
        calendar=body.calendar or tenants.default_calendar(ctx.tenant_id),
        id=policy_id,
        version=current.version + 1,
        created_at=current.created_at,
        updated_at=now(),
    )
    book._store([changed if p.id == policy_id else p for p in book.all()])
    _save(ctx, book)
    return changed


def delete(ctx: TenantContext, policy_id: str) -> None:
    book = load(ctx.tenant_id)
    book.find(policy_id)
    book._store([p for p in book.all() if p.id != policy_id])
    _save(ctx, book)


def _save(ctx: TenantContext, book: PolicyBook) -> None:
    book.updated_by = ctx.user_id
    with storage_errors("The SLA policies changed meanwhile; reload and retry."):
        book.save()
