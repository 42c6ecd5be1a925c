"""Reading and reconfiguring a tenant's number sequence (the counter itself moves in tickets.create)."""

from __future__ import annotations

from datetime import datetime

from shared.caller import TenantContext
from shared.clock import now
from shared.db.errors import storage_errors
from shared.db.table import get_or_none
from shared.support.numbering import NumberGuard, Sequence, SequenceFormat, SequenceOut

MAX_STEPS = 1000


def load(ctx: TenantContext, name: str) -> Sequence:
    found = get_or_none(Sequence, Sequence.key(ctx.tenant_id, name))
    return found or Sequence.fresh(ctx.tenant_id, name, SequenceFormat())


def configure(ctx: TenantContext, name: str, fmt: SequenceFormat) -> Sequence:
    """Counters survive a format change, so numbers keep increasing and old ones keep resolving."""
    sequence = load(ctx, name)
    observed = sequence.rev
    sequence.apply(fmt)
    sequence.rev, sequence.format_rev = observed + 1, sequence.format_rev + 1
    _step_past_issued(sequence, now())
    sequence.updated_by = ctx.user_id
    condition = Sequence.PK.does_not_exist() if observed == 0 else Sequence.rev == observed
    with storage_errors("The sequence changed meanwhile; retry."):
        sequence.save(condition=condition)
    return sequence


def _step_past_issued(sequence: Sequence, moment: datetime) -> None:
    """A new format can make the next number one issued under an older format: count past those now,
    so the preview tells the truth (creates also step past any met later)."""
    for _ in range(MAX_STEPS):
        period, value, number = sequence.next_number(moment)
        if get_or_none(NumberGuard, NumberGuard.key(sequence.tenant_id, sequence.name, number)) is None:
            return
        sequence.counters = {**sequence.counts(), period: value}


def describe(sequence: Sequence, moment: datetime) -> SequenceOut:
    return SequenceOut(**sequence.format.model_dump(), next_value=sequence.next_number(moment)[2])
