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
from pynamodb.attributes import BooleanAttribute, JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute

from shared.business_time import BusinessCalendar
from shared.caller import TenantContext
from shared.db.entities import Entity, LocationAttribute, expect_version, insert, remove, save
from shared.db.errors import storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import tkey
from shared.directory import active_staff
from shared.hours import BusinessCalendarIn
from shared.schemas import Audited, Email, Id, Location, Name, Storable, Strict, Version, Versioned

Skill = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=50)]
Skills = Annotated[list[Skill], Field(max_length=50)]


class Technician(Entity, discriminator="technician"):
    noun, prefix = "technician", "TECH"  # its id is the user id
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    skills = ListAttribute(of=UnicodeAttribute, default=list)
    home = LocationAttribute(null=True)
    service_radius_km = NumberAttribute(null=True)
    capacity = NumberAttribute()
    working_hours = JSONAttribute()
    active = BooleanAttribute(default=True)
    open_work_orders = NumberAttribute(default=0)
    # Optimistic locking by hand (``replace``): the counter moves in work orders' transactions on a bare key,
    # which PynamoDB's version handling would refuse, so the version is a plain number and PynamoDB's is off.
    version = NumberAttribute(default=1)
    _version_attribute_name = None

    @staticmethod
    def partition_of_all(tenant_id: str) -> str:
        return tkey(tenant_id, "TECHS")

    def index(self) -> None:
        self.GSI1PK, self.GSI1SK = self.partition_of_all(self.tenant_id), self.id

    @property
    def calendar(self) -> BusinessCalendar:
        return BusinessCalendarIn.model_validate(self.working_hours).calendar()

    @property
    def user_id(self) -> str:
        return self.id

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
    version: Version = None


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


def _apply(tech: Technician, body: TechnicianIn) -> None:
    tech.name, tech.email, tech.active = body.name, body.email, body.active
    tech.skills = sorted(set(body.skills))
    tech.home = LocationAttribute.of(body.home)
    tech.service_radius_km = body.service_radius_km
    tech.capacity = body.capacity
    tech.working_hours = body.working_hours.model_dump(mode="json")


def create(ctx: TenantContext, body: NewTechnician) -> Technician:
    tech = Technician.new(ctx, body.user_id, open_work_orders=0, version=1)
    _apply(tech, body)
    staff = active_staff(ctx.tenant_id, body.user_id, "user_id")
    return insert(tech, requires=staff, conflict="This user already has a technician profile.")


def page(ctx: TenantContext, *, limit: int, cursor: str | None) -> Page[Technician]:
    partition = Technician.partition_of_all(ctx.tenant_id)
    return query_page(Technician.gsi1, partition, ctx.tenant_id, "technicians", limit=limit, cursor=cursor)


def all_of(tenant_id: str) -> list[Technician]:
    """Every technician of the tenant, in id order: one Query (paginated past 1 MB by PynamoDB)."""
    with storage_errors():
        return list(Technician.gsi1.query(Technician.partition_of_all(tenant_id)))


def replace(ctx: TenantContext, technician_id: str, body: TechnicianUpdate, if_match: int | None) -> Technician:
    tech = Technician.load(ctx, technician_id)
    expect_version(tech, body.version, if_match)
    _apply(tech, body)
    read, tech.version = tech.version, tech.version + 1
    return save(ctx, tech, condition=Technician.version == read)


def delete(ctx: TenantContext, technician_id: str) -> None:
    tech = Technician.load(ctx, technician_id)
    conflict = "The technician has open work orders; reassign or finish them first."
    remove(tech, condition=Technician.PK.exists() & (Technician.open_work_orders == 0), conflict=conflict)


def known_skills(tenant_id: str) -> set[str]:
    return {skill for tech in all_of(tenant_id) for skill in tech.skills or []}
