"""Work-order rules: when a ticket should become a work order, and how it is assigned and scheduled.

Each rule is an item (``T#<t>#WORULE#<id>`` / ``WORULE``; all: GSI1 ``T#<t>#WORULES``). Active rules
also sit in GSI2 (``T#<t>#WORULES#ACTIVE``, sorted highest priority first), so the automation reads
every active rule of a tenant with one Query and takes the first that matches. Round robin turns
are counted on an item of their own per rule (``…#WORULE#<id>`` / ``RR``), so a rule's edits and
its turns never conflict.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from shared.caller import TenantContext
from shared.db.entities import Entity, expect_version, insert, remove, save
from shared.db.errors import storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import Item, tkey
from shared.errors import Unprocessable
from shared.field import technicians
from shared.field.assignment import Logic
from shared.field.technicians import Skills
from shared.schemas import Audited, Name, Strict, Tag, Version

MAX_PRIORITY = 1_000_000
WorkOrderType = Literal["repair", "installation", "maintenance", "inspection"]
Priority = Literal["low", "normal", "high", "urgent"]
Value = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class Trigger(Strict):
    """All optional; AND across fields, OR within a field. Empty: every ticket matches."""

    priorities: list[Priority] = Field(default_factory=list, max_length=4)
    categories: list[Value] = Field(default_factory=list, max_length=50)
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    customer_types: list[Value] = Field(default_factory=list, max_length=50)


class Template(Strict):
    type: WorkOrderType = "repair"
    priority: Priority | None = Field(default=None, description="None: the ticket's priority.")
    duration_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)


class AssignmentIn(Strict):
    auto_assign: bool = True
    logic: Logic = "workload"
    required_skills: Skills = Field(default_factory=list)


class Scheduling(Strict):
    auto_schedule: bool = False
    offset_hours: float = Field(default=0, ge=0, le=24 * 365, description="From now; moved into working hours.")


class Notifications(Strict):
    notify_customer: bool = True
    notify_technician: bool = True


class RuleIn(Strict):
    name: Name
    active: bool = True
    priority: int = Field(default=100, ge=0, le=MAX_PRIORITY, description="Higher wins when several rules match.")
    trigger: Trigger = Field(default_factory=Trigger)
    template: Template = Field(default_factory=Template)
    assignment: AssignmentIn = Field(default_factory=AssignmentIn)
    scheduling: Scheduling = Field(default_factory=Scheduling)
    notifications: Notifications = Field(default_factory=Notifications)


class RuleUpdate(RuleIn):
    version: Version = None


class RuleOut(RuleIn, Audited):
    id: str

    @classmethod
    def of(cls, rule: Rule) -> RuleOut:
        return cls(
            **rule.spec().model_dump(),
            id=rule.id,
            created_at=rule.created_at,
            updated_at=rule.updated_at,
            version=rule.version,
        )


class Rule(Entity, discriminator="work_order_rule"):
    noun, prefix = "work-order rule", "WORULE"
    name = UnicodeAttribute()
    active = BooleanAttribute()
    priority = NumberAttribute()
    body = JSONAttribute()  # the RuleIn fields

    @staticmethod
    def active_partition(tenant_id: str) -> str:
        return tkey(tenant_id, "WORULES", "ACTIVE")

    def index(self) -> None:
        self.GSI1PK, self.GSI1SK = tkey(self.tenant_id, "WORULES"), self.id
        if self.active:
            self.GSI2PK, self.GSI2SK = (
                self.active_partition(self.tenant_id),
                f"{MAX_PRIORITY - self.priority:07d}#{self.id}",
            )
        else:
            self.GSI2PK = self.GSI2SK = None

    def spec(self) -> RuleIn:
        return RuleIn.model_validate(self.body)

    def matches(self, ticket: object) -> bool:
        t = self.spec().trigger
        return (
            self.active
            and (not t.priorities or ticket.priority in t.priorities)
            and (not t.categories or ticket.category in t.categories)
            and (not t.customer_types or ticket.customer_type in t.customer_types)
            and (not t.tags or bool(set(t.tags) & set(ticket.tags or ())))
        )


class RoundRobinPointer(Item, discriminator="round_robin"):
    turn = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, rule_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "WORULE", rule_id), "RR"


def active_rules(tenant_id: str) -> list[Rule]:
    """Every active rule of the tenant, highest priority first: one Query."""
    with storage_errors():
        return list(Rule.gsi2.query(Rule.active_partition(tenant_id)))


def best_match(rules: list[Rule], ticket: object) -> Rule | None:
    """The highest-priority matching rule (``rules`` in GSI2 order; ties by id)."""
    return next((r for r in rules if r.matches(ticket)), None)


def next_turn(tenant_id: str, rule_id: str) -> int:
    """Take the rule's next round robin turn: one atomic increment, so no two callers share one."""
    client = Item._get_connection().connection.client
    pk, sk = RoundRobinPointer.key(tenant_id, rule_id)
    response = client.update_item(
        TableName=Item.Meta.table_name,
        Key={"PK": {"S": pk}, "SK": {"S": sk}},
        UpdateExpression="SET #turn = if_not_exists(#turn, :zero) + :one, entity = :entity, tenant_id = :tenant",
        ExpressionAttributeNames={"#turn": "turn"},
        ExpressionAttributeValues={
            ":zero": {"N": "0"},
            ":one": {"N": "1"},
            ":entity": {"S": "round_robin"},
            ":tenant": {"S": tenant_id},
        },
        ReturnValues="UPDATED_NEW",
    )
    return int(response["Attributes"]["turn"]["N"])


# ---- CRUD --------------------------------------------------------------------------------------


def _validate(ctx: TenantContext, body: RuleIn) -> None:
    wanted = set(body.assignment.required_skills)
    unknown = sorted(wanted - technicians.known_skills(ctx.tenant_id)) if wanted else []
    if unknown:
        raise Unprocessable.field(
            "assignment.required_skills", f"No technician of the tenant has these skills: {', '.join(unknown)}."
        )


def create(ctx: TenantContext, body: RuleIn) -> Rule:
    _validate(ctx, body)
    rule = Rule.new(ctx)
    _apply(rule, body)
    return insert(rule)


def page(ctx: TenantContext, *, limit: int, cursor: str | None) -> Page[Rule]:
    partition = tkey(ctx.tenant_id, "WORULES")
    return query_page(Rule.gsi1, partition, ctx.tenant_id, "work-order-rules", limit=limit, cursor=cursor)


def replace(ctx: TenantContext, rule_id: str, body: RuleUpdate, if_match: int | None) -> Rule:
    rule = Rule.load(ctx, rule_id)
    expect_version(rule, body.version, if_match)
    _validate(ctx, body)
    _apply(rule, RuleIn.model_validate(body.model_dump(exclude={"version"})))
    return save(ctx, rule)


def delete(ctx: TenantContext, rule_id: str) -> None:
    remove(Rule.load(ctx, rule_id))


def _apply(rule: Rule, body: RuleIn) -> None:
    rule.name, rule.active, rule.priority = body.name, body.active, body.priority
    rule.body = body.model_dump(mode="json")
