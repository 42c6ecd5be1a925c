"""Where a meeting workflow's task actions land: an onboarding task in the client's onboarding process,
or a follow-up task. The onboarding module (issue 14) owns tasks; until it offers a function that adds a
task to a client's process, workflows with task actions are refused when saved (422), so none is planned
that could only fail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

UNAVAILABLE = "Task actions need the onboarding module, which this deployment does not have yet."

# action kind -> add(tenant_id, client_id, title, due_at, source) -> a short result (the task's id)
SINKS: dict[str, Callable[..., dict[str, Any]]] = {}


def available(kind: str) -> bool:
    return kind in SINKS


def add(kind: str, tenant_id: str, *, client_id: str | None, title: str, due_at: datetime, source: str) -> dict:
    return SINKS[kind](tenant_id, client_id=client_id, title=title, due_at=due_at, source=source)
