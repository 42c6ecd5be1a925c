"""Who is told what by email, from the stream and the review-due job (never from a request).

Each email is owed once: a marker in the item's partition (``MAILED#<what>``) is written, conditioned on not
existing, before the message goes; a send that fails deletes it again, so the record's redelivery retries.
"""

from __future__ import annotations

import logging

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError

from shared import mail
from shared.clock import now
from shared.db.errors import CONDITION_FAILED, code_of
from shared.db.table import Item, get_or_none
from shared.directory import UserProfile
from shared.knowledge.model import KnowledgeItem, partition

logger = logging.getLogger(__name__)


class Mailed(Item, discriminator="knowledge_mailed"):
    to = UnicodeAttribute()
    at = UTCDateTimeAttribute()

    @staticmethod
    def key(tenant_id: str, item_id: str, what: str) -> tuple[str, str]:
        return partition(tenant_id, item_id), f"MAILED#{what}"


def reviewer_owed(old: KnowledgeItem | None, new: KnowledgeItem) -> str | None:
    """The reviewer whose turn has just begun, if any."""
    if new.status != "in_review" or new.review_step is None or not new.reviewers:
        return None
    turn = (new.review_round, int(new.review_step))
    if old is not None and old.status == "in_review" and (old.review_round, int(old.review_step or 0)) == turn:
        return None
    return new.reviewers[int(new.review_step)]


def tell_reviewer(item: KnowledgeItem, reviewer_id: str) -> bool:
    step = int(item.review_step) + 1
    subject = f"[DeskOS] Review requested: {item.title}"
    text = (
        f"You are reviewer {step} of {len(item.reviewers)} of the {item.kind} “{item.title}”, "
        f"version {int(item.review_version)}.\n\nApprove it or request changes in the console.\n\n"
        f"Knowledge item id: {item.id}\n"
    )
    return _once(item, f"{item.review_round}#{step}", reviewer_id, subject, text)


def tell_owner_review_due(item: KnowledgeItem, due: str) -> bool:
    subject = f"[DeskOS] Due for review: {item.title}"
    text = (
        f"The {item.kind} “{item.title}” was due for review on {due[:10]} "
        f"(every {int(item.review_every_days)} days).\n\nCheck it is still right, then confirm or edit it.\n\n"
        f"Knowledge item id: {item.id}\n"
    )
    return _once(item, f"DUE#{due}", item.owner_id, subject, text)


def _once(item: KnowledgeItem, what: str, user_id: str, subject: str, text: str) -> bool:
    profile = get_or_none(UserProfile, UserProfile.key(item.tenant_id, user_id))
    if profile is None or not profile.active:
        logger.warning("no active user %s to email about knowledge item %s", user_id, item.id)
        return False
    marker = Mailed(*Mailed.key(item.tenant_id, item.id, what), tenant_id=item.tenant_id, to=profile.email, at=now())
    try:
        marker.save(condition=Mailed.PK.does_not_exist())
    except PutError as error:
        if code_of(error) == CONDITION_FAILED:  # sent already
            return False
        raise
    try:
        mail.send([profile.email], subject, text)
    except BaseException:
        marker.delete()
        raise
    return True
