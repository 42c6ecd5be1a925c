"""Tickets: the entity, its keys and indexes, and every operation on it.

Access patterns (see README): get by id (GetItem), by number (GSI5), newest first for the
tenant (GSI1), per client (GSI2), per assignee (GSI3), per status (GSI4); the SLA sweep finds
tickets by the minute of their next deadline (the system index DUE). The created-at range
is a key condition on every index; other filters narrow the chosen index's page.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field, StringConstraints
from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import TransactWriteError

from shared.caller import TenantContext
from shared.clock import iso, now
from shared.crm.clients import Client, Contact, LocationAttribute
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.pages import Page, instant_range, query_page
from shared.db.table import Item, get_or_none, tkey, transaction
from shared.directory import UserProfile
from shared.errors import Conflict, NotFound, Unavailable, Unprocessable
from shared.ids import new_id
from shared.schemas import MAX_VERSION, Audited, Id, Location, Strict, Tags, Versioned
from shared.settings import settings
from shared.support import sla, sla_policies
from shared.support.numbering import Sequence, SequenceFormat, allocate_and_write
from shared.support.sla import DueIndex

SEQUENCE = "ticket"
MAX_NUMBER_ATTEMPTS = 10

Status = Literal["new", "open", "pending", "on_hold", "resolved", "closed"]
Priority = Literal["low", "normal", "high", "urgent"]
Channel = Literal["portal", "email", "phone", "api"]
Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=20_000)]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]

ACTIVE = ("new", "open", "pending", "on_hold")
# Statuses a PATCH may set; resolve, close and reopen are actions with rules of their own.
EDITABLE_STATUSES = ("open", "pending", "on_hold")


class Ticket(Item, discriminator="ticket"):
    id = UnicodeAttribute()
    number = UnicodeAttribute()
    subject = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    status = UnicodeAttribute(default="new")
    priority = UnicodeAttribute(default="normal")
    category = UnicodeAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    channel = UnicodeAttribute()
    client_id = UnicodeAttribute(null=True)
    requester = JSONAttribute(null=True)  # {"kind": "contact"|"portal_user"|"staff", "id": ...}
    assignee_id = UnicodeAttribute(null=True)
    customer_type = UnicodeAttribute(null=True)
    location = LocationAttribute(null=True)
    sla = JSONAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    resolved_at = UTCDateTimeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()
    DUEPK = UnicodeAttribute(null=True)
    DUESK = UnicodeAttribute(null=True)
    due = DueIndex()

    @staticmethod
    def key(tenant_id: str, ticket_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "TICKET", ticket_id), "TICKET"

    @staticmethod
    def number_key(tenant_id: str, number: str) -> str:
        return tkey(tenant_id, "TICKETNUM", number)

    def index(self) -> None:
        """Derive every index key from the fields; called before each write."""
        t, order = self.tenant_id, f"{iso(self.created_at)}#{self.id}"
        self.GSI1PK, self.GSI1SK = tkey(t, "TICKETS"), order
        self.GSI2PK, self.GSI2SK = (
            (tkey(t, "CLIENT", self.client_id, "TICKETS"), order) if self.client_id else (None, None)
        )
        self.GSI3PK, self.GSI3SK = (
            (tkey(t, "ASSIGNEE", self.assignee_id, "TICKETS"), order) if self.assignee_id else (None, None)
        )
        self.GSI4PK, self.GSI4SK = tkey(t, "TICKETS", "STATUS", self.status), order
        self.GSI5PK, self.GSI5SK = self.number_key(t, self.number), "TICKET"
        self.DUEPK, self.DUESK = DueIndex.keys(self)


class NewTicket(Strict):
    subject: Subject
    description: Description = ""
    priority: Priority = "normal"
    category: Category | None = None
    tags: Tags = Field(default_factory=list)
    channel: Channel | None = None
    client_id: Id | None = None
    requester_contact_id: Id | None = None


class TicketPatch(Versioned):
    subject: Subject | None = None
    description: Description | None = None
    priority: Priority | None = None
    category: Category | None = None
    tags: Tags | None = None
    status: Literal["open", "pending", "on_hold"] | None = None


class Assignment(Strict):
    assignee_id: Id | None = Field(description="A staff user of the tenant; null unassigns.")
    version: int | None = Field(default=None, ge=1, le=MAX_VERSION)


class Requester(Strict):
    kind: Literal["contact", "portal_user", "staff"]
    id: str


class TicketOut(Audited):
    id: str
    number: str
    subject: str
    description: str
    status: Status
    priority: Priority
    category: str | None
    tags: list[str]
    channel: Channel
    client_id: str | None
    requester: Requester | None
    assignee_id: str | None
    customer_type: str | None
    location: Location | None
    sla: dict | None
    created_by: str
    resolved_at: datetime | None
    closed_at: datetime | None


class TicketFilters(Strict):
    status: Status | None = None
    priority: Priority | None = None
    assignee_id: Id | None = None
    client_id: Id | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


# ---- reads -------------------------------------------------------------------------------------


def get(ctx: TenantContext, ticket_id: str) -> Ticket:
    with storage_errors():
        ticket = get_or_none(Ticket, Ticket.key(ctx.tenant_id, ticket_id))
    return _visible(ctx, ticket)


def by_number(ctx: TenantContext, number: str) -> Ticket:
    with storage_errors():
        found = list(Ticket.gsi5.query(Ticket.number_key(ctx.tenant_id, number), limit=1))
    return _visible(ctx, found[0] if found else None)


def _visible(ctx: TenantContext, ticket: Ticket | None) -> Ticket:
    # Another tenant's ticket never loads (its key holds its tenant); another client's is hidden.
    if ticket is None or (ctx.is_portal and ticket.client_id != ctx.client_id):
        raise NotFound("No such ticket.")
    return ticket


def search(ctx: TenantContext, filters: TicketFilters, *, limit: int, cursor: str | None) -> Page[Ticket]:
    if ctx.is_portal:
        filters = filters.model_copy(update={"client_id": ctx.client_id})
    t = ctx.tenant_id
    # The most selective filter picks the index; the rest filter its page.
    if filters.client_id:
        index, sk, hash_key, used = (
            Ticket.gsi2,
            Item.GSI2SK,
            tkey(t, "CLIENT", filters.client_id, "TICKETS"),
            "client_id",
        )
    elif filters.assignee_id:
        index, sk, hash_key, used = (
            Ticket.gsi3,
            Item.GSI3SK,
            tkey(t, "ASSIGNEE", filters.assignee_id, "TICKETS"),
            "assignee_id",
        )
    elif filters.status:
        index, sk, hash_key, used = Ticket.gsi4, Item.GSI4SK, tkey(t, "TICKETS", "STATUS", filters.status), "status"
    else:
        index, sk, hash_key, used = Ticket.gsi1, Item.GSI1SK, tkey(t, "TICKETS"), None

    range_condition = instant_range(sk, filters.created_from, filters.created_to, ("created_from", "created_to"))

    filter_condition = None
    for field in ("status", "priority", "assignee_id"):
        value = getattr(filters, field)
        if value and field != used:
            clause = getattr(Ticket, field) == value
            filter_condition = clause if filter_condition is None else filter_condition & clause

    with storage_errors():
        return query_page(
            index.query,
            hash_key=hash_key,
            range_key_condition=range_condition,
            filter_condition=filter_condition,
            scan_index_forward=False,
            tenant_id=t,
            query_name="tickets:" + filters.model_dump_json(exclude_none=True),
            cursor=cursor,
            limit=limit,
        )


# ---- create ------------------------------------------------------------------------------------


def create(ctx: TenantContext, body: NewTicket) -> Ticket:
    """Two round trips: one BatchGet (counter, client, contact), one transaction (counter, ticket, guard)."""
    if ctx.is_portal:
        client_id, contact_id, channel = ctx.client_id, None, "portal"
        requester = {"kind": "portal_user", "id": ctx.user_id}
    else:
        client_id, contact_id, channel = body.client_id, body.requester_contact_id, body.channel or "api"
        requester = {"kind": "contact", "id": contact_id} if contact_id else {"kind": "staff", "id": ctx.user_id}
    if contact_id and not client_id:
        raise Unprocessable.field("client_id", "A requester contact needs its client_id.")

    ticket_id = new_id()
    for attempt in range(MAX_NUMBER_ATTEMPTS):
        sequence, client, book = _load_for_create(ctx, client_id, contact_id)
        moment = now()
        ticket = Ticket(
            *Ticket.key(ctx.tenant_id, ticket_id),
            tenant_id=ctx.tenant_id,
            id=ticket_id,
            subject=body.subject,
            description=body.description,
            priority=body.priority,
            category=body.category,
            tags=body.tags,
            channel=channel,
            client_id=client_id,
            requester=requester,
            customer_type=client.customer_type if client else None,
            location=client.location if client else None,
            created_by=ctx.user_id,
            created_at=moment,
            updated_at=moment,
            updated_by=ctx.user_id,
        )
        writes = sla.track(ticket, book, moment)
        if allocate_and_write(sequence, ticket, moment, writes.apply):
            return ticket
        time.sleep(random.uniform(0, 0.01 * (attempt + 1)))  # the format changed meanwhile: reload it
    raise Unavailable("Too many tickets are being created at once; retry shortly.", retry_after=1)


def _load_for_create(
    ctx: TenantContext, client_id: str | None, contact_id: str | None
) -> tuple[Sequence, Client | None, sla_policies.PolicyBook]:
    keys = [Sequence.key(ctx.tenant_id, SEQUENCE), sla_policies.PolicyBook.key(ctx.tenant_id)]
    if client_id:
        keys.append(Client.key(ctx.tenant_id, client_id))
    if contact_id:
        keys.append(Contact.key(ctx.tenant_id, contact_id))
    with storage_errors():
        found = {item.PK: item for item in Item.batch_get(keys)}
    sequence = found.get(keys[0][0]) or Sequence.fresh(ctx.tenant_id, SEQUENCE, SequenceFormat())
    client = found.get(Client.key(ctx.tenant_id, client_id)[0]) if client_id else None
    if client_id and client is None:
        raise Unprocessable.field("client_id", "No such client.")
    if contact_id:
        contact = found.get(Contact.key(ctx.tenant_id, contact_id)[0])
        if contact is None or contact.client_id != client_id:
            raise Unprocessable.field("requester_contact_id", "No such contact for this client.")
    book = found.get(keys[1][0]) or sla_policies.PolicyBook.empty(ctx.tenant_id)
    return sequence, client, book


# ---- changes -----------------------------------------------------------------------------------


def update(ctx: TenantContext, ticket_id: str, patch: TicketPatch, if_match: int | None) -> Ticket:
    expected = patch.version or if_match
    if expected is None:
        raise Unprocessable.field("version", "Send the version you read, in the body or as If-Match.")
    ticket = get(ctx, ticket_id)
    _check_version(ticket, expected)
    changes = patch.model_dump(exclude_unset=True, exclude={"version"})
    if "status" in changes and changes["status"] != ticket.status and ticket.status not in ACTIVE:
        raise Conflict(f"A {ticket.status} ticket must be reopened first.", current_status=ticket.status)
    for field, value in changes.items():
        if value is None and field in ("subject", "priority", "tags", "status", "description"):
            raise Unprocessable.field(field, "May not be null.")
        setattr(ticket, field, value)
    return _save(ctx, ticket)


def assign(ctx: TenantContext, ticket_id: str, body: Assignment, if_match: int | None) -> Ticket:
    ticket = get(ctx, ticket_id)
    _check_version(ticket, body.version or if_match)
    if ticket.status == "closed":
        raise Conflict("A closed ticket cannot be assigned.", current_status=ticket.status)
    ticket.assignee_id = body.assignee_id
    if body.assignee_id and ticket.status == "new":
        ticket.status = "open"
    if not body.assignee_id:
        return _save(ctx, ticket)
    _touch(ctx, ticket)
    profile_key = UserProfile.key(ctx.tenant_id, body.assignee_id)
    try:
        with storage_errors(), transaction() as tx:
            tx.condition_check(
                UserProfile,
                *profile_key,
                condition=(UserProfile.active == True) & UserProfile.role.is_in("staff", "managers"),  # noqa: E712
            )
            tx.save(ticket)
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            raise Unprocessable.field("assignee_id", "Not an active staff user of this tenant.") from None
        if cancelled_by_condition(error, 1):
            raise Conflict("The ticket changed meanwhile; reload and retry.") from None
        raise
    return ticket


def resolve(ctx: TenantContext, ticket_id: str, if_match: int | None) -> Ticket:
    ticket = get(ctx, ticket_id)
    _check_version(ticket, if_match)
    if ticket.status not in ACTIVE:
        raise Conflict(f"A {ticket.status} ticket cannot be resolved.", current_status=ticket.status)
    ticket.status, ticket.resolved_at = "resolved", now()
    return _save(ctx, ticket)


def close(ctx: TenantContext, ticket_id: str, if_match: int | None) -> Ticket:
    ticket = get(ctx, ticket_id)
    _check_version(ticket, if_match)
    if ticket.status == "closed":
        raise Conflict("The ticket is already closed.", current_status=ticket.status)
    ticket.status, ticket.closed_at = "closed", now()
    return _save(ctx, ticket)


def reopen(ctx: TenantContext, ticket_id: str, if_match: int | None) -> Ticket:
    ticket = get(ctx, ticket_id)
    _check_version(ticket, if_match)
    if ticket.status not in ("resolved", "closed"):
        raise Conflict(f"A {ticket.status} ticket is not resolved or closed.", current_status=ticket.status)
    if ctx.is_portal:
        ended = ticket.closed_at or ticket.resolved_at
        window = timedelta(days=settings().reopen_window_days)
        if ended and now() - ended > window:
            raise Conflict(f"Tickets can be reopened within {window.days} days; open a new ticket instead.")
    ticket.status, ticket.resolved_at, ticket.closed_at = "open", None, None
    return _save(ctx, ticket)


def _check_version(ticket: Ticket, expected: int | None) -> None:
    if expected is not None and expected != ticket.version:
        raise Conflict(
            f"Stale version {expected}: the ticket is at version {ticket.version}.", current_version=ticket.version
        )


def _touch(ctx: TenantContext, ticket: Ticket) -> None:
    ticket.updated_at, ticket.updated_by = now(), ctx.user_id
    ticket.index()


def _save(ctx: TenantContext, ticket: Ticket) -> Ticket:
    ticket.updated_at, ticket.updated_by = now(), ctx.user_id
    writes = sla.track(ticket, sla_policies.load(ctx.tenant_id), ticket.updated_at)
    ticket.index()  # after the clock moved: the DUE index follows its next deadline
    # conditioned on the version read (PynamoDB VersionAttribute), with the SLA clock's writes
    sla.save(ticket, writes)
    return ticket
