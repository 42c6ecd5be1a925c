"""The SLA clock of a ticket: first response, next response and resolution, on business time.

Rules (docs/modules/support.md, as Zendesk, Freshdesk and Jira Service Management measure them):

- first_response runs from creation to the first public staff comment.
- next_response runs from the oldest unanswered requester comment (once the first response is
  given) to the next public staff comment.
- resolution runs from creation to resolved/closed; it pauses while the ticket is ``pending`` or
  ``on_hold`` and resumes (the paused time excluded) when it becomes active again, reopening included.
- Resolving or closing a ticket stops the response clocks; only business time counts.
- The matching policy is chosen again on every change (first active policy by order); when the
  policy, its version or the ticket's priority changed, every running clock gets its new target
  and calendar, keeping the business time it has already used. A warning or breach, once
  recorded, stays recorded.

The state lives on the ticket (``ticket.sla``, JSON, returned by the API); every transition
appends ``SlaEvent`` items to the ticket's partition (activated, paused, resumed, fulfilled,
warning, breached). ``track`` works out a ticket's new state and the writes that go in the same
transaction as the ticket; ``evaluate`` is what the sweep does at a deadline. The pure part works on
``SlaState``; the rest is the sweep's index (see ``due_keys``) and persistence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError

from shared.business_time import add_business_minutes, business_minutes_between
from shared.clock import iso
from shared.db import due
from shared.db.counters import Tally, retry_contended
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import Item, transaction
from shared.errors import Conflict
from shared.schemas import Out
from shared.support.sla_policies import METRICS, PolicyBook, SlaPolicy
from shared.support.ticket_days import TicketDay

PAUSING = frozenset({"pending", "on_hold"})
STOPPING = frozenset({"resolved", "closed"})
EventKind = Literal["activated", "paused", "resumed", "fulfilled", "warning", "breached"]
Phase = Literal["running", "paused", "stopped"]
Comment = Literal["staff_public", "requester"]


def phase_of(status: str) -> Phase:
    return "stopped" if status in STOPPING else "paused" if status in PAUSING else "running"


# ---- the pure clock ----------------------------------------------------------------------------


@dataclass
class MetricClock:
    target_minutes: float
    state: Literal["running", "paused", "fulfilled", "stopped"]
    started_at: datetime
    since: datetime | None  # start of the current running stretch
    used_minutes: float = 0.0  # business minutes counted before ``since``
    due_at: datetime | None = None
    warn_at: datetime | None = None
    warned: bool = False
    breached: bool = False
    fulfilled_at: datetime | None = None


@dataclass
class SlaState:
    policy_id: str
    policy_version: int
    priority: str
    phase: Phase
    metrics: dict[str, MetricClock] = field(default_factory=dict)
    next_check_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return _jsonable(asdict(self))

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SlaState:
        metrics = {name: MetricClock(**_instants(m)) for name, m in raw.get("metrics", {}).items()}
        return cls(**{**_instants(raw), "metrics": metrics})


@dataclass(frozen=True)
class Happened:
    kind: EventKind
    metric: str | None
    at: datetime
    due_at: datetime | None = None


@dataclass
class Clockwork:
    """Applies one change to a state at ``now`` and collects what happened."""

    now: datetime
    events: list[Happened] = field(default_factory=list)

    def note(self, kind: EventKind, metric: str | None, at: datetime | None = None, due: datetime | None = None):
        self.events.append(Happened(kind, metric, at or self.now, due))

    # -- choosing the policy and targets --

    def reconcile(
        self, state: SlaState | None, policy: SlaPolicy | None, *, status: str, priority: str, created_at: datetime
    ) -> SlaState | None:
        phase = phase_of(status)
        if policy is None:
            return None
        if state is None:
            if phase == "stopped":
                return None
            state = SlaState(policy.id, policy.version, priority, phase)
            self.note("activated", None)
            self._retarget(state, policy, created_at)
            return state
        if (state.policy_id, state.policy_version, state.priority) != (policy.id, policy.version, priority):
            if state.policy_id != policy.id:
                self.note("activated", None)
            state.policy_id, state.policy_version, state.priority = policy.id, policy.version, priority
            self._retarget(state, policy, created_at)
        self._change_phase(state, policy, phase)
        return state

    def _retarget(self, state: SlaState, policy: SlaPolicy, created_at: datetime) -> None:
        targets = policy.targets_for(state.priority)
        for name in METRICS:
            target = getattr(targets, name)
            clock = state.metrics.get(name)
            if target is None:
                state.metrics.pop(name, None)
            elif clock is not None:
                clock.target_minutes = target
            elif name != "next_response" and state.phase != "stopped":
                # started at creation: a clock a policy adds later has been running all along
                running = name == "first_response" or state.phase == "running"
                clock = MetricClock(target, "running", created_at, created_at)
                if not running:
                    clock.state, clock.since = "paused", None
                    clock.used_minutes = business_minutes_between(policy.business_calendar, created_at, self.now)
                state.metrics[name] = clock
        for clock in state.metrics.values():
            self._schedule(clock, policy)

    def _schedule(self, clock: MetricClock, policy: SlaPolicy) -> None:
        if clock.state != "running" or clock.since is None:
            clock.due_at = clock.warn_at = None
            return
        calendar = policy.business_calendar
        warn_minutes = clock.target_minutes * policy.warning_percent / 100
        clock.due_at = add_business_minutes(calendar, clock.since, max(0.0, clock.target_minutes - clock.used_minutes))
        clock.warn_at = add_business_minutes(calendar, clock.since, max(0.0, warn_minutes - clock.used_minutes))

    # -- status --

    def _change_phase(self, state: SlaState, policy: SlaPolicy, phase: Phase) -> None:
        if phase == state.phase:
            return
        state.phase = phase
        resolution = state.metrics.get("resolution")
        if phase == "stopped":
            for name, clock in state.metrics.items():
                if name == "resolution":
                    self._fulfil(name, clock, policy)
                elif clock.state == "running":
                    self._stop(clock, policy, "stopped")
        elif resolution is None:
            return
        elif phase == "paused" and resolution.state == "running":
            self._stop(resolution, policy, "paused")
            self.note("paused", "resolution")
        elif phase == "paused" and resolution.state == "fulfilled":
            resolution.state, resolution.fulfilled_at = "paused", None
        elif phase == "running" and resolution.state in ("paused", "fulfilled"):
            resolution.state, resolution.since, resolution.fulfilled_at = "running", self.now, None
            self._schedule(resolution, policy)
            self.note("resumed", "resolution", due=resolution.due_at)

    def _stop(self, clock: MetricClock, policy: SlaPolicy, state: Literal["paused", "stopped", "fulfilled"]) -> None:
        if clock.state == "running" and clock.since is not None:
            clock.used_minutes += business_minutes_between(policy.business_calendar, clock.since, self.now)
        clock.state, clock.since, clock.due_at, clock.warn_at = state, None, None, None

    def _fulfil(self, name: str, clock: MetricClock, policy: SlaPolicy) -> None:
        if clock.state != "running":
            if clock.state == "paused":  # resolved while pending: the clock ends where it paused
                clock.state, clock.fulfilled_at = "fulfilled", self.now
                self.note("fulfilled", name)
            return
        due = clock.due_at
        if due is not None and due <= self.now and not clock.breached:
            clock.breached = clock.warned = True
            self.note("breached", name, at=due, due=due)
        self._stop(clock, policy, "fulfilled")
        clock.fulfilled_at = self.now
        self.note("fulfilled", name, due=due)

    # -- comments --

    def comment(self, state: SlaState, policy: SlaPolicy, kind: Comment) -> None:
        if state.phase == "stopped":
            return
        if kind == "staff_public":
            for name in ("first_response", "next_response"):
                clock = state.metrics.get(name)
                if clock is not None and clock.state == "running":
                    self._fulfil(name, clock, policy)
            return
        first, target = state.metrics.get("first_response"), policy.targets_for(state.priority).next_response
        waiting = state.metrics.get("next_response")
        if target is None or (first is not None and first.state == "running"):
            return
        if waiting is not None and waiting.state == "running":
            return  # the oldest unanswered requester comment keeps the clock
        clock = MetricClock(target, "running", self.now, self.now)
        state.metrics["next_response"] = clock
        self._schedule(clock, policy)
        self.note("activated", "next_response", due=clock.due_at)

    # -- deadlines --

    def evaluate(self, state: SlaState) -> None:
        """Record the warnings and breaches whose time has come (what the sweep does)."""
        for name, clock in state.metrics.items():
            if clock.state != "running":
                continue
            if clock.due_at is not None and clock.due_at <= self.now and not clock.breached:
                clock.breached = clock.warned = True
                self.note("breached", name, at=clock.due_at, due=clock.due_at)
            elif clock.warn_at is not None and clock.warn_at <= self.now and not clock.warned:
                clock.warned = True
                self.note("warning", name, at=clock.warn_at, due=clock.due_at)

    def plan_next_check(self, state: SlaState) -> None:
        """The next instant the sweep must look at the ticket (never before now), or None."""
        pending = [
            moment
            for clock in state.metrics.values()
            if clock.state == "running"
            for moment, done in ((clock.warn_at, clock.warned), (clock.due_at, clock.breached))
            if moment is not None and not done
        ]
        state.next_check_at = _to_ms(max(min(pending), self.now)) if pending else None


# ---- persistence -------------------------------------------------------------------------------


class SlaEvent(Item, discriminator="sla_event"):
    """One transition of a ticket's SLA clock, in the ticket's partition (ordered by time)."""

    ticket_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    metric = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()
    due_at = UTCDateTimeAttribute(null=True)
    policy_id = UnicodeAttribute(null=True)
    recorded_at = UTCDateTimeAttribute()

    PREFIX = "SLAEVENT#"


class SlaEventOut(Out):
    kind: EventKind
    metric: str | None
    at: datetime
    due_at: datetime | None
    policy_id: str | None
    recorded_at: datetime


# tickets wait in the DUE index (``shared.db.due``) by the minute of their next deadline (a warning or a due
# time), which is never before the minute it is written in (``next_check_at >= now``)
DUE = due.Buckets("SLADUE#", timedelta(minutes=1), "%Y-%m-%dT%H:%M", first_run=60, max_per_run=24 * 60, grace=2)


def due_keys(ticket: Any) -> tuple[str | None, str | None]:
    """The ticket's DUE keys, derived from its SLA state on every write (``Ticket.index``)."""
    state = state_of(ticket)
    if state is None or state.next_check_at is None:
        return None, None
    return DUE.name(state.next_check_at), due.entry(state.next_check_at, ticket.tenant_id, ticket.id)


