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
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PutError

from shared.clock import iso
from shared.db.table import Item
from shared.knowledge import mailing
from shared.knowledge.model import REVIEW_DUE, KnowledgeItem

logger = logging.getLogger(__name__)

ACTOR = "system:knowledge-review-due"


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
    for keys in REVIEW_DUE.walk(DueCursor, KnowledgeItem, now):
        result.buckets += 1
        _handle(keys, now, result)
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
