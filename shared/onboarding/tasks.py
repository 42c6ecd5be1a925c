"""Onboarding tasks: what the firm's staff or the client must do. Staff complete, reopen, skip and assign them; a
client's portal user completes and reopens the tasks assigned to the client.

``add_task`` adds one task to a client's open process (other modules call it: a meeting's workflow)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import Field

from shared.caller import TenantContext
from shared.clock import now
from shared.db.entities import expect_version, require_state
from shared.db.pages import Page, query_page
from shared.db.table import tkey
from shared.directory import active_staff
from shared.errors import Conflict, NotFound, Unprocessable
from shared.ids import new_id
from shared.onboarding import changes
from shared.onboarding.model import OPEN_PROCESS, AssigneeKind, Process, Task, TaskStatus, all_of
from shared.onboarding.templates import Description
from shared.schemas import Audited, Date, Id, Name, Strict, Version


class TaskFilters(Strict):
    process_id: Id | None = None
    assignee_id: Id | None = None
    status: TaskStatus | None = None
    due_from: Date | None = None
    due_to: Date | None = None


class AssignTask(Strict):
    assignee_id: Id = Field(description="An active staff user of the tenant; a client's task becomes a staff task.")
    version: Version = None


class TaskOut(Audited):
    id: str
    process_id: str
    client_id: str
    title: str
    description: str
    assignee_kind: AssigneeKind
    assignee_id: str | None
    due_date: date
    status: TaskStatus
    position: int
    completed_by: str | None
    completed_at: datetime | None
    reminded_on: date | None


# ---- reading -----------------------------------------------------------------------------------


def page(ctx: TenantContext, filters: TaskFilters, *, limit: int, cursor: str | None) -> Page[Task]:
    """Staff: by process, assignee, status or all, each by due date; portal users: the client's tasks only."""
    t = ctx.tenant_id
    if filters.due_from and filters.due_to and filters.due_from > filters.due_to:
        raise Unprocessable.field("due_from", "due_from is after due_to.")
    low = filters.due_from.isoformat() if filters.due_from else "0"
    high = filters.due_to.isoformat() if filters.due_to else "9999"
    dated = filters.due_from is not None or filters.due_to is not None
    conditions = [Task.status == filters.status if filters.status else None]
    if filters.process_id:
        source, partition = Task, Process.partition(t, filters.process_id)
        range_condition = Task.SK.startswith(Task.sort_prefix)
        conditions.append(Task.due_date.between(low, high) if dated else None)
        conditions.append(Task.assignee_kind == "client" if ctx.is_portal else None)
        conditions.append(
            Task.assignee_id == filters.assignee_id if filters.assignee_id and not ctx.is_portal else None
        )
    else:
        if ctx.is_portal:  # their client's tasks; an assignee filter names staff, whom they do not see
            source, partition, sort_key = (
                Task.gsi1,
                Task.partition_of_assignee(t, "client", ctx.client_id or "-"),
                Task.GSI1SK,
            )
        elif filters.assignee_id:
            source, partition = Task.gsi1, Task.partition_of_assignee(t, "staff", filters.assignee_id)
            sort_key = Task.GSI1SK
        elif filters.status:
            source, partition, sort_key = Task.gsi2, tkey(t, "ONBTASKS", "STATUS", filters.status), Task.GSI2SK
            conditions = []
        else:
            source, partition, sort_key = Task.gsi3, tkey(t, "ONBTASKS"), Task.GSI3SK
        range_condition = sort_key.between(low, high + "~") if dated else None
    scope = filters.model_copy(update={"assignee_id": None} if ctx.is_portal else {})
    name = f"onboarding-tasks:{ctx.client_id if ctx.is_portal else ''}:" + scope.model_dump_json(exclude_none=True)
    found = query_page(
        source,
        partition,
        t,
        name,
        limit=limit,
        cursor=cursor,
        range_key_condition=range_condition,
        filter_condition=all_of(*conditions),
    )
    return of_process(ctx, filters.process_id, found, cursor)


def of_process(ctx: TenantContext, process_id: str | None, found: Page, cursor: str | None) -> Page:
    """A page of a process's items, read before the process (one round trip when it has some): its items carry
    its client, so a portal caller of another client gets the same 404 as for a missing process; an empty first
    page reads the process, to tell an empty list from no process."""
    if process_id is None:
        return found
    if any(ctx.is_portal and item.client_id != ctx.client_id for item in found.items):
        raise NotFound(f"No such {Process.noun}.")
    if not found.items and cursor is None:
        Process.load(ctx, process_id)
    return found