@dataclass
class Writes:
    """What goes into the ticket's transaction besides the ticket itself: its SLA events and the day counts
    (``ticket_days``) the write makes (its breaches here; openings and resolutions by ``tickets``)."""

    events: list[SlaEvent] = field(default_factory=list)
    happened: list[Happened] = field(default_factory=list)
    days: Tally = field(default_factory=lambda: Tally(TicketDay))

    def __bool__(self) -> bool:
        return bool(self.events) or bool(self.days)

    def apply(self, tx: Any) -> None:
        for event in self.events:
            tx.save(event)
        self.days.apply(tx)


def state_of(ticket: Any) -> SlaState | None:
    return SlaState.from_json(ticket.sla) if ticket.sla and ticket.sla.get("policy_id") else None


def track(
    ticket: Any,
    book: PolicyBook | None,
    now: datetime,
    *,
    comment: Comment | None = None,
    change: Callable[[Clockwork, SlaState], None] | None = None,
) -> Writes:
    """Bring ``ticket.sla`` up to date after a change at ``now``; the writes to make with it.

    ``book=None`` means the policies were not needed (the sweep): only ``change`` is applied."""
    before = state_of(ticket)
    work = Clockwork(_to_ms(now))
    if book is None:
        state = state_of(ticket)
        policy = None
    else:
        policy = book.match(ticket)
        state = work.reconcile(
            state_of(ticket), policy, status=ticket.status, priority=ticket.priority, created_at=ticket.created_at
        )
        if state is not None and policy is not None and comment is not None:
            work.comment(state, policy, comment)
    if state is not None and change is not None:
        change(work, state)
    if state is not None:
        work.plan_next_check(state)
    new_json = state.to_json() if state is not None else None
    if before is None and new_json is None:
        return Writes()
    ticket.sla = new_json
    writes = Writes(happened=work.events)
    version = ticket.version or 0
    policy_id = state.policy_id if state else before.policy_id if before else None
    writes.events = [
        SlaEvent(
            ticket.PK,
            f"{SlaEvent.PREFIX}{iso(h.at)}#{version:08d}#{i:02d}",
            tenant_id=ticket.tenant_id,
            ticket_id=ticket.id,
            kind=h.kind,
            metric=h.metric,
            at=h.at,
            due_at=h.due_at,
            policy_id=policy_id,
            recorded_at=now,
        )
        for i, h in enumerate(work.events)
    ]
    for h in work.events:
        if h.kind == "breached":
            writes.days.add_day(ticket.tenant_id, "breached", h.at)
    return writes


