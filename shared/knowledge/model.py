"""The knowledge base's items and what hangs off them, with their keys.

One item lives in one partition, ``T#<tenant>#KITEM#<id>``:

- ``KITEM``: the item (``KnowledgeItem``) with its current content (the last saved version's) and its settings;
- ``V#<n>``: every saved version, immutable (``ItemVersion``);
- ``PUBLISHED``: the live copy portal users read (``PublishedItem``), there while a version is published and the
  item is not archived; publishing writes it, editing leaves it alone, archiving deletes it;
- ``R#<instant>#<id>``: the review history (``ReviewEvent``);
- ``INDEXED#<scope>``: what the search index holds of it (``shared.knowledge.index``).

A Markdown body is at most ``MAX_BODY_BYTES`` (200 KiB), so the item and the live copy each stay far below
DynamoDB's 400 KB an item, and a version, the item and the live copy fit one transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar, Literal

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from shared.clock import iso, now
from shared.db.due import Buckets, DueIndex, entry
from shared.db.entities import Entity
from shared.db.table import Item, tkey

Kind = Literal["sop", "training", "playbook", "faq", "article"]
Visibility = Literal["internal", "public"]
Status = Literal["draft", "in_review", "approved", "published", "archived"]
MAX_BODY_BYTES = 200 * 1024
MAX_REVIEWERS = 5


def partition(tenant_id: str, item_id: str) -> str:
    return tkey(tenant_id, "KITEM", item_id)


# items whose verification falls due wait in the DUE index (``shared.db.due``) by the hour
REVIEW_DUE = Buckets("KBDUE#", timedelta(hours=1), "%Y-%m-%dT%H", first_run=24, max_per_run=24 * 14, grace=1)


class KnowledgeItem(Entity, discriminator="knowledge_item"):
    noun, prefix = "knowledge item", "KITEM"

    # the content, as of the current version
    title = UnicodeAttribute()
    kind = UnicodeAttribute()
    category = UnicodeAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    body = UnicodeAttribute(default="")
    # the settings, not versioned
    visibility = UnicodeAttribute(default="internal")
    owner_id = UnicodeAttribute()
    status = UnicodeAttribute(default="draft")
    current_version = NumberAttribute(default=1)
    published_version = NumberAttribute(null=True)
    published_at = UTCDateTimeAttribute(null=True)
    # the review under way: reviewers in order, whose turn it is, the version they review
    reviewers = ListAttribute(of=UnicodeAttribute, null=True)
    review_step = NumberAttribute(null=True)
    review_round = UnicodeAttribute(null=True)  # one submission: its reviewers are emailed once per step
    review_version = NumberAttribute(null=True)
    approved_version = NumberAttribute(null=True)
    # verification: due review_every_days after it was last verified (published or confirmed)
    review_every_days = NumberAttribute(null=True)
    verified_at = UTCDateTimeAttribute(null=True)
    review_notified_for = UnicodeAttribute(null=True)  # the due instant whose owner was emailed
    DUEPK = UnicodeAttribute(null=True)
    DUESK = UnicodeAttribute(null=True)
    due = DueIndex()

    @classmethod
    def key(cls, tenant_id: str, entity_id: str) -> tuple[str, str]:
        return partition(tenant_id, entity_id), cls.prefix

    @staticmethod
    def all_partition(tenant_id: str) -> str:
        return tkey(tenant_id, "KITEMS")

    @staticmethod
    def status_partition(tenant_id: str, status: str) -> str:
        return tkey(tenant_id, "KITEMS", status)

    @staticmethod
    def review_due_partition(tenant_id: str) -> str:
        return tkey(tenant_id, "KREVIEWDUE")

    @property
    def review_due_at(self) -> datetime | None:
        if self.review_every_days is None or self.status == "archived":
            return None
        return (self.verified_at or self.created_at) + timedelta(days=int(self.review_every_days))

    def due_for_review(self, at: datetime) -> bool:
        due = self.review_due_at
        return due is not None and due <= at

    def index(self) -> None:
        self.GSI1PK, self.GSI1SK = self.all_partition(self.tenant_id), self.time_order
        self.GSI2PK, self.GSI2SK = self.status_partition(self.tenant_id, self.status), self.time_order
        due = self.review_due_at
        if due is None:
            self.GSI3PK = self.GSI3SK = self.DUEPK = self.DUESK = None
            return
        self.GSI3PK, self.GSI3SK = self.review_due_partition(self.tenant_id), f"{iso(due)}#{self.id}"
        if self.review_notified_for == iso(due):  # its owner has been told: out of the job's way
            self.DUEPK = self.DUESK = None
        else:
            # never in a bucket before the hour it is written in: the job has finished those
            self.DUEPK, self.DUESK = REVIEW_DUE.name(max(due, now())), entry(due, self.tenant_id, self.id)


class ItemVersion(Item, discriminator="knowledge_version"):
    """One saved edit, never changed."""

    noun: ClassVar[str] = "version"
    item_id = UnicodeAttribute()
    number = NumberAttribute()
    title = UnicodeAttribute()
    kind = UnicodeAttribute()
    category = UnicodeAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    body = UnicodeAttribute(default="")
    change_note = UnicodeAttribute(null=True)
    restored_from = NumberAttribute(null=True)
    author_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def sort_key(number: int) -> str:
        return f"V#{number:010d}"

    @classmethod
    def key(cls, tenant_id: str, item_id: str, number: int) -> tuple[str, str]:
        return partition(tenant_id, item_id), cls.sort_key(number)


class PublishedItem(Item, discriminator="knowledge_published"):
    """The live copy of the published version: all a portal user ever reads of an item."""

    item_id = UnicodeAttribute()
    number = NumberAttribute()
    title = UnicodeAttribute()
    kind = UnicodeAttribute()
    category = UnicodeAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    body = UnicodeAttribute(default="")
    visibility = UnicodeAttribute()
    published_at = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()

    SORT_KEY = "PUBLISHED"

    @classmethod
    def key(cls, tenant_id: str, item_id: str) -> tuple[str, str]:
        return partition(tenant_id, item_id), cls.SORT_KEY

    @staticmethod
    def public_partition(tenant_id: str) -> str:
        return tkey(tenant_id, "KPUBLIC")

    def index(self) -> None:
        if self.visibility == "public":
            self.GSI1PK = self.public_partition(self.tenant_id)
            self.GSI1SK = f"{iso(self.published_at)}#{self.item_id}"
        else:
            self.GSI1PK = self.GSI1SK = None

    @property
    def is_public(self) -> bool:
        return self.visibility == "public"


class ReviewEvent(Item, discriminator="knowledge_review"):
    """One step of an item's review and publishing history."""

    item_id = UnicodeAttribute()
    # created, submitted, approved, changes_requested, published, archived, unarchived, verified
    action = UnicodeAttribute()
    actor_id = UnicodeAttribute()
    version_number = NumberAttribute()
    comment = UnicodeAttribute(null=True)
    reviewers = ListAttribute(of=UnicodeAttribute, null=True)
    at = UTCDateTimeAttribute()

    @staticmethod
    def prefix() -> str:
        return "R#"
