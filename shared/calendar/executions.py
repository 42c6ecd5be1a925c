"""Executions of meeting workflows: one per workflow and appointment (its id is both ids), at the time the
trigger fires, ``pending`` → ``done`` | ``failed`` | ``skipped``.

Keys: ``T#<t>#MWEXEC#<id>`` / ``MWEXEC``; all, newest first, GSI1 ``T#<t>#MWEXECS``; of an appointment GSI2
``T#<t>#APPT#<appointment>#MWEXECS``; of a workflow GSI3 ``T#<t>#MWF#<workflow>#MWEXECS``; by status GSI4
``T#<t>#MWEXECS#<status>``. A pending (or claimed) execution sits in the DUE index (``MWDUE#<shard>``) at
its next attempt.

Planning (the MeetingWorkflows stream consumer, from each appointment change): a new appointment gets one
execution per active workflow that applies to it (``booked`` due at once, ``before_start``/``after_end`` at
their time, never before now); a reschedule moves its pending timed executions; a cancel skips them and
plans the ``cancelled`` ones. Inserts are conditioned on the id being free, so a redelivered record plans
nothing twice.

Running (the CalendarSweep schedule): an execution is claimed by a write conditioned on the version read
(status ``running``, attempts + 1, due again after a lease), so of two runs only one runs it; its actions
run (those done in an earlier attempt are not run again), then it is ``done``. A failing action puts it back
to ``pending`` with a backoff, until ``MAX_ATTEMPTS``, then ``failed`` with the error. A run that dies is
retried when its lease ends. At run time the appointment is read again: nothing timed fires after a cancel,
and an execution whose appointment moved (before the planner caught up) moves instead of running."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from shared.calendar import due as schedule
from shared.calendar.appointments import Appointment
from shared.calendar.workflows import TIMED, Workflow, active
from shared.caller import TenantContext
from shared.db.due import DueIndex
from shared.db.entities import Entity, insert
from shared.db.errors import storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import get_or_none, tkey
from shared.errors import Conflict
from shared.schemas import Audited, Strict

Status = Literal["pending", "running", "done", "failed", "skipped"]
MAX_ATTEMPTS = 5
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
LEASE = timedelta(minutes=10)  # a claimed execution whose run died is retried after this


class Execution(Entity, discriminator="meeting_workflow_execution"):
    noun, prefix = "meeting workflow execution", "MWEXEC"
    workflow_id = UnicodeAttribute()
    workflow_name = UnicodeAttribute()
    appointment_id = UnicodeAttribute()
    trigger = UnicodeAttribute()
    trigger_at = UTCDateTimeAttribute()  # when the trigger fires
    due_at = UTCDateTimeAttribute()  # the next attempt
    status = UnicodeAttribute(default="pending")
    attempts = NumberAttribute(default=0)
    done_actions = ListAttribute(of=NumberAttribute, default=list)  # indexes of the actions already run
    result = JSONAttribute(null=True)  # per action: what it did
    error = UnicodeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    DUEPK = UnicodeAttribute(null=True)
    DUESK = UnicodeAttribute(null=True)
    due = DueIndex()

    @staticmethod
    def partition_of_all(tenant_id: str) -> str:
        return tkey(tenant_id, "MWEXECS")

    @staticmethod
    def partition_of_appointment(tenant_id: str, appointment_id: str) -> str:
        return tkey(tenant_id, "APPT", appointment_id, "MWEXECS")

    @staticmethod
    def partition_of_workflow(tenant_id: str, workflow_id: str) -> str:
        return tkey(tenant_id, "MWF", workflow_id, "MWEXECS")

    @staticmethod
    def partition_of_status(tenant_id: str, status: str) -> str:
        return tkey(tenant_id, "MWEXECS", status)

    def index(self) -> None:
        order = self.time_order
        self.GSI1PK, self.GSI1SK = self.partition_of_all(self.tenant_id), order
        self.GSI2PK, self.GSI2SK = self.partition_of_appointment(self.tenant_id, self.appointment_id), order
        self.GSI3PK, self.GSI3SK = self.partition_of_workflow(self.tenant_id, self.workflow_id), order
        self.GSI4PK, self.GSI4SK = self.partition_of_status(self.tenant_id, self.status), order
        waiting = self.status in ("pending", "running")
        self.DUEPK, self.DUESK = schedule.keys("MWDUE", self, self.due_at if waiting else None)


class ExecutionOut(Audited):
    id: str
    workflow_id: str
    workflow_name: str
    appointment_id: str
    trigger: str
    trigger_at: datetime
    due_at: datetime
    status: Status
    attempts: int
    result: list[dict] | None
    error: str | None
    finished_at: datetime | None


class ExecutionFilters(Strict):
    appointment_id: str | None = None
    workflow_id: str | None = None
    status: Status | None = None


def page(ctx: TenantContext, filters: ExecutionFilters, *, limit: int, cursor: str | None) -> Page[Execution]:
    """Newest first; one Query: of an appointment, else of a workflow, else of a status, else all (a second
    filter narrows the first)."""
    t = ctx.tenant_id
    narrow = []
    if filters.appointment_id:
        index, partition = Execution.gsi2, Execution.partition_of_appointment(t, filters.appointment_id)
    elif filters.workflow_id:
        index, partition = Execution.gsi3, Execution.partition_of_workflow(t, filters.workflow_id)
    elif filters.status:
        index, partition = Execution.gsi4, Execution.partition_of_status(t, filters.status)
    else:
        index, partition = Execution.gsi1, Execution.partition_of_all(t)
    if filters.appointment_id and filters.workflow_id:
        narrow.append(Execution.workflow_id == filters.workflow_id)
    if filters.status and (filters.appointment_id or filters.workflow_id):
        narrow.append(Execution.status == filters.status)
    condition = None
    for part in narrow:
        condition = part if condition is None else condition & part
    name = f"executions:{filters.appointment_id}:{filters.workflow_id}:{filters.status}"
    return query_page(
        index, partition, t, name, limit=limit, cursor=cursor, newest_first=True, filter_condition=condition
    )


# ---- planning (the stream consumer) ---------------------------------------------------------------


def _new(workflow: Workflow, appointment: Appointment, at: datetime, fires: datetime) -> Execution:
    return Execution(
        *Execution.key(appointment.tenant_id, appointment.id + workflow.id),
        tenant_id=appointment.tenant_id,
        id=appointment.id + workflow.id,
        workflow_id=workflow.id,
        workflow_name=workflow.name,
        appointment_id=appointment.id,
        trigger=workflow.trigger["kind"],
        trigger_at=fires,
        due_at=max(fires, at),
        created_at=at,
        updated_at=at,
        updated_by=PLANNER,
    )


PLANNER = "system:meeting-workflows"


def plan(appointment: Appointment, triggers: tuple[str, ...], at: datetime) -> int:
    """An execution per active workflow of ``triggers`` that applies to the appointment; how many were new."""
    made = 0
    for workflow in active(appointment.tenant_id):
        if workflow.trigger["kind"] not in triggers or not workflow.applies_to(appointment):
            continue
        try:
            insert(_new(workflow, appointment, at, workflow.fires_at(appointment) or at))
            made += 1
        except Conflict:
            pass  # planned by an earlier delivery of the same change
    return made


def of_appointment(tenant_id: str, appointment_id: str) -> list[Execution]:
    with storage_errors():
        return list(Execution.gsi2.query(Execution.partition_of_appointment(tenant_id, appointment_id)))


def _rewrite(execution: Execution, change: Callable[[Execution], None], at: datetime) -> bool:
    """Apply ``change`` and write it if the execution is still as read (still pending); whether it was."""
    change(execution)
    execution.updated_at, execution.updated_by = at, PLANNER
    execution.index()
    try:
        with storage_errors():
            execution.save(condition=Execution.status == "pending")
    except Conflict:
        return False
    return True


def moved(appointment: Appointment, at: datetime) -> int:
    """Move the pending timed executions of a rescheduled appointment; how many moved."""
    count = 0
    for execution in of_appointment(appointment.tenant_id, appointment.id):
        if execution.status != "pending" or execution.trigger not in TIMED:
            continue
        workflow = get_or_none(Workflow, Workflow.key(appointment.tenant_id, execution.workflow_id))
        if workflow is None:
            continue
        fires = workflow.fires_at(appointment)
        if fires != execution.trigger_at:

            def move(e: Execution, fires: datetime = fires) -> None:
                e.trigger_at, e.due_at = fires, max(fires, at)

            count += _rewrite(execution, move, at)
    return count


def cancelled(appointment: Appointment, at: datetime) -> int:
    """Skip the pending timed executions of a cancelled appointment and plan its ``cancelled`` ones."""
    for execution in of_appointment(appointment.tenant_id, appointment.id):
        if execution.status == "pending" and execution.trigger in TIMED:
            _rewrite(execution, lambda e: _finish(e, "skipped", at, error="The appointment was cancelled."), at)
    return plan(appointment, ("cancelled",), at)


def _finish(execution: Execution, status: str, at: datetime, *, error: str | None = None) -> None:
    execution.status, execution.finished_at, execution.error = status, at, error


# ---- running (the sweep) --------------------------------------------------------------------------


class ActionFailed(Exception):
    """An action could not be done now (a template that will not render, mail refused): retried; or (not
    ``retry``: the email template it names is gone) never, so the execution fails at once."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass
