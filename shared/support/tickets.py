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
from pynamodb.attributes import JSONAttribute, ListAttribute, UnicodeAttribute, UTCDateTimeAttribute

from shared.caller import TenantContext
from shared.clock import now
from shared.crm.clients import Client
from shared.crm.contacts import Contact
from shared.db.due import DueIndex
from shared.db.entities import Entity, LocationAttribute, apply_patch, expect_version, require_state, save, touch
from shared.db.errors import storage_errors
from shared.db.pages import Page, instant_range, query_page
from shared.db.table import Item, get_or_none, tkey
from shared.directory import UserProfile, active_staff
from shared.errors import Conflict, Unavailable, Unprocessable
from shared.ids import new_id
from shared.schemas import Audited, Id, Location, Strict, Tags, Version, Versioned
from shared.settings import settings
from shared.support import sla, sla_policies
from shared.support.numbering import Sequence, SequenceFormat, allocate_and_write

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


class Ticket(Entity, discriminator="ticket"):
    noun, prefix = "ticket", "TICKET"
    number = UnicodeAttribute()
    subject = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    status = UnicodeAttribute(default="new")
    priority = UnicodeAttribute(default="normal")
    category = UnicodeAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    channel = UnicodeAttribute()
    client_id = UnicodeAttribute(null=True)
    requester = JSONAttribute(null=True)  # {"kind": "contact"|"portal_user"|"staff"|"email", "id": ...}
    assignee_id = UnicodeAttribute(null=True)
    customer_type = UnicodeAttribute(null=True)
    location = LocationAttribute(null=True)
    sla = JSONAttribute(null=True)
    created_by = UnicodeAttribute()
    resolved_at = UTCDateTimeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)
    DUEPK = UnicodeAttribute(null=True)
    DUESK = UnicodeAttribute(null=True)
    due = DueIndex()

    @staticmethod
    def number_key(tenant_id: str, number: str) -> str:
        return tkey(tenant_id, "TICKETNUM", number)

    def index(self) -> None:
        """Derive every index key from the fields; called before each write."""
        t, order = self.tenant_id, self.time_order
        self.GSI1PK, self.GSI1SK = tkey(t, "TICKETS"), order
        self.GSI2PK, self.GSI2SK = (
            (tkey(t, "CLIENT", self.client_id, "TICKETS"), order) if self.client_id else (None, None)
        )
        self.GSI3PK, self.GSI3SK = (
            (tkey(t, "ASSIGNEE", self.assignee_id, "TICKETS"), order) if self.assignee_id else (None, None)
        )
        self.GSI4PK, self.GSI4SK = tkey(t, "TICKETS", "STATUS", self.status), order
        self.GSI5PK, self.GSI5SK = self.number_key(t, self.number), "TICKET"
        self.DUEPK, self.DUESK = sla.due_keys(self)

    def visible_to(self, ctx: TenantContext) -> bool:
        # another tenant's ticket never loads (its key holds its tenant); another client's is hidden
        return not ctx.is_portal or self.client_id == ctx.client_id


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
    version: Version = None
    subject: Subject | None = None
    description: Description | None = None
    priority: Priority | None = None
    category: Category | None = None
    tags: Tags | None = None
    status: Literal["open", "pending", "on_hold"] | None = None


class Assignment(Strict):
    assignee_id: Id | None = Field(description="A staff user of the tenant; null unassigns.")
    version: Version = None


class Requester(Strict):
    kind: Literal["contact", "portal_user", "staff", "email"] = Field(
        description="email: a sender known by address only (a ticket from email without a client)."
    )
    id: str
    name: str | None = Field(None, description="email: the display name the sender's From header gave.")


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


def by_number(ctx: TenantContext, number: str) -> Ticket:
    with storage_errors():
        found = list(Ticket.gsi5.query(Ticket.number_key(ctx.tenant_id, number), limit=1))
    return Ticket.visible(ctx, found[0] if found else None)


def page(ctx: TenantContext, filters: TicketFilters, *, limit: int, cursor: str | None) -> Page[Ticket]:
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

    return query_page(
        index,
        hash_key,
        t,
        "tickets:" + filters.model_dump_json(exclude_none=True),
        limit=limit,
        cursor=cursor,
        newest_first=True,
        range_key_condition=range_condition,
        filter_condition=filter_condition,
    )


# ---- create ------------------------------------------------------------------------------------