def save(ticket: Any, writes: Writes, *, also: Callable[[Any], None] | None = None) -> None:
    """Save the ticket (conditioned on the version read) with its SLA writes and day counts, all or nothing."""
    if not writes and also is None:
        with storage_errors("The ticket changed meanwhile; reload and retry."):
            ticket.save()
        return

    def commit() -> None:
        with transaction() as tx:
            tx.save(ticket)
            writes.apply(tx)
            if also is not None:
                also(tx)

    try:
        with storage_errors():
            retry_contended(commit)  # the day counters are every ticket write's of the day
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            raise Conflict("The ticket changed meanwhile; reload and retry.") from None
        raise


def events(tenant_id: str, ticket_pk: str, *, limit: int, cursor: str | None) -> Page[SlaEvent]:
    return query_page(
        SlaEvent,
        ticket_pk,
        tenant_id,
        f"sla-events:{ticket_pk}",
        limit=limit,
        cursor=cursor,
        range_key_condition=SlaEvent.SK.startswith(SlaEvent.PREFIX),
    )


# ---- JSON helpers ------------------------------------------------------------------------------

_INSTANTS = ("started_at", "since", "due_at", "warn_at", "fulfilled_at", "next_check_at")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return iso(value)
    return value


def _instants(raw: dict[str, Any]) -> dict[str, Any]:
    out = dict(raw)
    for name in _INSTANTS:
        if out.get(name):
            out[name] = datetime.fromisoformat(out[name].replace("Z", "+00:00"))
    return out


def _to_ms(moment: datetime) -> datetime:
    """Instants are stored at millisecond precision; comparing in-memory ones the same way."""
    return moment.astimezone(UTC).replace(microsecond=moment.microsecond // 1000 * 1000)
