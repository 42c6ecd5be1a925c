"""Work orders by status: exact current counts, for the staff dashboard.

One counter item per tenant (``T#<t>#WOSTATUS`` / ``COUNTS``, the counter kit ``shared.db.counters``) with a
number per status. Every write that gives a work order its status or changes it moves the counts in its own
transaction, which is conditioned like it (a creation on the work order's absence, a change on the version
read): a retried or replayed write moves nothing twice, and the counts are exactly the work orders in each
status. Work orders are never deleted. The write paths: ``work_orders.insert`` (created by hand or by the
ticket automation) and ``work_orders._save`` (assign, schedule, start, complete, cancel, edit).

A work order written before the counts existed has no ``counted`` mark and is in no count; its first change
counts it in its new status (and marks it) rather than moving it out of a status it was never counted in, so
no count goes below zero. Reading the counts is one GetItem."""

from __future__ import annotations

from pydantic import BaseModel
from pynamodb.attributes import NumberAttribute

from shared.caller import TenantContext
from shared.db.counters import Counters, Tally
from shared.db.table import get_or_none, tkey

STATUSES = ("new", "assigned", "scheduled", "in_progress", "completed", "cancelled")


class StatusCounts(Counters, discriminator="work_order_status_counts"):
    """How many work orders of one tenant are in each status now."""

    COUNTERS = STATUSES
    new = NumberAttribute(default=0)
    assigned = NumberAttribute(default=0)
    scheduled = NumberAttribute(default=0)
    in_progress = NumberAttribute(default=0)
    completed = NumberAttribute(default=0)
    cancelled = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "WOSTATUS"), "COUNTS"


def moved(tenant_id: str, was: str | None, now: str) -> Tally:
    """The counts a work order's move from ``was`` (None: in no count yet) to ``now`` changes; none if equal."""
    tally = Tally(StatusCounts)
    if was != now:
        key = StatusCounts.key(tenant_id)
        tally.add(tenant_id, key, now, 1)
        if was is not None:
            tally.add(tenant_id, key, was, -1)
    return tally


class WorkOrderCounts(BaseModel):
    new: int
    assigned: int
    scheduled: int
    in_progress: int
    completed: int
    cancelled: int
    total: int


def summary(ctx: TenantContext) -> WorkOrderCounts:
    """The tenant's work orders per status now: one GetItem."""
    found = get_or_none(StatusCounts, StatusCounts.key(ctx.tenant_id))
    counts = found.counts() if found else dict.fromkeys(STATUSES, 0)
    return WorkOrderCounts(**counts, total=sum(counts.values()))
