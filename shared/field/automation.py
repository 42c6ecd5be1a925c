"""Ticket → work order automation, driven by the table's stream.

A ticket INSERT, or a MODIFY that changes its priority, category or tags, is matched against the
tenant's active work-order rules (read once per tenant per record batch: one Query); the
highest-priority match yields one automatic work order, assigned by the rule's strategy and
scheduled into the technician's working hours. The work order, the ticket's work-order link
(conditioned on its absence: exactly one per ticket, however often a record is delivered), the
technician's open-work-order count (conditioned on capacity) and the audit entry of the decision
are one transaction; mail goes out after it commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError

from shared import audit, mail
from shared.business_time import next_open
from shared.caller import TenantContext
from shared.directory import manager_emails
from shared.field import rules, technicians, work_orders
from shared.field.assignment import Choice, candidates, choose
from shared.field.rules import Rule, RuleIn
from shared.field.technicians import Technician
from shared.field.work_orders import TicketWorkOrderLink, WorkOrder
from shared.support.tickets import Ticket, requester_email

logger = logging.getLogger(__name__)

ACTOR = "system:work-order-automation"
WATCHED = ("priority", "category", "tags")
MAX_CHOICES = 5  # a chosen technician filled up meanwhile: choose again, this many times


@dataclass
class Outcome:
    ticket: Ticket
    rule: Rule
    spec: RuleIn
    order: WorkOrder
    choice: Choice
    technician: Technician | None


@dataclass
class Batch:
    """What one invocation reads once per tenant: the active rules, and (when needed) the technicians."""

    load_rules: Callable[[str], list[Rule]] = rules.active_rules
    load_technicians: Callable[[str], list[Technician]] = technicians.all_of
    _rules: dict[str, list[Rule]] = field(default_factory=dict)
    _technicians: dict[str, list[Technician]] = field(default_factory=dict)

    def rules(self, tenant_id: str) -> list[Rule]:
        if tenant_id not in self._rules:
            self._rules[tenant_id] = self.load_rules(tenant_id)
        return self._rules[tenant_id]

    def technicians(self, tenant_id: str) -> list[Technician]:
        if tenant_id not in self._technicians:
            self._technicians[tenant_id] = self.load_technicians(tenant_id)
        return self._technicians[tenant_id]


def _value(image: dict[str, Any] | None, name: str) -> Any:
    return (image or {}).get(name)


def triggering_ticket(event_name: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> Ticket | None:
    """The ticket a stream record (raw DynamoDB images) should be matched for, or None."""
    if not new or _value(new, "entity") != {"S": "ticket"}:
        return None
    if event_name == "MODIFY" and all(_value(old, f) == _value(new, f) for f in WATCHED):
        return None
    if event_name not in ("INSERT", "MODIFY"):
        return None
    return Ticket.from_raw_data(new)


def process(ticket: Ticket, batch: Batch, *, sequence: str, at: datetime) -> Outcome | None:
    """Create the ticket's automatic work order if a rule applies and it has none; the outcome, or None."""
    rule = rules.best_match(batch.rules(ticket.tenant_id), ticket)
    if rule is None or work_orders.link_of(ticket.tenant_id, ticket.id) is not None:
        return None
    spec = rule.spec()
    full: set[str] = set()
    for _ in range(MAX_CHOICES):
        choice, tech = _choose(ticket, rule, spec, batch, full)
        order = _build(ticket, rule, spec, tech, at)
        entry = _decision(ticket, rule, spec, order, choice, sequence=sequence, at=at)
        try:
            work_orders.insert(order, lambda tx, o=order, t=tech, e=entry: _with_order(tx, o, t, e))
        except TransactWriteError:
            if work_orders.link_of(ticket.tenant_id, ticket.id) is not None:
                return None  # delivered twice at once: the other delivery made it
            if tech is None or Technician.find(ticket.tenant_id, tech.id).has_room:
                raise
            full.add(tech.id)  # it filled up meanwhile: choose again without it
            continue
        if tech is not None:
            tech.open_work_orders = int(tech.open_work_orders or 0) + 1  # later records of the batch see it
        return Outcome(ticket, rule, spec, order, choice, tech)
    raise RuntimeError(f"ticket {ticket.id}: every chosen technician filled up meanwhile")


