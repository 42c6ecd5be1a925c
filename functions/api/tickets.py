"""Tickets, a ticket's work orders and the ticket-number sequence: /support/tickets…,
/support/ticket-number-sequence."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.metrics import MetricUnit

from functions.api.core import Api, metrics
from functions.api.core.params import Cursor, DateFrom, DateTo, EntityId, IdFilter, Limit
from functions.api.core.responses import page_out, tagged
from shared.caller import MANAGERS, STAFF, STAFF_PORTAL
from shared.clock import now
from shared.db.pages import DEFAULT_LIMIT
from shared.field import work_orders
from shared.field.work_orders import WorkOrderOut
from shared.schemas import Moment, PageOut
from shared.support import sequences, ticket_days, tickets
from shared.support.numbering import SequenceFormat, SequenceOut
from shared.support.ticket_days import TicketSummary
from shared.support.tickets import Assignment, NewTicket, Ticket, TicketFilters, TicketOut, TicketPatch

api = Api("tickets")


@api.get("/support/tickets", roles=STAFF_PORTAL, summary="List tickets, newest first")
def list_tickets(
    status: Annotated[tickets.Status | None, Query()] = None,
    priority: Annotated[tickets.Priority | None, Query()] = None,
    assignee_id: IdFilter = None,
    client_id: IdFilter = None,
    created_from: Annotated[Moment | None, Query()] = None,
    created_to: Annotated[Moment | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[TicketOut]:
    filters = TicketFilters(
        status=status,
        priority=priority,
        assignee_id=assignee_id,
        client_id=client_id,
        created_from=created_from,
        created_to=created_to,
    )
    return page_out(tickets.page(api.caller(), filters, limit=limit, cursor=cursor), TicketOut)


@api.post("/support/tickets", roles=STAFF_PORTAL, summary="Create a ticket", responses={201: {}})
def create_ticket(body: Annotated[NewTicket, Body()]) -> Response[TicketOut]:
    created = api.create_once("CreateTicket", body, lambda: TicketOut.of(tickets.create(api.caller(), body)))
    metrics.add_metric("TicketsCreated", MetricUnit.Count, 1)
    return api.created(f"/support/tickets/{created['id']}", created)


@api.get(
    "/support/tickets/summary",
    roles=STAFF,
    summary="Tickets opened, resolved and SLA breaches per UTC day (default the last 14, at most 92)",
)
def get_ticket_summary(date_from: DateFrom = None, date_to: DateTo = None) -> TicketSummary:
    return ticket_days.summary(api.caller(), date_from, date_to, now().date())


@api.get("/support/tickets/by-number/<number>", roles=STAFF_PORTAL, summary="Find a ticket by its number")
def ticket_by_number(number: Annotated[str, Path(min_length=1, max_length=64)]) -> Response[TicketOut]:
    return tagged(TicketOut.of(tickets.by_number(api.caller(), number)))


@api.get("/support/tickets/<ticket_id>", roles=STAFF_PORTAL, summary="Get a ticket")
def get_ticket(ticket_id: EntityId) -> Response[TicketOut]:
    return tagged(TicketOut.of(Ticket.load(api.caller(), ticket_id)))


@api.patch("/support/tickets/<ticket_id>", roles=STAFF, summary="Update a ticket (optimistic locking)")
def update_ticket(ticket_id: EntityId, body: Annotated[TicketPatch, Body()]) -> Response[TicketOut]:
    return tagged(TicketOut.of(tickets.update(api.caller(), ticket_id, body, api.if_match())))


@api.post("/support/tickets/<ticket_id>/assign", roles=STAFF, summary="Assign to a staff user")
def assign_ticket(ticket_id: EntityId, body: Annotated[Assignment, Body()]) -> Response[TicketOut]:
    return tagged(TicketOut.of(tickets.assign(api.caller(), ticket_id, body, api.if_match())))


@api.post("/support/tickets/<ticket_id>/resolve", roles=STAFF, summary="Resolve")
def resolve_ticket(ticket_id: EntityId) -> Response[TicketOut]:
    return tagged(TicketOut.of(tickets.resolve(api.caller(), ticket_id, api.if_match())))


@api.post("/support/tickets/<ticket_id>/close", roles=STAFF_PORTAL, summary="Close")
def close_ticket(ticket_id: EntityId) -> Response[TicketOut]:
    return tagged(TicketOut.of(tickets.close(api.caller(), ticket_id, api.if_match())))


@api.post("/support/tickets/<ticket_id>/reopen", roles=STAFF_PORTAL, summary="Reopen")
def reopen_ticket(ticket_id: EntityId) -> Response[TicketOut]:
    return tagged(TicketOut.of(tickets.reopen(api.caller(), ticket_id, api.if_match())))


@api.get("/support/tickets/<ticket_id>/work-orders", roles=STAFF, summary="A ticket's work orders")
def list_ticket_work_orders(
    ticket_id: EntityId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[WorkOrderOut]:
    return page_out(work_orders.of_ticket(api.caller(), ticket_id, limit=limit, cursor=cursor), WorkOrderOut)


@api.get("/support/ticket-number-sequence", roles=STAFF, summary="The ticket number format")
def get_sequence() -> SequenceOut:
    return sequences.describe(sequences.load(api.caller(), tickets.SEQUENCE), now())


@api.put("/support/ticket-number-sequence", roles=MANAGERS, summary="Change the ticket number format")
def put_sequence(body: Annotated[SequenceFormat, Body()]) -> SequenceOut:
    return sequences.describe(sequences.configure(api.caller(), tickets.SEQUENCE, body), now())


handler = api.handler
