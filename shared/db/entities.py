"""The entity kit: what every tenant entity does, written once.

A tenant entity is its model, its keys and its own rules; everything else comes from here, so a 404,
a stale version or a wrong state reads the same in every module. The model subclasses ``Entity`` (the
audited fields ``id``, ``created_at``, ``updated_at``, ``version``) and says what it is called and
where it lives; its module reads and writes it with the functions below::

    class Survey(Entity, discriminator="survey"):
        noun, prefix = "survey", "SURVEY"       # "No such survey."; T#<tenant>#SURVEY#<id> / SURVEY
        name = UnicodeAttribute()
        active = BooleanAttribute(default=True)

        def index(self) -> None:                 # the index keys, derived before every write
            self.GSI1PK, self.GSI1SK = tkey(self.tenant_id, "SURVEYS"), self.time_order

    def create(ctx: TenantContext, body: NewSurvey) -> Survey:
        return insert(Survey.new(ctx, **body.model_dump()))              # 409 if the id exists

    def page(ctx: TenantContext, *, limit: int, cursor: str | None) -> Page[Survey]:
        partition = tkey(ctx.tenant_id, "SURVEYS")
        return query_page(Survey.gsi1, partition, ctx.tenant_id, "surveys", limit=limit, cursor=cursor)

    def update(ctx: TenantContext, survey_id: str, patch: SurveyPatch, if_match: int | None) -> Survey:
        survey = Survey.load(ctx, survey_id)                             # 404 "No such survey."
        expect_version(survey, patch.version, if_match)                  # 422 without one; 409 if stale
        apply_patch(survey, patch, nullable={"follow_up_question"})      # 422 for a null it may not take
        return save(ctx, survey)                                         # 409 if it changed meanwhile

State machines name their states in the 409: ``require_state(order, ("in_progress",), "completed")``
answers "A new work order cannot be completed." with ``current_status``. An entity portal users may
see only some of overrides ``visible_to(ctx)``; ``load`` then answers the same 404 for what they may
not see. A write that needs another item to hold (an assignee who is active staff) passes
``requires=Requires(...)`` (or a list of them): the checks and the write are one transaction, and a failed
check is the caller's own error. A response body is an ``Out`` model made with ``SurveyOut.of(survey)``.

The routes (``functions/api/<domain>.py``) take the shared parameter types and answer through the
shared helpers (``functions/api/core/params.py``, ``responses.py``); creates run at most once per
``Idempotency-Key`` (``Api.create_once``)::

    @api.get("/support/surveys", roles=STAFF, summary="List surveys, newest first")
    def list_surveys(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> PageOut[SurveyOut]:
        return page_out(definitions.page(api.caller(), limit=limit, cursor=cursor), SurveyOut)

    @api.get("/support/surveys/<survey_id>", roles=STAFF, summary="Get a survey")
    def get_survey(survey_id: EntityId) -> Response[SurveyOut]:
        return tagged(SurveyOut.of(Survey.load(api.caller(), survey_id)))     # ETag: "<version>"
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel
from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition

from shared.caller import TenantContext
from shared.clock import iso, now
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.table import Item, get_or_none, tkey, transaction
from shared.errors import Conflict, DomainError, NotFound, Unprocessable
from shared.ids import new_id

E = TypeVar("E", bound="Entity")
MISSING_VERSION = "Send the version you read, in the body or as If-Match."


class LocationAttribute(MapAttribute):
    """A point on the map (clients, tickets, work orders, technicians' homes)."""

    lat = NumberAttribute()
    lng = NumberAttribute()

    @classmethod
    def of(cls, location: BaseModel | dict[str, float] | None) -> LocationAttribute | None:
        if location is None:
            return None
        values = location.model_dump() if isinstance(location, BaseModel) else location
        return cls(lat=values["lat"], lng=values["lng"])


class Entity(Item):
    """A tenant entity with the audited fields; a subclass sets ``noun`` and ``prefix`` (or its own ``key``)."""

    noun: ClassVar[str]  # what a person calls it, in problems: "No such work order."
    prefix: ClassVar[str]  # its key: T#<tenant>#<prefix>#<id> / <prefix>

    id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()  # PynamoDB conditions every save on the version read and counts it up

    @classmethod
    def key(cls, tenant_id: str, entity_id: str) -> tuple[str, str]:
        return tkey(tenant_id, cls.prefix, entity_id), cls.prefix

    @classmethod
    def new(
        cls: type[E], ctx: TenantContext, entity_id: str | None = None, *, at: datetime | None = None, **fields: Any
    ) -> E:
        """A new entity of the caller's tenant, made by the caller now (or ``at``), with a fresh ULID unless
        given an id."""
        entity_id = entity_id or new_id()
        moment = at or now()
        return cls(
            *cls.key(ctx.tenant_id, entity_id),
            tenant_id=ctx.tenant_id,
            id=entity_id,
            created_at=moment,
            updated_at=moment,
            updated_by=ctx.user_id,
            **fields,
        )

    @classmethod
    def find(cls: type[E], tenant_id: str, entity_id: str) -> E | None:
        return get_or_none(cls, cls.key(tenant_id, entity_id))

    @classmethod
    def load(cls: type[E], ctx: TenantContext, entity_id: str) -> E:
        """The caller's entity, or "No such <noun>." — also what another tenant's id gets (the key holds
        the caller's tenant) and one the caller may not see."""
        return cls.visible(ctx, cls.find(ctx.tenant_id, entity_id))

    @classmethod
    def visible(cls: type[E], ctx: TenantContext, found: E | None) -> E:
        """``found`` if the caller may see it, else the same 404 as a missing one."""
        if found is None or not isinstance(found, cls) or not found.visible_to(ctx):
            raise NotFound(f"No such {cls.noun}.")
        return found

    def visible_to(self, ctx: TenantContext) -> bool:
        """Whether the caller may see it; the route's roles already hold. An entity with a rule for portal
        users (only their client's) overrides this."""
        return True

    @property
    def time_order(self) -> str:
        """The sort key of lists in creation order: the creation instant, then the id."""
        return f"{iso(self.created_at)}#{self.id}"

    def index(self) -> None:
        """Derive the index keys from the fields; ``insert`` and ``save`` call it before each write."""


@dataclass(frozen=True)
class Requires:
    """Another item that must meet ``condition`` for a write to happen (checked in the same transaction);
    ``error`` is what the caller hears when it does not."""

    model: type[Item]
    key: tuple[str, str]
    condition: Condition
    error: DomainError


Checks = Requires | Sequence[Requires] | None


def insert(entity: E, *, requires: Checks = None, conflict: str | None = None) -> E:
    """Write a new entity; 409 (``conflict``) if its key is taken."""
    entity.index()
    _write(entity, Entity.PK.does_not_exist(), requires, conflict or f"This {entity.noun} already exists.")
    return entity


def save(ctx: TenantContext, entity: E, *, requires: Checks = None, condition: Condition | None = None) -> E:
    """Write a changed entity, stamped by the caller; 409 if it changed since it was read (its version)
    or ``condition`` does not hold."""
    touch(ctx, entity)
    _write(entity, condition, requires, changed_meanwhile(entity))
    return entity


def touch(ctx: TenantContext, entity: Entity) -> None:
    """Stamp a change by the caller and derive the index keys, for a module that writes the entity itself."""
    entity.updated_at, entity.updated_by = now(), ctx.user_id
    entity.index()


def remove(entity: Entity, *, condition: Condition | None = None, conflict: str | None = None) -> None:
    """Delete the entity as it was read; 409 (``conflict``) if it changed meanwhile or ``condition`` fails."""
    with storage_errors(conflict or changed_meanwhile(entity)):
        entity.delete(condition=condition)


def changed_meanwhile(entity: Any) -> str:
    return f"The {entity.noun} changed meanwhile; reload and retry."


def expect_version(entity: Any, *sent: int | None, required: bool = True) -> None:
    """The version the caller read (the first of ``sent`` given: the body's, then If-Match) must be the
    entity's: 422 when none is sent (unless not ``required``), 409 with ``current_version`` when stale.
    ``entity`` is anything with a ``version`` and a ``noun``."""
    expected = next((v for v in sent if v is not None), None)
    if expected is None:
        if required:
            raise Unprocessable.field("version", MISSING_VERSION)
        return
    if expected != entity.version:
        raise Conflict(
            f"Stale version {expected}: the {entity.noun} is at version {entity.version}.",
            current_version=int(entity.version),
        )


def require_state(entity: Any, allowed: Iterable[str], done: str) -> None:
    """The entity's ``status`` must be one of ``allowed`` for it to be ``done``: else 409 naming the state."""
    if entity.status not in allowed:
        article = "An" if entity.status[:1] in "aeiou" else "A"
        raise Conflict(f"{article} {entity.status} {entity.noun} cannot be {done}.", current_status=entity.status)


def apply_patch(entity: Any, patch: BaseModel, *, nullable: Iterable[str] = ()) -> dict[str, Any]:
    """Set the fields the patch sends (but ``version``); 422 for a null in a field not ``nullable``.
    Returns what was set."""
    changes = patch.model_dump(exclude_unset=True, exclude={"version"})
    for field, value in changes.items():
        if value is None and field not in nullable:
            raise Unprocessable.field(field, "May not be null.")
        setattr(entity, field, value)
    return changes


def _write(entity: Entity, condition: Condition | None, requires: Checks, conflict: str) -> None:
    checks = [requires] if isinstance(requires, Requires) else list(requires or ())
    if not checks:
        with storage_errors(conflict):
            entity.save(condition=condition)
        return
    try:
        with storage_errors(conflict), transaction() as tx:
            for check in checks:
                tx.condition_check(check.model, *check.key, condition=check.condition)
            tx.save(entity, condition=condition)
    except TransactWriteError as error:
        failed = next((c for i, c in enumerate(checks) if cancelled_by_condition(error, i)), None)
        if failed is not None:
            raise failed.error from None
        if cancelled_by_condition(error, len(checks)):
            raise Conflict(conflict) from None
        raise
