"""Where a meeting workflow's task actions land: a task in the client's open onboarding process, added with
the onboarding module's ``add_task`` (shared/onboarding/tasks.py), so it counts in the process's progress
and is reminded like the others.

An ``onboarding_task`` goes to whom the process gives it (its owner); a ``follow_up_task`` to the meeting's
organizer. A meeting without a client, a client without an open process, or an organizer who is no longer
active staff gets no task: the action's result says why (nothing a retry would change)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.calendar.executions import PLANNER
from shared.caller import Role, TenantContext
from shared.errors import NotFound, Unprocessable
from shared.onboarding.tasks import NewTask, add_task


def add(kind: str, appointment: Any, *, title: str, due_in_days: int, source: str) -> dict[str, Any]:
    if appointment.client_id is None:
        return {"skipped": "The appointment has no client."}
    ctx = TenantContext(appointment.tenant_id, PLANNER, PLANNER, frozenset({Role.MANAGERS, Role.STAFF}))
    body = NewTask(
        title=title,
        description=source,
        assignee_id=appointment.organizer_id if kind == "follow_up_task" else None,
        due_date=(appointment.end + timedelta(days=due_in_days)).date(),
    )
    try:
        task = add_task(ctx, appointment.client_id, body)
    except (NotFound, Unprocessable) as refused:
        return {"skipped": refused.detail}
    return {"task_id": task.id, "process_id": task.process_id}