class RunResult:
    done: int = 0
    failed: int = 0
    retried: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


Runner = Callable[[int, dict, Appointment, Workflow], dict]


def run_due(at: datetime, run_action: Runner) -> RunResult:
    """Every execution due by ``at``, each claimed before it runs."""
    result = RunResult()
    for key in schedule.due(Execution, "MWDUE", at):
        run_one(key, at, run_action, result)
    return result


def run_one(key: tuple[str, str], at: datetime, run_action: Runner, result: RunResult) -> None:
    with storage_errors():
        execution = get_or_none(Execution, key)
    if execution is None or execution.status not in ("pending", "running") or execution.due_at > at:
        return  # handled meanwhile, or the index lags a move
    if not _claim(execution, at):
        return
    t = execution.tenant_id
    appointment = get_or_none(Appointment, Appointment.key(t, execution.appointment_id))
    workflow = get_or_none(Workflow, Workflow.key(t, execution.workflow_id))
    reason = _reason_to_skip(execution, appointment, workflow)
    if reason is not None:
        _settle(execution, lambda e: _finish(e, "skipped", at, error=reason), at)
        result.skipped += 1
        return
    fires = workflow.fires_at(appointment) if execution.trigger in TIMED else None
    if fires is not None and fires != execution.trigger_at:  # moved; the planner has not caught up yet

        def move(e: Execution) -> None:
            e.status, e.trigger_at, e.due_at, e.attempts = "pending", fires, max(fires, at), int(e.attempts) - 1

        _settle(execution, move, at)
        return
    outcomes = list(execution.result or [])
    try:
        for i, action in enumerate(workflow.actions):
            if i in execution.done_actions:
                continue
            outcomes.append({"action": i, "kind": action["kind"], **run_action(i, action, appointment, workflow)})
            execution.done_actions = [*execution.done_actions, i]
    except ActionFailed as error:
        _failed(execution, outcomes, error, at, result)
        return
    execution.result = outcomes
    _settle(execution, lambda e: _finish(e, "done", at), at)
    result.done += 1


