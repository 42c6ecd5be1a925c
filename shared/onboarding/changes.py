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
from shared.db.entities import Requires, changed_meanwhile, touch
from shared.db.errors import cancelled_by_condition, contended, throttled, unavailable
from shared.db.table import transaction
from shared.errors import Conflict
from shared.onboarding.model import OPEN_PROCESS, Process, ProcessItem, outstanding

ATTEMPTS = 5


def counted(item: ProcessItem) -> tuple[int, int]:
    """What the item adds to its process's (done, required_open)."""
    return int(item.counts_done), int(outstanding(item))


def change(
    ctx: TenantContext,
    item: ProcessItem,
    before: tuple[int, int],
    *,
    added: bool = False,
    requires: Requires | None = None,
) -> ProcessItem:
    """Write ``item`` (changed since it was read, when it counted ``before``; or ``added`` to the process) with its
    process's progress, if the process is open (not started or in progress; else 409) and ``requires`` holds."""
    item.staged = False  # its process exists: an item written by a user is published
    touch(ctx, item)
    done, required = (now - then for now, then in zip(counted(item), before, strict=True))
    process = Process(*Process.key(item.tenant_id, item.process_id), version=0)  # ADD 1: no version condition
    condition = Process.PK.exists() & Process.status.is_in(*OPEN_PROCESS)
    first = 1 if requires else 0  # the transaction's items: the check, the item, the process
    actions = [Process.done.add(done), Process.required_open.add(required), Process.updated_at.set(item.updated_at)]
    if added:
        actions.append(Process.total.add(1))
    for attempt in range(ATTEMPTS):
        try:
            with transaction() as tx:
                if requires:
                    tx.condition_check(requires.model, *requires.key, condition=requires.condition)
                tx.save(item)
                tx.update(process, actions=list(actions), condition=condition, add_version_condition=False)
            return item
        except TransactWriteError as error:
            if requires and cancelled_by_condition(error, 0):
                raise requires.error from None
            if cancelled_by_condition(error, first):
                raise Conflict(changed_meanwhile(item)) from None
            if cancelled_by_condition(error, first + 1):
                raise Conflict("The onboarding process is closed: its items cannot change.") from None
            if contended(error) and attempt < ATTEMPTS - 1:
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
                continue
            if contended(error) or throttled(error):
                raise unavailable() from None
            raise
    raise unavailable()