def create(
    ctx: TenantContext, body: NewTicket, *, ticket_id: str | None = None, requester: dict[str, str] | None = None
) -> Ticket:
    """Two round trips: one BatchGet (counter, client, contact), one transaction (counter, ticket, guard).

    ``ticket_id`` and ``requester`` come from email-to-ticket: a ticket whose id was chosen before (so a
    redelivered message finds it), asked for by a sender who is no contact (a portal user, an address)."""
    if requester is not None:
        client_id, contact_id, channel = body.client_id, None, body.channel or "email"
    elif ctx.is_portal:
        client_id, contact_id, channel = ctx.client_id, None, "portal"
        requester = {"kind": "portal_user", "id": ctx.user_id}
    else:
        client_id, contact_id, channel = body.client_id, body.requester_contact_id, body.channel or "api"
        requester = {"kind": "contact", "id": contact_id} if contact_id else {"kind": "staff", "id": ctx.user_id}
    if contact_id and not client_id:
        raise Unprocessable.field("client_id", "A requester contact needs its client_id.")

    ticket_id = ticket_id or new_id()
    for attempt in range(MAX_NUMBER_ATTEMPTS):
        sequence, client, book = _load_for_create(ctx, client_id, contact_id)
        ticket = Ticket.new(
            ctx,
            ticket_id,
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
        )
        writes = sla.track(ticket, book, ticket.created_at)
        if allocate_and_write(sequence, ticket, ticket.created_at, writes.apply):
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
    ticket = Ticket.load(ctx, ticket_id)
    expect_version(ticket, patch.version, if_match)
    if "status" in patch.model_fields_set and patch.status != ticket.status and ticket.status not in ACTIVE:
        raise Conflict(f"A {ticket.status} ticket must be reopened first.", current_status=ticket.status)
    apply_patch(ticket, patch, nullable={"category"})
    return _save(ctx, ticket)


def assign(ctx: TenantContext, ticket_id: str, body: Assignment, if_match: int | None) -> Ticket:
    ticket = Ticket.load(ctx, ticket_id)
    expect_version(ticket, body.version, if_match, required=False)
    require_state(ticket, (*ACTIVE, "resolved"), "assigned")
    ticket.assignee_id = body.assignee_id
    if body.assignee_id and ticket.status == "new":
        ticket.status = "open"
    if not body.assignee_id:
        return _save(ctx, ticket)
    return save(ctx, ticket, requires=active_staff(ctx.tenant_id, body.assignee_id, "assignee_id"))


def resolve(ctx: TenantContext, ticket_id: str, if_match: int | None) -> Ticket:
    ticket = Ticket.load(ctx, ticket_id)
    expect_version(ticket, if_match, required=False)
    require_state(ticket, ACTIVE, "resolved")
    ticket.status, ticket.resolved_at = "resolved", now()
    return _save(ctx, ticket)


def close(ctx: TenantContext, ticket_id: str, if_match: int | None) -> Ticket:
    ticket = Ticket.load(ctx, ticket_id)
    expect_version(ticket, if_match, required=False)
    require_state(ticket, (*ACTIVE, "resolved"), "closed")
    ticket.status, ticket.closed_at = "closed", now()
    return _save(ctx, ticket)


def reopen(ctx: TenantContext, ticket_id: str, if_match: int | None) -> Ticket:
    ticket = Ticket.load(ctx, ticket_id)
    expect_version(ticket, if_match, required=False)
    require_state(ticket, ("resolved", "closed"), "reopened")
    if ctx.is_portal:
        ended = ticket.closed_at or ticket.resolved_at
        window = timedelta(days=settings().reopen_window_days)
        if ended and now() - ended > window:
            raise Conflict(f"Tickets can be reopened within {window.days} days; open a new ticket instead.")
    ticket.status, ticket.resolved_at, ticket.closed_at = "open", None, None
    return _save(ctx, ticket)


def _save(ctx: TenantContext, ticket: Ticket) -> Ticket:
    touch(ctx, ticket)
    writes = sla.track(ticket, sla_policies.load(ctx.tenant_id), ticket.updated_at)
    ticket.index()  # after the clock moved: the DUE index follows its next deadline
    # conditioned on the version read (PynamoDB VersionAttribute), with the SLA clock's writes
    sla.save(ticket, writes)
    return ticket


def requester_email(tenant_id: str, requester: dict[str, str] | None) -> str | None:
    """Where to write to a ticket's requester: a contact's address, or an active user's."""
    return requester_of(tenant_id, requester)[1]


def requester_of(tenant_id: str, requester: dict[str, str] | None) -> tuple[str | None, str | None]:
    """A ticket's requester's name and email address (None for what is unknown): one GetItem at most."""
    kind, requester_id = (requester or {}).get("kind"), (requester or {}).get("id", "")
    if kind == "email":
        return (requester or {}).get("name"), requester_id
    with storage_errors():
        if kind == "contact":
            contact = Contact.find(tenant_id, requester_id)
            return (contact.name, contact.email) if contact else (None, None)
        if kind in ("portal_user", "staff"):
            profile = get_or_none(UserProfile, UserProfile.key(tenant_id, requester_id))
            return (profile.name, profile.email) if profile and profile.active else (None, None)
    return None, None