# ---- changing ----------------------------------------------------------------------------------


def _for_change(ctx: TenantContext, task_id: str, if_match: int | None) -> tuple[Task, tuple[int, int]]:
    task = Task.load(ctx, task_id)
    expect_version(task, if_match, required=False)
    return task, changes.counted(task)


def complete(ctx: TenantContext, task_id: str, if_match: int | None) -> Task:
    return _close(ctx, task_id, if_match, "done", "completed")


def skip(ctx: TenantContext, task_id: str, if_match: int | None) -> Task:
    return _close(ctx, task_id, if_match, "skipped", "skipped")


def _close(ctx: TenantContext, task_id: str, if_match: int | None, status: str, done: str) -> Task:
    task, before = _for_change(ctx, task_id, if_match)
    require_state(task, ("open",), done)
    task.status, task.completed_by, task.completed_at = status, ctx.user_id, now()
    task.next_reminder_on = None
    return changes.change(ctx, task, before)


def reopen(ctx: TenantContext, task_id: str, if_match: int | None) -> Task:
    task, before = _for_change(ctx, task_id, if_match)
    require_state(task, ("done", "skipped"), "reopened")
    if ctx.is_portal and task.completed_by != ctx.user_id and task.status == "skipped":
        raise Conflict("A task the firm skipped cannot be reopened from the portal.", current_status=task.status)
    task.status, task.completed_by, task.completed_at = "open", None, None
    task.schedule_reminders(now().date())
    return changes.change(ctx, task, before)


def assign(ctx: TenantContext, task_id: str, body: AssignTask, if_match: int | None) -> Task:
    task = Task.load(ctx, task_id)
    expect_version(task, body.version, if_match, required=False)
    if task.status != "open":
        raise Conflict(f"A {task.status} onboarding task cannot be assigned.", current_status=task.status)
    before = changes.counted(task)
    task.assignee_kind, task.assignee_id = "staff", body.assignee_id
    return changes.change(ctx, task, before, requires=active_staff(ctx.tenant_id, body.assignee_id, "assignee_id"))


# ---- for other modules -------------------------------------------------------------------------


class NewTask(Strict):
    title: Name
    description: Description = ""
    assignee_kind: AssigneeKind = "staff"
    assignee_id: Id | None = Field(default=None, description="A staff task's assignee (default: the process owner).")
    due_date: Date | None = Field(default=None, description="Default: today.")


def add_task(ctx: TenantContext, client_id: str, body: NewTask, *, process_id: str | None = None) -> Task:
    """Add one task to the client's open onboarding process (the given one, else the newest open one): counted in
    its progress, reminded like the others. 404 if the client has no open process."""
    process = Process.load(ctx, process_id) if process_id else _newest_open(ctx, client_id)
    if process is None or process.client_id != client_id or process.status not in OPEN_PROCESS:
        raise NotFound("The client has no open onboarding process.")
    staff = body.assignee_kind == "staff"
    assignee = (body.assignee_id or process.owner_id) if staff else None
    requires = active_staff(ctx.tenant_id, assignee, "assignee_id") if assignee else None
    moment = now()
    task = Task.new(
        ctx,
        Task.id_of(process.id, "Z" + new_id()),
        at=moment,
        process_id=process.id,
        client_id=process.client_id,
        name=body.title,
        description=body.description,
        assignee_kind=body.assignee_kind,
        assignee_id=assignee,
        status="open",
        due_date=(body.due_date or moment.date()).isoformat(),
        position=int(process.total),
    )
    task.schedule_reminders(moment.date() - timedelta(days=1))
    return changes.change(ctx, task, (0, 0), added=True, requires=requires)


def _newest_open(ctx: TenantContext, client_id: str) -> Process | None:
    partition = tkey(ctx.tenant_id, "ONBPROCS", "CLIENT", client_id)
    for process in Process.gsi2.query(
        partition, scan_index_forward=False, filter_condition=Process.status.is_in(*OPEN_PROCESS), limit=1, page_size=25
    ):
        return process
    return None
