"""The review-due job: each item whose verification fell due has its owner emailed, once.

It reads the system index ``DUE`` as the SLA sweep does (``shared.support.sla_sweep``), by the hour: one
Query per hour bucket from the last one it finished to now (``DUESK <= now``), one BatchGet per 100 items
found, so its work grows with what is due, not with the knowledge base. Marking an item told
(``review_notified_for``, which takes it out of the index) is a write conditioned on the version read; only
the email goes first, at most once per due date (``mailing``), so a failed send leaves the item to the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PutError

from shared.clock import iso
from shared.db.due import due_by
from shared.db.table import Item, get_or_none
from shared.knowledge import mailing
from shared.knowledge.model import KnowledgeItem, review_bucket

logger = logging.getLogger(__name__)

ACTOR = "system:knowledge-review-due"
FIRST_RUN_HOURS = 24
MAX_BUCKETS_PER_RUN = 24 * 14
GRACE_HOURS = 1
BATCH = 100


class DueCursor(Item, discriminator="knowledge_due_cursor"):
    swept_through = UnicodeAttribute()

    KEY = ("SYS#KBREVIEWDUE", "CURSOR")


@dataclass
class DueResult:
    buckets: int = 0
    due: int = 0
    notified: int = 0


def sweep(now: datetime) -> DueResult:
    result = DueResult()
    cursor = get_or_none(DueCursor, DueCursor.KEY)
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    start = _hour(cursor.swept_through) + timedelta(hours=1) if cursor else current - timedelta(hours=FIRST_RUN_HOURS)
    last = min(current, start + timedelta(hours=MAX_BUCKETS_PER_RUN - 1))
    hour = start
    while hour <= last:
        result.buckets += 1
        found = list(KnowledgeItem.due.query(review_bucket(hour), due_by(KnowledgeItem, now)))
        for chunk in range(0, len(found), BATCH):
            _handle([(e.PK, e.SK) for e in found[chunk : chunk + BATCH]], now, result)
        hour += timedelta(hours=1)
    swept = min(last, current - timedelta(hours=GRACE_HOURS))
    if swept >= start and (cursor is None or _fmt(swept) != cursor.swept_through):
        DueCursor(*DueCursor.KEY, tenant_id="_system", swept_through=_fmt(swept)).save()
    return result


def _handle(keys: list[tuple[str, str]], now: datetime, result: DueResult) -> None:
    result.due += len(keys)
    for item in KnowledgeItem.batch_get(keys, consistent_read=True):
        due = item.review_due_at
        if due is None or due > now or item.review_notified_for == iso(due):
            continue  # the index lags the item, which has moved on since
        try:  # the email first (once per due date, whoever runs): an item is marked only once its owner is told
            if mailing.tell_owner_review_due(item, iso(due)):
                result.notified += 1
        except (BotoCoreError, ClientError):
            logger.exception("could not email the owner of knowledge item %s; the next run retries", item.id)
            continue
        item.review_notified_for = iso(due)
        item.updated_at, item.updated_by = now, ACTOR
        item.index()
        try:
            item.save()  # conditioned on the version read
        except PutError:
            logger.info("knowledge item %s changed during the review-due job; left to the next run", item.id)


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H")


def _hour(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H").replace(tzinfo=UTC)
