"""Counter items moved in the transaction of the write they count: exact figures for the staff dashboard.

A family of counters is an ``Item`` subclass of ``Counters`` with a ``NumberAttribute(default=0)`` per name in
``COUNTERS``. A write adds to them inside its own transaction (``Tally.apply``), after its own items, so the
counters move exactly when that write's condition holds: a retried or redelivered write that fails its
condition counts nothing, and concurrent writes each add their own (an ADD needs no read). DynamoDB takes one
operation per item in a transaction, so a tally adds everything it holds for one item in one update.

Per-day counters (``DayCounts``) keep one item per tenant and UTC day, ``T#<t>#<PARTITION>`` / ``<YYYY-MM-DD>``;
``span`` reads a range of them with one Query of at most ``MAX_DAYS`` items. Users of the kit:
``shared/attachments/scan_days.py`` (uploads by scan outcome), ``shared/support/ticket_days.py`` (tickets
opened, resolved, breached) and ``shared/field/status_counts.py`` (work orders by status, one item).

Every write to a counter item contends with the others of its tenant: two transactions on one item at the same
moment make DynamoDB cancel one (``TransactionConflict``), which wrote nothing. ``retry_contended`` runs such a
transaction again, a few times, before the caller hears a 503."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.db.errors import contended, storage_errors
from shared.db.table import Item, tkey
from shared.errors import Unprocessable

MAX_DAYS = 92
DEFAULT_DAYS = 14
CONTENDED_ATTEMPTS = 4

T = TypeVar("T")


class Counters(Item):
    """Base of a family of counter items; a subclass names its counters and declares a number attribute each."""

    COUNTERS: ClassVar[tuple[str, ...]]

    def counts(self) -> dict[str, int]:
        return {name: int(getattr(self, name) or 0) for name in self.COUNTERS}


class DayCounts(Counters):
    """Counters of one tenant and UTC day; a subclass sets ``PARTITION``."""

    PARTITION: ClassVar[str]

    @classmethod
    def key(cls, tenant_id: str, day: date) -> tuple[str, str]:
        return tkey(tenant_id, cls.PARTITION), day.isoformat()


@dataclass
class Tally:
    """What one transaction adds to the counters of ``model``: ``add`` collects, ``apply`` writes."""

    model: type[Counters]
    adds: dict[tuple[str, str, str], Counter[str]] = field(default_factory=dict)  # (tenant, PK, SK) -> counts

    def __bool__(self) -> bool:
        return any(any(counts.values()) for counts in self.adds.values())

    def add(self, tenant_id: str, key: tuple[str, str], name: str, amount: int = 1) -> None:
        if name not in self.model.COUNTERS:
            raise ValueError(f"{self.model.__name__} counts no {name!r}")
        self.adds.setdefault((tenant_id, *key), Counter())[name] += amount

    def add_day(self, tenant_id: str, name: str, at: datetime) -> None:
        """One more ``name`` on the UTC day of ``at`` (``model`` is a ``DayCounts``)."""
        self.add(tenant_id, self.model.key(tenant_id, at.date()), name)  # type: ignore[attr-defined]

    def apply(self, tx: TransactWrite) -> None:
        model = self.model
        for (tenant_id, pk, sk), counts in self.adds.items():
            moved = [getattr(model, name).add(amount) for name, amount in counts.items() if amount]
            if moved:
                tx.update(model(pk, sk), actions=[*moved, model.entity.set(model), model.tenant_id.set(tenant_id)])


def retry_contended(write: Callable[[], T]) -> T:
    """Run ``write`` (one transaction) again while another transaction on the same counter cancels it."""
    for attempt in range(CONTENDED_ATTEMPTS - 1):
        try:
            return write()
        except TransactWriteError as error:
            if not contended(error):
                raise
        time.sleep(random.uniform(0, 0.02 * 2**attempt))
    return write()


# ---- reading days ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    date_from: date
    date_to: date
    days: list[tuple[date, dict[str, int]]]  # every day of the range, oldest first (zeros where nothing counted)

    def out(self, summary: type[BaseModel], day: type[BaseModel]) -> Any:
        """``summary(date_from, date_to, days=[day(day, **counts)…], **totals)``: a module's response model."""
        names = self.days[0][1].keys()
        totals = {name: sum(counts[name] for _, counts in self.days) for name in names}
        days = [day(day=d, **counts) for d, counts in self.days]
        return summary(date_from=self.date_from, date_to=self.date_to, days=days, **totals)


def window(date_from: date | None, date_to: date | None, today: date) -> tuple[date, date]:
    """``date_from``..``date_to`` (UTC days, inclusive; default the last ``DEFAULT_DAYS`` to today): 422 when
    reversed or longer than ``MAX_DAYS``."""
    high = date_to or today
    low = date_from or high - timedelta(days=DEFAULT_DAYS - 1)
    if low > high:
        raise Unprocessable.field("date_from", "date_from is after date_to.")
    if (high - low).days >= MAX_DAYS:
        raise Unprocessable.field("date_from", f"The range is at most {MAX_DAYS} days.")
    return low, high


def span(model: type[DayCounts], tenant_id: str, date_from: date | None, date_to: date | None, today: date) -> Span:
    """The tenant's counts per day over the window (see ``window``): one Query."""
    low, high = window(date_from, date_to, today)
    found: dict[str, DayCounts] = {}
    with storage_errors():
        partition, _ = model.key(tenant_id, low)
        for item in model.query(partition, model.SK.between(low.isoformat(), high.isoformat()), page_size=MAX_DAYS):
            found[item.SK] = item
    zero = dict.fromkeys(model.COUNTERS, 0)
    days = []
    for offset in range((high - low).days + 1):
        day = low + timedelta(days=offset)
        item = found.get(day.isoformat())
        days.append((day, item.counts() if item else dict(zero)))
    return Span(low, high, days)
