"""Technicians: the field-service profile of a staff user of the tenant.

A technician is keyed by its user id (``T#<t>#TECH#<user>`` / ``TECH``): a user has at most one
profile, "is the caller a technician?" is one GetItem, and a work order's ``technician_id`` is the
user id a token carries. ``open_work_orders`` counts the technician's assigned, scheduled and in
progress work orders; it moves in the same transaction as the work order, conditioned on
``open_work_orders < capacity``, so capacity holds under concurrent assignment. All technicians of
a tenant: GSI1 ``T#<t>#TECHS`` (sorted by id: the stable order round robin walks).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints
from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import TransactWriteError

from shared.calendar import BusinessCalendar
from shared.caller import TenantContext
from shared.clock import now
from shared.crm.clients import LocationAttribute
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import Item, get_or_none, tkey, transaction
from shared.directory import UserProfile
from shared.errors import Conflict, NotFound, Unprocessable
from shared.schemas import Audited, Email, Id, Location, Name, Storable, Strict, Versioned
from shared.support.sla_policies import BusinessCalendarIn

Skill = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=50)]
Skills = Annotated[list[Skill], Field(max_length=50)]


class Technician(Item, discriminator="technician"):
    id = UnicodeAttribute()  # the user id
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    skills = ListAttribute(of=UnicodeAttribute, default=list)
    home = LocationAttribute(null=True)
    service_radius_km = NumberAttribute(null=True)
    capacity = NumberAttribute()
    working_hours = JSONAttribute()
    active = BooleanAttribute(default=True)
    open_work_orders = NumberAttribute(default=0)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    # optimistic locking by hand: the counter moves without touching it (see module docstring)
    version = NumberAttribute(default=1)

    @staticmethod
    def key(tenant_id: str, technician_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "TECH", technician_id), "TECH"

    @staticmethod
    def partition_of_all(tenant_id: str) -> str:
        return tkey(tenant_id, "TECHS")

    @property
    def calendar(self) -> BusinessCalendar:
        return BusinessCalendarIn.model_validate(self.working_hours).calendar()

    @property
    def has_room(self) -> bool:
        return self.active and int(self.open_work_orders or 0) < int(self.capacity)


class TechnicianIn(Strict):
    name: Name
    email: Email
    skills: Skills = Field(default_factory=list)
    home: Location | None = None
    service_radius_km: Annotated[float, Field(gt=0, le=20_000), Storable] | None = Field(
        default=None, description="None: no limit."
    )
    capacity: int = Field(default=5, ge=1, le=1000, description="Most open work orders at once.")
    working_hours: BusinessCalendarIn
    active: bool = True


class NewTechnician(TechnicianIn):
    user_id: Id = Field(description="A staff user of the tenant; the technician's id.")


class TechnicianUpdate(TechnicianIn, Versioned):
    """The replacement, with the version it replaces."""


class TechnicianOut(Audited):
    id: str
    user_id: str
    name: str
    email: str
    skills: list[str]
    home: Location | None
    service_radius_km: float | None
    capacity: int
    working_hours: BusinessCalendarIn
    active: bool
    open_work_orders: int

    @classmethod
    def of(cls, tech: Technician) -> TechnicianOut:
        return cls(
            id=tech.id,
            user_id=tech.id,
            name=tech.name,
            email=tech.email,
            skills=list(tech.skills or []),
            home=Location(lat=tech.home.lat, lng=tech.home.lng) if tech.home else None,
            service_radius_km=tech.service_radius_km,
            capacity=int(tech.capacity),
            working_hours=BusinessCalendarIn.model_validate(tech.working_hours),
            active=tech.active,
            open_work_orders=int(tech.open_work_orders or 0),
            created_at=tech.created_at,
            updated_at=tech.updated_at,
            version=int(tech.version),
        )


def _apply(tech: Technician, body: TechnicianIn) -> None:
    tech.name, tech.email, tech.active = body.name, body.email, body.active
    tech.skills = sorted(set(body.skills))
    tech.home = LocationAttribute(**body.home.model_dump()) if body.home else None
    tech.service_radius_km = body.service_radius_km
    tech.capacity = body.capacity
    tech.working_hours = body.working_hours.model_dump(mode="json")


def create(ctx: TenantContext, body: NewTechnician) -> Technician:
    moment = now()
    tech = Technician(
        *Technician.key(ctx.tenant_id, body.user_id),
        tenant_id=ctx.tenant_id,
        id=body.user_id,
        open_work_orders=0,
        created_at=moment,
        updated_at=moment,
        updated_by=ctx.user_id,
        version=1,
        GSI1PK=Technician.partition_of_all(ctx.tenant_id),
        GSI1SK=body.user_id,
    )
    _apply(tech, body)
    profile_key = UserProfile.key(ctx.tenant_id, body.user_id)
    try:
        with storage_errors(), transaction() as tx:
            tx.condition_check(
                UserProfile,
                *profile_key,
                condition=(UserProfile.active == True) & UserProfile.role.is_in("staff", "managers"),  # noqa: E712
            )
            tx.save(tech, condition=Technician.PK.does_not_exist())
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            raise Unprocessable.field("user_id", "Not an active staff user of this tenant.") from None
        if cancelled_by_condition(error, 1):
            raise Conflict("This user already has a technician profile.") from None
        raise
    return tech


def find(tenant_id: str, technician_id: str) -> Technician | None:
    with storage_errors():
        return get_or_none(Technician, Technician.key(tenant_id, technician_id))


def get(ctx: TenantContext, technician_id: str) -> Technician:
    tech = find(ctx.tenant_id, technician_id)
    if tech is None:
        raise NotFound("No such technician.")
    return tech


def page(ctx: TenantContext, *, limit: int, cursor: str | None) -> Page[Technician]:
    with storage_errors():
        return query_page(
            Technician.gsi1.query,
            hash_key=Technician.partition_of_all(ctx.tenant_id),
            tenant_id=ctx.tenant_id,
            query_name="technicians",
            cursor=cursor,
            limit=limit,
        )


def all_of(tenant_id: str) -> list[Technician]:
    """Every technician of the tenant, in id order: one Query (paginated past 1 MB by PynamoDB)."""
    with storage_errors():
        return list(Technician.gsi1.query(Technician.partition_of_all(tenant_id)))


def replace(ctx: TenantContext, technician_id: str, body: TechnicianUpdate, if_match: int | None) -> Technician:
    tech = get(ctx, technician_id)
    expected = body.version or if_match
    if expected is None:
        raise Unprocessable.field("version", "Send the version you read, in the body or as If-Match.")
    if expected != tech.version:
        raise Conflict(f"Stale version {expected}: the technician is at version {tech.version}.")
    _apply(tech, body)
    tech.updated_at, tech.updated_by, tech.version = now(), ctx.user_id, expected + 1
    with storage_errors("The technician changed meanwhile; reload and retry."):
        tech.save(condition=Technician.version == expected)
    return tech


def delete(ctx: TenantContext, technician_id: str) -> None:
    get(ctx, technician_id)
    pk, sk = Technician.key(ctx.tenant_id, technician_id)
    with storage_errors("The technician has open work orders; reassign or finish them first."):
        Technician(pk, sk).delete(condition=Technician.PK.exists() & (Technician.open_work_orders == 0))


def known_skills(tenant_id: str) -> set[str]:
    return {skill for tech in all_of(tenant_id) for skill in tech.skills or []}
