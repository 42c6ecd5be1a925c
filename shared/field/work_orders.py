"""Work orders: the entity, its number sequence, its state machine and who may change it.

Keys: ``T#<t>#WO#<id>`` / ``WO``; all newest first GSI1 ``T#<t>#WOS``; of a ticket GSI2
``T#<t>#TICKET#<ticket>#WOS``; of a technician GSI3 ``T#<t>#TECH#<tech>#WOS``; by status GSI4
``T#<t>#WOS#STATUS#<status>``; by number GSI5 ``T#<t>#WONUM#<number>``. Numbers (``WO-2026-00001``)
come from the same machinery as ticket numbers, sequence ``workorder``.

A ticket's work-order link (``T#<t>#TICKET#<ticket>`` / ``WORKORDER``) is written with the ticket's
first work order: the automation writes it conditioned on its absence, in the same transaction as
the work order, so a ticket gets at most one automatic work order however often its stream record
is delivered; a manual work order for the ticket (over)writes it too, so the automation leaves
tickets that already have one alone.

State machine: ``new`` → assign → ``assigned`` → schedule → ``scheduled`` → start → ``in_progress``
→ complete → ``completed``; cancel from any open state; anything else is a 409. The technician's
``open_work_orders`` moves in the same transaction (conditioned on capacity when it grows), and so do the
tenant's counts of work orders by status (``status_counts``; creation included).

Who may change a work order: managers, and staff who are not technicians, any; a staff user with a
technician profile (and not a manager) only those assigned to them (403 otherwise).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.caller import TenantContext
from shared.clock import now
from shared.crm.clients import Client
from shared.db.counters import retry_contended
from shared.db.entities import (
    Entity,
    LocationAttribute,
    apply_patch,
    changed_meanwhile,
    expect_version,
    require_state,
    touch,
)
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import Item, get_or_none, tkey, transaction
from shared.errors import Conflict, Forbidden, Unavailable, Unprocessable
from shared.field import status_counts
from shared.field.rules import Priority, WorkOrderType
from shared.field.technicians import Technician
from shared.schemas import Audited, Id, Instant, Location, Strict, Version, Versioned
from shared.support.numbering import Sequence, SequenceFormat, allocate_and_write
from shared.support.tickets import Ticket

SEQUENCE = "workorder"
FORMAT = SequenceFormat(prefix="WO")
MAX_NUMBER_ATTEMPTS = 10

Status = Literal["new", "assigned", "scheduled", "in_progress", "completed", "cancelled"]
Source = Literal["manual", "automatic"]
Notes = Annotated[str, StringConstraints(max_length=5000)]
OPEN = ("assigned", "scheduled", "in_progress")
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "assign": ("new", "assigned", "scheduled"),
    "schedule": ("assigned", "scheduled"),
    "start": ("assigned", "scheduled"),
    "complete": ("in_progress",),
    "cancel": ("new", "assigned", "scheduled", "in_progress"),
}
DONE = {
    "assign": "assigned",
    "schedule": "scheduled",
    "start": "started",
    "complete": "completed",
    "cancel": "cancelled",
}
Also = Callable[[TransactWrite], None]


class WorkOrder(Entity, discriminator="work_order"):
    noun, prefix = "work order", "WO"
    number = UnicodeAttribute()
    type = UnicodeAttribute()
    priority = UnicodeAttribute()
    status = UnicodeAttribute(default="new")
    source = UnicodeAttribute()
    source_ticket_id = UnicodeAttribute(null=True)
    rule_id = UnicodeAttribute(null=True)
    client_id = UnicodeAttribute(null=True)
    location = LocationAttribute(null=True)
    technician_id = UnicodeAttribute(null=True)
    scheduled_start = UTCDateTimeAttribute(null=True)
    duration_minutes = NumberAttribute()
    notes = UnicodeAttribute(default="")
    created_by = UnicodeAttribute()
    started_at = UTCDateTimeAttribute(null=True)
    completed_at = UTCDateTimeAttribute(null=True)
    cancelled_at = UTCDateTimeAttribute(null=True)
    counted = BooleanAttribute(null=True)  # in the status counts (status_counts); not if written before them

    @staticmethod
    def of_ticket_partition(tenant_id: str, ticket_id: str) -> str:
        return tkey(tenant_id, "TICKET", ticket_id, "WOS")

    def index(self) -> None:
        t, order = self.tenant_id, self.time_order
        self.GSI1PK, self.GSI1SK = tkey(t, "WOS"), order
        self.GSI2PK, self.GSI2SK = (
            (self.of_ticket_partition(t, self.source_ticket_id), order) if self.source_ticket_id else (None, None)
        )
        self.GSI3PK, self.GSI3SK = (
            (tkey(t, "TECH", self.technician_id, "WOS"), order) if self.technician_id else (None, None)
        )
        self.GSI4PK, self.GSI4SK = tkey(t, "WOS", "STATUS", self.status), order
        self.GSI5PK, self.GSI5SK = tkey(t, "WONUM", self.number), "WO"


class TicketWorkOrderLink(Item, discriminator="ticket_work_order"):
    """The ticket has a work order (the first automatic one, or the latest manual one)."""

    ticket_id = UnicodeAttribute()
    work_order_id = UnicodeAttribute()

    @staticmethod
    def key(tenant_id: str, ticket_id: str) -> tuple[str, str]:
        return Ticket.key(tenant_id, ticket_id)[0], "WORKORDER"

    @classmethod
    def of(cls, order: WorkOrder) -> TicketWorkOrderLink:
        key = cls.key(order.tenant_id, order.source_ticket_id)
        return cls(*key, tenant_id=order.tenant_id, ticket_id=order.source_ticket_id, work_order_id=order.id)


class NewWorkOrder(Strict):
    type: WorkOrderType = "repair"
    priority: Priority = "normal"
    source_ticket_id: Id | None = None
    client_id: Id | None = None
    location: Location | None = None
    duration_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    notes: Notes = ""


class WorkOrderPatch(Versioned):
    version: Version = None
    type: WorkOrderType | None = None
    priority: Priority | None = None
    location: Location | None = None
    duration_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    notes: Notes | None = None


class AssignWorkOrder(Strict):
    technician_id: Id
    version: Version = None


class ScheduleWorkOrder(Strict):
    scheduled_start: Instant
    duration_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    version: Version = None


class WorkOrderOut(Audited):
    id: str
    number: str
    type: WorkOrderType
    priority: Priority
    status: Status
    source: Source
    source_ticket_id: str | None
    rule_id: str | None
    client_id: str | None
    location: Location | None
    technician_id: str | None
    scheduled_start: datetime | None
    duration_minutes: int
    notes: str
    created_by: str
    started_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None


class WorkOrderFilters(Strict):
    status: Status | None = None
    technician_id: Id | None = None


# ---- creating ----------------------------------------------------------------------------------


def insert(order: WorkOrder, also: Also = lambda tx: None) -> WorkOrder:
    """Number ``order`` and write it with ``also``'s writes and its status count in one transaction.

    A failed condition of ``also`` raises the TransactWriteError (no number is consumed in the usual path)."""
    order.counted = True
    counts = status_counts.moved(order.tenant_id, None, order.status)

    def with_count(tx: TransactWrite) -> None:
        also(tx)
        counts.apply(tx)

    for attempt in range(MAX_NUMBER_ATTEMPTS):
        sequence = get_or_none(Sequence, Sequence.key(order.tenant_id, SEQUENCE))
        sequence = sequence or Sequence.fresh(order.tenant_id, SEQUENCE, FORMAT)
        if allocate_and_write(sequence, order, order.created_at, with_count):
            return order
        time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
    raise Unavailable("Too many work orders are being created at once; retry shortly.", retry_after=1)


def create(ctx: TenantContext, body: NewWorkOrder) -> WorkOrder:
    client_id, location = body.client_id, body.location
    if client_id and Client.find(ctx.tenant_id, client_id) is None:
        raise Unprocessable.field("client_id", "No such client.")
    if body.source_ticket_id:
        ticket = Ticket.load(ctx, body.source_ticket_id)
        client_id = client_id or ticket.client_id
        location = location or (Location.model_validate(ticket.location) if ticket.location else None)
    order = WorkOrder.new(
        ctx,
        number="",
        created_by=ctx.user_id,
        type=body.type,
        priority=body.priority,
        source="manual",
        source_ticket_id=body.source_ticket_id,
        client_id=client_id,
        location=LocationAttribute.of(location),
        duration_minutes=body.duration_minutes,
        notes=body.notes,
    )
    also = (lambda tx: tx.save(TicketWorkOrderLink.of(order))) if body.source_ticket_id else (lambda tx: None)
    return insert(order, also)


# ---- reading -----------------------------------------------------------------------------------


def page(ctx: TenantContext, filters: WorkOrderFilters, *, limit: int, cursor: str | None) -> Page[WorkOrder]:
    t = ctx.tenant_id
    if filters.technician_id:
        index, hash_key = WorkOrder.gsi3, tkey(t, "TECH", filters.technician_id, "WOS")
        condition = (WorkOrder.status == filters.status) if filters.status else None
    elif filters.status:
        index, hash_key, condition = WorkOrder.gsi4, tkey(t, "WOS", "STATUS", filters.status), None
    else:
        index, hash_key, condition = WorkOrder.gsi1, tkey(t, "WOS"), None
    name = "work-orders:" + filters.model_dump_json(exclude_none=True)
    return query_page(
        index, hash_key, t, name, limit=limit, cursor=cursor, newest_first=True, filter_condition=condition
    )


def of_ticket(ctx: TenantContext, ticket_id: str, *, limit: int, cursor: str | None) -> Page[WorkOrder]:
    partition = WorkOrder.of_ticket_partition(ctx.tenant_id, ticket_id)
    name = f"ticket-work-orders:{ticket_id}"
    page = query_page(WorkOrder.gsi2, partition, ctx.tenant_id, name, limit=limit, cursor=cursor)
    if not page.items and cursor is None:
        Ticket.load(ctx, ticket_id)  # none: tell a ticket without work orders from no ticket at all
    return page


def link_of(tenant_id: str, ticket_id: str) -> TicketWorkOrderLink | None:
    return get_or_none(TicketWorkOrderLink, TicketWorkOrderLink.key(tenant_id, ticket_id))


# ---- changing ----------------------------------------------------------------------------------


def update(ctx: TenantContext, work_order_id: str, patch: WorkOrderPatch, if_match: int | None) -> WorkOrder:
    order = _for_change(ctx, work_order_id, patch.version, if_match, required=True)
    if order.status in ("completed", "cancelled"):
        raise Conflict(f"A {order.status} work order cannot be edited.", current_status=order.status)
    if "location" in apply_patch(order, patch, nullable={"location"}):
        order.location = LocationAttribute.of(order.location)
    return _save(ctx, order, was=order.status)


def assign(ctx: TenantContext, work_order_id: str, body: AssignWorkOrder, if_match: int | None) -> WorkOrder:
    order = _for_action(ctx, work_order_id, "assign", body.version, if_match)
    if Technician.find(ctx.tenant_id, body.technician_id) is None:
        raise Unprocessable.field("technician_id", "No such technician.")
    was, previous = order.status, order.technician_id if order.status in OPEN else None
    order.technician_id = body.technician_id
    order.status = "scheduled" if order.scheduled_start else "assigned"
    return _save(ctx, order, was=was, gains=body.technician_id, loses=previous)


def schedule(ctx: TenantContext, work_order_id: str, body: ScheduleWorkOrder, if_match: int | None) -> WorkOrder:
    if body.scheduled_start.tzinfo is None:
        raise Unprocessable.field("scheduled_start", "Give a time zone (e.g. Z or +01:00).")
    order = _for_action(ctx, work_order_id, "schedule", body.version, if_match)
    was, order.scheduled_start, order.status = order.status, body.scheduled_start, "scheduled"
    if body.duration_minutes:
        order.duration_minutes = body.duration_minutes
    return _save(ctx, order, was=was)


def start(ctx: TenantContext, work_order_id: str, if_match: int | None) -> WorkOrder:
    order = _for_action(ctx, work_order_id, "start", if_match)
    was, order.status, order.started_at = order.status, "in_progress", now()
    return _save(ctx, order, was=was)


def complete(ctx: TenantContext, work_order_id: str, if_match: int | None) -> WorkOrder:
    order = _for_action(ctx, work_order_id, "complete", if_match)
    was, order.status, order.completed_at = order.status, "completed", now()
    return _save(ctx, order, was=was, loses=order.technician_id)


def cancel(ctx: TenantContext, work_order_id: str, if_match: int | None) -> WorkOrder:
    order = _for_action(ctx, work_order_id, "cancel", if_match)
    was, held = order.status, order.technician_id if order.status in OPEN else None
    order.status, order.cancelled_at = "cancelled", now()
    return _save(ctx, order, was=was, loses=held)


def _for_change(ctx: TenantContext, work_order_id: str, *sent: int | None, required: bool = False) -> WorkOrder:
    order = WorkOrder.load(ctx, work_order_id)
    if not (ctx.is_manager or order.technician_id == ctx.user_id) and Technician.find(ctx.tenant_id, ctx.user_id):
        raise Forbidden("A technician may change only the work orders assigned to them.")
    expect_version(order, *sent, required=required)
    return order


def _for_action(ctx: TenantContext, work_order_id: str, action: str, *sent: int | None) -> WorkOrder:
    order = _for_change(ctx, work_order_id, *sent)
    require_state(order, ALLOWED_FROM[action], DONE[action])
    return order


def gain_slot(tx: TransactWrite, tenant_id: str, technician_id: str) -> None:
    """One more open work order for the technician, if active and below capacity."""
    room = (Technician.active == True) & (Technician.open_work_orders < Technician.capacity)  # noqa: E712
    tech = Technician(*Technician.key(tenant_id, technician_id))
    tx.update(tech, actions=[Technician.open_work_orders.add(1)], condition=Technician.PK.exists() & room)


def _free_slot(tx: TransactWrite, tenant_id: str, technician_id: str) -> None:
    tech = Technician(*Technician.key(tenant_id, technician_id))
    tx.update(tech, actions=[Technician.open_work_orders.add(-1)], condition=Technician.PK.exists())


def _save(
    ctx: TenantContext, order: WorkOrder, *, was: str, gains: str | None = None, loses: str | None = None
) -> WorkOrder:
    """Write the changed order (it was in status ``was``) with its technicians' slots and its status count."""
    touch(ctx, order)
    if gains == loses:
        gains = loses = None  # reassigned to the same technician: the count stays
    counts = status_counts.moved(ctx.tenant_id, was if order.counted else None, order.status)
    order.counted = True

    def commit() -> None:
        with transaction() as tx:
            tx.save(order)
            if gains:
                gain_slot(tx, ctx.tenant_id, gains)
            if loses:
                _free_slot(tx, ctx.tenant_id, loses)
            counts.apply(tx)

    try:
        with storage_errors(changed_meanwhile(order)):
            retry_contended(commit)  # the status counts are every work order write's of the tenant
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            raise Conflict(changed_meanwhile(order)) from None
        if gains and cancelled_by_condition(error, 1):
            raise Conflict("The technician is inactive or at capacity.") from None
        raise
    return order
