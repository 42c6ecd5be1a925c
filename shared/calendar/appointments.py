"""Appointments: a title, a span in UTC with its IANA zone, an organizer (a staff user), attendees, a
client, a place or link, a type and a status (``scheduled`` → ``cancelled`` | ``completed``).

Keys: ``T#<t>#APPT#<id>`` / ``APPT``; by start GSI1 ``T#<t>#APPTS``; of an organizer GSI2
``T#<t>#USER#<user>#APPTS``; of a client GSI3 ``T#<t>#CLIENT#<client>#APPTS`` (sort keys ``<start>#<id>``).

``sequence`` is the invitation's SEQUENCE (RFC 5545): it rises with every change an attendee's calendar
must show (time, zone, place, title, people) and with the cancel; the calendar mail consumer sends
METHOD:REQUEST for each new sequence and METHOD:CANCEL on the cancel, under one UID, so every calendar
updates the same event. Portal users see their client's appointments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from shared.calendar import people, times
from shared.calendar.people import PersonIn, PersonOut
from shared.caller import TenantContext
from shared.clock import iso
from shared.crm.clients import Client
from shared.db.entities import Entity, Requires, apply_patch, expect_version, insert, require_state, save
from shared.db.pages import Page, instant_range, query_page
from shared.db.table import tkey
from shared.errors import Unprocessable
from shared.hours import TimeZone
from shared.schemas import Audited, Id, Moment, Name, Strict, Versioned

Status = Literal["scheduled", "cancelled", "completed"]
MAX_ATTENDEES = 100
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Url = Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://[^\s]+$")]
Type = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=r"^[a-z0-9_-]+$")]
Attendees = Annotated[list[PersonIn], Field(max_length=MAX_ATTENDEES)]
# what an attendee's calendar must be told about again (a new SEQUENCE)
INVITATION_FIELDS = frozenset({"title", "description", "start", "end", "time_zone", "location", "meeting_url"})


class Appointment(Entity, discriminator="appointment"):
    noun, prefix = "appointment", "APPT"
    title = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    start = UTCDateTimeAttribute()
    end = UTCDateTimeAttribute()
    time_zone = UnicodeAttribute()
    organizer_id = UnicodeAttribute()
    organizer = JSONAttribute()  # a stored Person
    attendees = JSONAttribute(default=list)  # stored Persons
    client_id = UnicodeAttribute(null=True)
    location = UnicodeAttribute(null=True)
    meeting_url = UnicodeAttribute(null=True)
    type = UnicodeAttribute(default="meeting")
    status = UnicodeAttribute(default="scheduled")
    sequence = NumberAttribute(default=0)
    poll_id = UnicodeAttribute(null=True)

    @staticmethod
    def partition_of_all(tenant_id: str) -> str:
        return tkey(tenant_id, "APPTS")

    @staticmethod
    def partition_of_organizer(tenant_id: str, user_id: str) -> str:
        return tkey(tenant_id, "USER", user_id, "APPTS")

    @staticmethod
    def partition_of_client(tenant_id: str, client_id: str) -> str:
        return tkey(tenant_id, "CLIENT", client_id, "APPTS")

    def index(self) -> None:
        order = f"{iso(self.start)}#{self.id}"
        self.GSI1PK, self.GSI1SK = self.partition_of_all(self.tenant_id), order
        self.GSI2PK, self.GSI2SK = self.partition_of_organizer(self.tenant_id, self.organizer_id), order
        client = self.partition_of_client(self.tenant_id, self.client_id) if self.client_id else None
        self.GSI3PK, self.GSI3SK = (client, order) if client else (None, None)

    def visible_to(self, ctx: TenantContext) -> bool:
        return not ctx.is_portal or (self.client_id is not None and self.client_id == ctx.client_id)

    def people(self) -> list[people.Person]:
        return [people.Person(**p) for p in self.attendees]


class NewAppointment(Strict):
    title: Name
    description: Text | None = None
    start: times.Wall
    end: times.Wall
    time_zone: TimeZone
    organizer_id: Id | None = Field(default=None, description="A staff user; default: you.")
    attendees: Attendees = []
    client_id: Id | None = None
    location: Place | None = None
    meeting_url: Url | None = None
    type: Type = "meeting"


class AppointmentPatch(Versioned):
    """A change; ``start``/``end`` without an offset are read in the (new) ``time_zone``."""

    title: Name | None = None
    description: Text | None = None
    start: times.Wall | None = None
    end: times.Wall | None = None
    time_zone: TimeZone | None = None
    attendees: Attendees | None = None
    location: Place | None = None
    meeting_url: Url | None = None
    type: Type | None = None


class AppointmentOut(Audited):
    id: str
    title: str
    description: str | None
    start: datetime
    end: datetime
    time_zone: str
    start_local: datetime = Field(description="The start as a wall clock in time_zone shows it.")
    end_local: datetime
    organizer_id: str
    organizer: PersonOut
    attendees: list[PersonOut]
    client_id: str | None
    location: str | None
    meeting_url: str | None
    type: str
    status: Status
    sequence: int
    poll_id: str | None

    @classmethod
    def of(cls, appointment: Appointment) -> AppointmentOut:
        return cls.model_validate(
            {
                **{name: getattr(appointment, name) for name in cls.model_fields if hasattr(appointment, name)},
                "start_local": times.local(appointment.start, appointment.time_zone),
                "end_local": times.local(appointment.end, appointment.time_zone),
            }
        )


class AppointmentFilters(Strict):
    start_from: Moment | None = None
    start_to: Moment | None = None
    organizer_id: str | None = None
    client_id: str | None = None


def client_exists(tenant_id: str, client_id: str) -> Requires:
    return Requires(
        Client,
        Client.key(tenant_id, client_id),
        Client.PK.exists(),
        Unprocessable.field("client_id", "No such client."),
    )


def build(
    ctx: TenantContext,
    *,
    title: str,
    start: datetime,
    end: datetime,
    time_zone: str,
    organizer: people.Person,
    attendees: list[people.Person],
    **fields: object,
) -> Appointment:
    """A new scheduled appointment (not yet written), its span already UTC instants."""
    return Appointment.new(
        ctx,
        title=title,
        start=start,
        end=end,
        time_zone=time_zone,
        organizer_id=organizer.id,
        organizer=organizer.stored(),
        attendees=[a.stored() for a in attendees],
        **fields,
    )


def create(ctx: TenantContext, body: NewAppointment) -> Appointment:
    """Reads the organizer (if not the caller) and the attendees, then one write checked against the client."""
    start, end = times.span(body.start, body.end, body.time_zone)
    appointment = build(
        ctx,
        title=body.title,
        start=start,
        end=end,
        time_zone=body.time_zone,
        organizer=people.organizer(ctx, body.organizer_id),
        attendees=people.resolve(ctx.tenant_id, body.attendees, "attendees"),
        description=body.description,
        client_id=body.client_id,
        location=body.location,
        meeting_url=body.meeting_url,
        type=body.type,
    )
    requires = client_exists(ctx.tenant_id, body.client_id) if body.client_id else None
    return insert(appointment, requires=requires)


def update(ctx: TenantContext, appointment_id: str, patch: AppointmentPatch, if_match: int | None) -> Appointment:
    """Reschedule or edit a scheduled appointment; a change its attendees must see raises ``sequence``."""
    appointment = Appointment.load(ctx, appointment_id)
    expect_version(appointment, patch.version, if_match)
    require_state(appointment, ("scheduled",), "changed")
    sent = patch.model_fields_set
    zone = patch.time_zone or appointment.time_zone
    if sent & {"start", "end", "time_zone"}:
        start = patch.start if patch.start is not None else times.local(appointment.start, zone).replace(tzinfo=None)
        end = patch.end if patch.end is not None else times.local(appointment.end, zone).replace(tzinfo=None)
        patch.start, patch.end = times.span(start, end, zone)
    changes = apply_patch(appointment, patch, nullable=NULLABLE)
    if patch.attendees is not None:
        appointment.attendees = [p.stored() for p in people.resolve(ctx.tenant_id, patch.attendees, "attendees")]
    if changes.keys() & (INVITATION_FIELDS | {"attendees"}):
        appointment.sequence = int(appointment.sequence) + 1
    return save(ctx, appointment)


NULLABLE = frozenset({"description", "location", "meeting_url"})


def cancel(ctx: TenantContext, appointment_id: str, if_match: int | None) -> Appointment:
    appointment = Appointment.load(ctx, appointment_id)
    expect_version(appointment, if_match, required=False)
    require_state(appointment, ("scheduled",), "cancelled")
    appointment.status, appointment.sequence = "cancelled", int(appointment.sequence) + 1
    return save(ctx, appointment)


def complete(ctx: TenantContext, appointment_id: str, if_match: int | None) -> Appointment:
    appointment = Appointment.load(ctx, appointment_id)
    expect_version(appointment, if_match, required=False)
    require_state(appointment, ("scheduled",), "completed")
    appointment.status = "completed"
    return save(ctx, appointment)


def page(ctx: TenantContext, filters: AppointmentFilters, *, limit: int, cursor: str | None) -> Page[Appointment]:
    """One Query: of the client (a portal user: always their own), else of the organizer, else all; by start."""
    client_id = ctx.client_id if ctx.is_portal else filters.client_id
    organizer_filter = None
    if client_id:
        index, sort_key = Appointment.gsi3, Appointment.GSI3SK
        partition = Appointment.partition_of_client(ctx.tenant_id, client_id)
        if filters.organizer_id:
            organizer_filter = Appointment.organizer_id == filters.organizer_id
    elif filters.organizer_id:
        index, sort_key = Appointment.gsi2, Appointment.GSI2SK
        partition = Appointment.partition_of_organizer(ctx.tenant_id, filters.organizer_id)
    else:
        index, sort_key = Appointment.gsi1, Appointment.GSI1SK
        partition = Appointment.partition_of_all(ctx.tenant_id)
    span = instant_range(sort_key, filters.start_from, filters.start_to, ("start_from", "start_to"))
    name = f"appointments:{client_id}:{filters.organizer_id}:{filters.start_from}:{filters.start_to}"
    return query_page(
        index,
        partition,
        ctx.tenant_id,
        name,
        limit=limit,
        cursor=cursor,
        range_key_condition=span,
        filter_condition=organizer_filter,
    )
