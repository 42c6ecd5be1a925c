"""How a task or a document changes state: the item and its process's progress in one transaction.

The item is written conditioned on the version read (so on its state); the process's ``done`` and
``required_open`` move by what the change did, with an atomic ADD conditioned on the process being open. Two
completions at once never lose a count: each transaction adds its own delta, and one that lost a race on the
item fails instead of counting twice. Transactions on the same process at the same instant may be cancelled for
contention (``TransactionConflict``): the change is retried a few times, then answered with a 503.
"""

from __future__ import annotations

import random
import time

from pynamodb.exceptions import TransactWriteError

from shared.caller import TenantContext
from shared.db.entities import changed_meanwhile, touch
from shared.db.errors import cancelled_by_condition, contended, throttled, unavailable
from shared.db.table import transaction
from shared.errors import Conflict
from shared.onboarding.model import OPEN_PROCESS, Process, ProcessItem, outstanding

ATTEMPTS = 5


def counted(item: ProcessItem) -> tuple[int, int]:
    """What the item adds to its process's (done, required_open)."""
    return int(item.counts_done), int(outstanding(item))


def change(
    ctx: TenantContext, item: ProcessItem, before: tuple[int, int], *, open_process: bool = True, added: bool = False
) -> ProcessItem:
    """Write ``item`` (changed since it was read, when it counted ``before``; or ``added`` to the process) with its
    process's progress. ``open_process``: the process must be not started or in progress (else 409)."""
    item.staged = False  # its process exists: an item written by a user is published
    touch(ctx, item)
    done, required = (now - then for now, then in zip(counted(item), before, strict=True))
    process = Process(*Process.key(item.tenant_id, item.process_id), version=0)  # ADD 1: no version condition
    condition = Process.PK.exists()
    if open_process:
        condition &= Process.status.is_in(*OPEN_PROCESS)
    actions = [Process.done.add(done), Process.required_open.add(required), Process.updated_at.set(item.updated_at)]
    if added:
        actions.append(Process.total.add(1))
    for attempt in range(ATTEMPTS):
        try:
            with transaction() as tx:
                tx.save(item)
                tx.update(process, actions=list(actions), condition=condition, add_version_condition=False)
            return item
        except TransactWriteError as error:
            if cancelled_by_condition(error, 0):
                raise Conflict(changed_meanwhile(item)) from None
            if cancelled_by_condition(error, 1):
                raise Conflict("The onboarding process is closed: its items cannot change.") from None
            if contended(error) and attempt < ATTEMPTS - 1:
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
                continue
            if contended(error) or throttled(error):
                raise unavailable() from None
            raise
    raise unavailable()