def _choose(ticket: Ticket, rule: Rule, spec: RuleIn, batch: Batch, full: set[str]) -> tuple[Choice, Technician | None]:
    if not spec.assignment.auto_assign:
        return Choice(None, "the rule does not assign automatically"), None
    pool = [
        t for t in candidates(batch.technicians(ticket.tenant_id), spec.assignment.required_skills) if t.id not in full
    ]
    choice = choose(
        spec.assignment.logic,
        pool,
        required_skills=spec.assignment.required_skills,
        ticket_tags=list(ticket.tags or []),
        location=ticket.location,
        next_turn=lambda: rules.next_turn(ticket.tenant_id, rule.id),
    )
    return choice, choice.technician


def _build(ticket: Ticket, rule: Rule, spec: RuleIn, tech: Technician | None, at: datetime) -> WorkOrder:
    scheduled = None
    if tech is not None and spec.scheduling.auto_schedule:
        scheduled = next_open(tech.calendar, at + timedelta(hours=spec.scheduling.offset_hours))
    status = "scheduled" if scheduled else "assigned" if tech else "new"
    automation = TenantContext(tenant_id=ticket.tenant_id, user_id=ACTOR, username=ACTOR, roles=frozenset())
    return WorkOrder.new(
        automation,
        at=at,
        number="",
        created_by=ACTOR,
        type=spec.template.type,
        priority=spec.template.priority or ticket.priority,
        status=status,
        source="automatic",
        source_ticket_id=ticket.id,
        rule_id=rule.id,
        client_id=ticket.client_id,
        location=ticket.location,
        technician_id=tech.id if tech else None,
        scheduled_start=scheduled,
        duration_minutes=spec.template.duration_minutes,
        notes=f"Created from ticket {ticket.number} by rule {spec.name!r}.",
    )


def _decision(
    ticket: Ticket, rule: Rule, spec: RuleIn, order: WorkOrder, choice: Choice, *, sequence: str, at: datetime
) -> audit.AuditEntry:
    detail = {
        "ticket_id": ticket.id,
        "rule_id": rule.id,
        "rule": spec.name,
        "work_order_id": order.id,
        "strategy": spec.assignment.logic if spec.assignment.auto_assign else None,
        "technician_id": choice.technician.id if choice.technician else None,
        "reason": choice.reason,
        "scheduled_start": order.scheduled_start.isoformat() if order.scheduled_start else None,
    }
    return audit.automated(
        ticket.tenant_id, "work_order", order.id, actor=ACTOR, detail=detail, sequence=sequence, at=at
    )


def _with_order(tx, order: WorkOrder, tech: Technician | None, entry: audit.AuditEntry) -> None:
    tx.save(TicketWorkOrderLink.of(order), condition=TicketWorkOrderLink.PK.does_not_exist())
    tx.save(entry)
    if tech is not None:
        work_orders.gain_slot(tx, order.tenant_id, tech.id)


# ---- telling people ----------------------------------------------------------------------------


def notify(outcome: Outcome) -> list[str]:
    """Mail the requester and the technician per the rule's flags, or the managers if nobody was assigned."""
    order, ticket, flags = outcome.order, outcome.ticket, outcome.spec.notifications
    sent = []
    when = f" on {order.scheduled_start:%Y-%m-%d %H:%M} UTC" if order.scheduled_start else ""
    if flags.notify_customer and (requester := requester_email(ticket.tenant_id, ticket.requester)):
        body = f"We have opened work order {order.number} for your ticket {ticket.number} ({ticket.subject}){when}."
        mail.send([requester], f"[DeskOS] Work order {order.number} for {ticket.number}", body)
        sent.append(requester)
    if outcome.technician is not None and flags.notify_technician:
        body = (
            f"Work order {order.number} ({order.type}, priority {order.priority}) is assigned to you{when}.\n"
            f"Ticket {ticket.number}: {ticket.subject}\nWork order id: {order.id}\n"
        )
        mail.send([outcome.technician.email], f"[DeskOS] Assigned: {order.number}", body)
        sent.append(outcome.technician.email)
    if outcome.technician is None and outcome.spec.assignment.auto_assign:
        managers = manager_emails(ticket.tenant_id)
        if managers:
            body = f"Work order {order.number} (ticket {ticket.number}) has no technician: {outcome.choice.reason}."
            mail.send(managers, f"[DeskOS] Unassigned work order {order.number}", body)
            sent.extend(managers)
    return sent
