"""The SLA sweep: marks the warnings and breaches whose time has come, once, across all tenants.

Reads (see ``shared.db.due``): one GetItem for the sweep's cursor, one Query of the DUE index per minute
bucket from the cursor to now (with ``DUESK <= now``, so only tickets already due come back), one
BatchGetItem per 100 of them, and one read of each notified assignee or tenant's managers. None of
it depends on how many tickets exist, only on how many are due.

Exactly once: a ticket's new SLA state (and so its place in the index) and its events are written in one
transaction conditioned on the ticket version the sweep read; a concurrent sweep (or a user's
change) makes it fail and the ticket is left to whoever won, whose state already holds the
warning or breach. Mail goes out only after the transaction commits (at most once per event).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import TransactWriteError

from shared import mail
from shared.clock import iso
from shared.db.table import Item
from shared.directory import assignee_or_managers
from shared.errors import Conflict
from shared.support import sla
from shared.support.tickets import Ticket

logger = logging.getLogger(__name__)

ACTOR = "system:sla-sweep"


class SweepCursor(Item, discriminator="sla_sweep"):
    """The last minute bucket whose due tickets are all handled (``SYS#SLASWEEP`` / ``CURSOR``)."""

    swept_through = UnicodeAttribute()

    KEY = ("SYS#SLASWEEP", "CURSOR")


@dataclass
class Notice:
    tenant_id: str
    ticket: Ticket
    happened: list[sla.Happened]


@dataclass
class SweepResult:
    buckets: int = 0
    due: int = 0  # index entries read
    warnings: int = 0
    breaches: int = 0
    notices: list[Notice] = field(default_factory=list)


def sweep(now: datetime) -> SweepResult:
    """One run at ``now``: every ticket due up to now is handled; the cursor moves on."""
    result = SweepResult()
    for keys in sla.DUE.walk(SweepCursor, Ticket, now):
        result.buckets += 1
        _handle(keys, now, result)
    return result


def _handle(keys: list[tuple[str, str]], now: datetime, result: SweepResult) -> None:
    result.due += len(keys)
    for ticket in Ticket.batch_get(keys, consistent_read=True):
        state = sla.state_of(ticket)
        if state is None or state.next_check_at is None or state.next_check_at > now:
            continue  # the index lags the ticket, which has moved on since
        writes = sla.track(ticket, None, now, change=lambda work, s: work.evaluate(s))
        ticket.updated_at, ticket.updated_by = now, ACTOR
        ticket.index()
        try:
            sla.save(ticket, writes)
        except (Conflict, TransactWriteError):
            logger.info("ticket %s changed during the sweep; its writer keeps its SLA state", ticket.id)
            continue
        kinds = [h.kind for h in writes.happened]
        result.warnings += kinds.count("warning")
        result.breaches += kinds.count("breached")
        if writes.happened:
            result.notices.append(Notice(ticket.tenant_id, ticket, writes.happened))


# ---- telling people ----------------------------------------------------------------------------


def notify(notice: Notice) -> list[str]:
    """Email the assignee, or the tenant's managers when nobody is assigned; the recipients."""
    recipients = assignee_or_managers(notice.tenant_id, notice.ticket.assignee_id)
    if not recipients:
        logger.warning("no one to tell about SLA events of ticket %s", notice.ticket.id)
        return []
    ticket = notice.ticket
    lines = [
        f"{h.metric.replace('_', ' ')}: {'BREACHED' if h.kind == 'breached' else 'warning'}"
        f" — due {iso(h.due_at) if h.due_at else 'now'}"
        for h in notice.happened
        if h.metric and h.kind in ("warning", "breached")
    ]
    worst = "breached" if any(h.kind == "breached" for h in notice.happened) else "warning"
    subject = f"[DeskOS] SLA {worst}: {ticket.number} {ticket.subject}"
    body = f"Ticket {ticket.number} ({ticket.subject}), priority {ticket.priority}:\n" + "\n".join(lines)
    mail.send(recipients, subject, body + f"\n\nTicket id: {ticket.id}\n")
    return recipients
