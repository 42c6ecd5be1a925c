"""Refreshing a dynamic segment's members in resumable chunks, and the job that finds what to refresh.

A refresh writes the members of a new generation beside the one readers see, a page of contacts at a time,
saving after each page where it got to (``refresh_cursor``) in the segment's state; a crash resumes from the
last saved page (its members are written again, idempotently). When the last page is done, one conditional
write switches readers to the new generation with its count: until then they see the old one whole. Then the
old generation's members are deleted, a page at a time; the segment stays due until they are gone (a run that ends
first leaves the rest to the next), then is next due an hour after the refresh began. Each step is conditioned on
the state it read, so two runs on one segment (the schedule and a manager's ``refresh``) never interleave their writes.

What to refresh is found without a Scan: every dynamic segment's state carries an entry in the sparse system
index ``DUE`` (``SEGMENTDUE`` / ``<when>#<tenant>#<segment>``): an hour after its last refresh (the safety net
for missed stream events), at once when a manager asks or its criteria change. The job runs every minute and
reads only the entries already due."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from shared.clock import iso, now
from shared.db.due import due_by
from shared.db.errors import storage_errors
from shared.errors import Conflict
from shared.marketing import audience
from shared.marketing.segments import Member, Segment, SegmentState, due, state_of

logger = logging.getLogger(__name__)

EVERY = timedelta(hours=1)  # the safety net's period
CLEANUP_PAGE = 500
BUSY = "The segment is being refreshed by another run."


def step(state: SegmentState, segment: Segment, at: datetime, reader: audience.Reader) -> bool:
    """One unit of work on the segment's refresh (``reader`` keeps what a run has read of clients and tags);
    whether it is finished (nothing left to do)."""
    if state.cleanup_generation is not None:
        return _clean_up(state)
    if state.pending_generation is None:
        _begin(state)
        return False
    return _next_page(state, segment, at, reader)


def run(tenant_id: str, segment_id: str, deadline: float, clock: Callable[[], float] = time.monotonic) -> bool:
    """Refresh the segment (start one, or go on with the one under way) until done or ``deadline``
    (a ``clock`` reading); whether it finished. A lost race with another run ends this one."""
    segment = Segment.find(tenant_id, segment_id)
    if segment is None or segment.kind != "dynamic":
        return True
    at, reader = now(), audience.Reader(tenant_id, segment.tree)  # one a run: tags and clients read once
    while clock() < deadline:
        state = state_of(tenant_id, segment_id)
        if state is None:
            return True
        try:
            if step(state, segment, at, reader):
                return True
        except Conflict:
            logger.info("segment %s is being refreshed by another run", segment_id)
            return False
    return False


def due_now(at: datetime, limit: int = 100) -> list[tuple[str, str]]:
    """(tenant, segment) of the dynamic segments whose refresh is due at ``at``."""
    with storage_errors():
        entries = SegmentState.due.query("SEGMENTDUE", due_by(SegmentState, at), limit=limit)
        return [(e.DUESK.split("#")[1], e.DUESK.split("#")[2]) for e in entries]


# ---- the steps ----------------------------------------------------------------------------------


def _begin(state: SegmentState) -> None:
    with storage_errors(BUSY):
        state.update(
            [SegmentState.pending_generation.set(int(state.generation) + 1), SegmentState.refresh_cursor.remove()],
            condition=SegmentState.pending_generation.does_not_exist()
            & SegmentState.cleanup_generation.does_not_exist(),
        )


def _next_page(state: SegmentState, segment: Segment, at: datetime, reader: audience.Reader) -> bool:
    tenant, generation = state.tenant_id, int(state.pending_generation)
    contacts, last = reader.page(state.refresh_cursor)
    with storage_errors(), Member.batch_write() as batch:
        for contact in reader.matching(contacts, at):
            batch.save(Member.of(tenant, segment.id, generation, contact))
    unchanged = (SegmentState.pending_generation == generation) & (
        SegmentState.refresh_cursor.does_not_exist()
        if state.refresh_cursor is None
        else SegmentState.refresh_cursor == state.refresh_cursor
    )
    if last is not None:
        with storage_errors(BUSY):
            state.update([SegmentState.refresh_cursor.set(last)], condition=unchanged)
        return False
    count = _count(Member.partition(tenant, segment.id, generation))
    with storage_errors(BUSY):  # still due: the next run deletes the old generation if this one cannot
        state.update(
            [
                SegmentState.generation.set(generation),
                SegmentState.member_count.set(count),
                SegmentState.refreshed_at.set(at),
                SegmentState.cleanup_generation.set(int(state.generation)),
                SegmentState.pending_generation.remove(),
                SegmentState.refresh_cursor.remove(),
            ],
            condition=unchanged,
        )
    return False


def _clean_up(state: SegmentState) -> bool:
    """Delete a page of the replaced generation's members; when none is left, say the refresh is done."""
    partition = Member.partition(state.tenant_id, state.segment_id, int(state.cleanup_generation))
    with storage_errors():
        stale = list(Member.query(partition, limit=CLEANUP_PAGE))
        with Member.batch_write() as batch:
            for member in stale:
                batch.delete(member)
    if len(stale) < CLEANUP_PAGE:
        done = [SegmentState.cleanup_generation.remove()]
        condition = SegmentState.cleanup_generation == state.cleanup_generation
        asked = state.DUESK.split("#")[0] if state.DUESK else None
        if state.refreshed_at is not None and (asked is None or asked <= iso(state.refreshed_at)):
            # the entry that started this refresh: next due an hour on (one asked for since, by a manager or a
            # criteria change, stays: a refresh follows); should one be asked for now, this write fails and
            # the next run looks again
            condition &= SegmentState.DUESK == state.DUESK if state.DUESK else SegmentState.DUESK.does_not_exist()
            due(state, state.refreshed_at + EVERY)
            done += [SegmentState.DUEPK.set(state.DUEPK), SegmentState.DUESK.set(state.DUESK)]
        with storage_errors(BUSY):
            state.update(done, condition=condition)
        return True
    return False


def _count(partition: str) -> int:
    with storage_errors():
        return Member.count(partition)


def refresh_now(tenant_id: str, segment_id: str) -> None:
    """Make the segment due at once (the job, or the caller's own run, takes it from there)."""
    state = state_of(tenant_id, segment_id)
    if state is None:
        return
    due(state, now())
    with storage_errors():
        state.update([SegmentState.DUEPK.set(state.DUEPK), SegmentState.DUESK.set(state.DUESK)])
