"""Where the calendar's timed work waits: the system index DUE (see infra/resources.py ``SYSTEM_INDEXES``).

An open poll (its reminder, then its deadline) and a pending workflow execution carry ``DUEPK =
<kind>#<shard>`` and ``DUESK = <due instant>#<tenant>#<id>``, derived from their own state on every write,
and lose both once nothing is due. The sweep queries each shard with ``DUESK <= now``: it reads only what
is due now (handled entries leave the index), however many polls, appointments and executions exist, and
catches up by itself after an outage, with no cursor to keep. The shards spread the writes of one kind
over a few index partitions."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from shared.db.due import due_by, entry
from shared.db.errors import storage_errors

ACTOR = "system:calendar-sweep"
SHARDS = 4


def keys(kind: str, item: Any, moment: datetime | None) -> tuple[str | None, str | None]:
    """The DUE keys of ``item`` due at ``moment`` (None: nothing due, out of the index)."""
    if moment is None:
        return None, None
    shard = zlib.crc32(item.id.encode()) % SHARDS
    return f"{kind}#{shard}", entry(moment, item.tenant_id, item.id)


def due(model: Any, kind: str, at: datetime) -> Iterator[tuple[str, str]]:
    """The table keys of the ``model`` items of ``kind`` due by ``at``: one Query per shard (paged)."""
    for shard in range(SHARDS):
        with storage_errors():
            entries = list(model.due.query(f"{kind}#{shard}", due_by(model, at)))
        for found in entries:
            yield found.PK, found.SK
