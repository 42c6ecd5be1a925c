"""Uploads by scan outcome per day (clean, infected, rejected), for the staff dashboard.

One counter item per tenant and UTC day (``T#<t>#UPLOADSCANS`` / ``<date>``). The scan adds to it in the same
transaction that records its verdict on the attachment, conditioned like that write on the object not being
judged yet: a redelivered upload event fails the condition and counts nothing, so each verdict counts once. A
summary reads one Query over at most ``MAX_DAYS`` day items (never the attachments)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel
from pynamodb.attributes import NumberAttribute
from pynamodb.transactions import TransactWrite

from shared.caller import TenantContext
from shared.db.errors import storage_errors
from shared.db.table import Item, tkey
from shared.errors import Unprocessable

OUTCOMES = ("clean", "infected", "rejected")
MAX_DAYS = 92
DEFAULT_DAYS = 14


class ScanDay(Item, discriminator="upload_scan_day"):
    """How many uploads of one tenant the scan judged clean, infected and rejected on one UTC day."""

    clean = NumberAttribute(default=0)
    infected = NumberAttribute(default=0)
    rejected = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, day: date) -> tuple[str, str]:
        return tkey(tenant_id, "UPLOADSCANS"), day.isoformat()


def count(tx: TransactWrite, tenant_id: str, outcome: str, at: datetime) -> None:
    """Add one ``outcome`` to the day of ``at`` within the transaction that records it (nothing for others)."""
    if outcome not in OUTCOMES:
        return
    tx.update(
        ScanDay(*ScanDay.key(tenant_id, at.date())),
        actions=[getattr(ScanDay, outcome).add(1), ScanDay.entity.set(ScanDay), ScanDay.tenant_id.set(tenant_id)],
    )


class ScanDayOut(BaseModel):
    day: date
    clean: int
    infected: int
    rejected: int


class ScanSummary(BaseModel):
    date_from: date
    date_to: date
    days: list[ScanDayOut]  # every day of the range, oldest first (zeros where nothing was judged)
    clean: int
    infected: int
    rejected: int


def summary(ctx: TenantContext, date_from: date | None, date_to: date | None, today: date) -> ScanSummary:
    """Per day over ``date_from``..``date_to`` (UTC days, inclusive; default the last ``DEFAULT_DAYS``): one Query."""
    high = date_to or today
    low = date_from or high - timedelta(days=DEFAULT_DAYS - 1)
    if low > high:
        raise Unprocessable.field("date_from", "date_from is after date_to.")
    if (high - low).days >= MAX_DAYS:
        raise Unprocessable.field("date_from", f"The range is at most {MAX_DAYS} days.")
    found: dict[str, ScanDay] = {}
    with storage_errors():
        partition, _ = ScanDay.key(ctx.tenant_id, low)
        for item in ScanDay.query(partition, ScanDay.SK.between(low.isoformat(), high.isoformat()), page_size=MAX_DAYS):
            found[item.SK] = item
    days = []
    for offset in range((high - low).days + 1):
        day = low + timedelta(days=offset)
        item = found.get(day.isoformat())
        days.append(ScanDayOut(day=day, **{o: int(getattr(item, o) or 0) if item else 0 for o in OUTCOMES}))
    totals = {o: sum(getattr(d, o) for d in days) for o in OUTCOMES}
    return ScanSummary(date_from=low, date_to=high, days=days, **totals)