def _reason_to_skip(execution: Execution, appointment: Appointment | None, workflow: Workflow | None) -> str | None:
    if appointment is None:
        return "The appointment no longer exists."
    if workflow is None:
        return "The workflow was deleted."
    if execution.trigger in TIMED and appointment.status == "cancelled":
        return "The appointment was cancelled."
    return None


def _claim(execution: Execution, at: datetime) -> bool:
    execution.status, execution.attempts = "running", int(execution.attempts) + 1
    execution.due_at = at + LEASE
    return _settle(execution, lambda e: None, at)


def _settle(execution: Execution, change: Callable[[Execution], None], at: datetime) -> bool:
    """Write the execution as changed, conditioned on its version: False if another run got there first."""
    change(execution)
    execution.updated_at, execution.updated_by = at, schedule.ACTOR
    execution.index()
    try:
        with storage_errors():
            execution.save()
    except Conflict:
        return False
    return True


def _failed(execution: Execution, outcomes: list[dict], failure: ActionFailed, at: datetime, result: RunResult) -> None:
    execution.result, error = outcomes, str(failure)
    attempts = int(execution.attempts)
    if attempts >= MAX_ATTEMPTS or not failure.retry:
        _settle(execution, lambda e: _finish(e, "failed", at, error=error), at)
        result.failed += 1
        result.errors.append(f"{execution.tenant_id}/{execution.id}: {error}")
        return

    def retry(e: Execution) -> None:
        e.status, e.error = "pending", error
        e.due_at = at + BACKOFF[min(attempts, len(BACKOFF)) - 1]

    _settle(execution, retry, at)
    result.retried += 1
