"""Uploads by scan outcome per day (clean, infected, rejected), for the staff dashboard.

One counter item per tenant and UTC day (``T#<t>#UPLOADSCANS`` / ``<date>``, the day-counter kit
``shared.db.counters``). The scan adds to it in the same transaction that records its verdict on the attachment,
conditioned like that write on the object not being judged yet: a redelivered upload event fails the condition
and counts nothing, so each verdict counts once. A summary reads one Query over at most ``MAX_DAYS`` day items
(never the attachments)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from pynamodb.attributes import NumberAttribute
from pynamodb.transactions import TransactWrite

from shared.caller import TenantContext
from shared.db import counters
from shared.db.counters import DayCounts, Tally

OUTCOMES = ("clean", "infected", "rejected")


class ScanDay(DayCounts, discriminator="upload_scan_day"):
    """How many uploads of one tenant the scan judged clean, infected and rejected on one UTC day."""

    PARTITION, COUNTERS = "UPLOADSCANS", OUTCOMES
    clean = NumberAttribute(default=0)
    infected = NumberAttribute(default=0)
    rejected = NumberAttribute(default=0)


def count(tx: TransactWrite, tenant_id: str, outcome: str, at: datetime) -> None:
    """Add one ``outcome`` to the day of ``at`` within the transaction that records it (nothing for others)."""
    if outcome in OUTCOMES:
        tally = Tally(ScanDay)
        tally.add_day(tenant_id, outcome, at)
        tally.apply(tx)


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
    """Per day over ``date_from``..``date_to`` (UTC days, inclusive; default the last 14, at most 92): one Query."""
    return counters.span(ScanDay, ctx.tenant_id, date_from, date_to, today).out(ScanSummary, ScanDayOut)
