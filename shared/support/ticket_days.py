"""Tickets opened, resolved and SLA breaches per day, for the staff dashboard.

One counter item per tenant and UTC day (``T#<t>#TICKETDAYS`` / ``<date>``, the day-counter kit
``shared.db.counters``), added to in the transaction of the ticket write that causes the count
(``sla.Writes.days``). That write is conditioned (a creation on the ticket's absence, a change on the version
read), so a retried, replayed or redelivered write counts nothing twice. What counts, on which UTC day:

- ``opened``: a ticket created (API, portal or email), on the day of its creation;
- ``resolved``: a ticket going from an active status to resolved or closed, on the day it does (closing an
  active ticket resolves it; closing a resolved one counts nothing more); each resolution counts, so a ticket
  reopened and resolved again counts again;
- ``breached``: an SLA metric breached (first response, next response or resolution: one ticket may breach
  several), on the day of the deadline it missed, whether the sweep or a resolution records it.

Tickets created before the counters existed are not in ``opened``; their later resolutions and breaches are.
A summary reads one Query over at most ``MAX_DAYS`` day items, never the tickets."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from pynamodb.attributes import NumberAttribute

from shared.caller import TenantContext
from shared.db import counters
from shared.db.counters import DayCounts


class TicketDay(DayCounts, discriminator="ticket_day"):
    """How many tickets of one tenant were opened and resolved, and how many SLA metrics breached, on one UTC day."""

    PARTITION, COUNTERS = "TICKETDAYS", ("opened", "resolved", "breached")
    opened = NumberAttribute(default=0)
    resolved = NumberAttribute(default=0)
    breached = NumberAttribute(default=0)


class TicketDayOut(BaseModel):
    day: date
    opened: int
    resolved: int
    breached: int


class TicketSummary(BaseModel):
    date_from: date
    date_to: date
    days: list[TicketDayOut]  # every day of the range, oldest first (zeros where nothing happened)
    opened: int
    resolved: int
    breached: int


def summary(ctx: TenantContext, date_from: date | None, date_to: date | None, today: date) -> TicketSummary:
    """Per day over ``date_from``..``date_to`` (UTC days, inclusive; default the last 14, at most 92): one Query."""
    return counters.span(TicketDay, ctx.tenant_id, date_from, date_to, today).out(TicketSummary, TicketDayOut)
