"""The search index in the table: term postings per tenant and scope, kept by a stream consumer.

Two scopes, each fed by one kind of record: ``staff`` by the items (their current content), ``public`` by the
live copies of public items. A posting ``T#<tenant>#KTERM#<scope>#<term>`` / ``<item>`` holds the term's
weighted frequency in the item (title 3x, tags and category 2x, body 1x), the item's length and the version
of the content it was made from. A query reads the postings of its terms only.

Consistent with what a reader may see, without a transaction over a long article's thousands of terms: the
index is only ever a list of candidates. Search checks each candidate it answers against the item or live
copy itself (one BatchGet), and keeps it only when the posting's version is the content version that reader
may see now (``shared.knowledge.search``). A posting that lags (an edit, an unpublish, an archive) is dropped
by that check, never shown; one that leads cannot exist (postings are written after the record). The stream
delivers an item's records in order (the item, its live copy and the index records share a partition key),
so postings converge within a batch of the write.

Per scope the number of documents and their total length (for BM25) are counted in one item, changed in the
same transaction that records what the index holds of the item (``INDEXED#<scope>``, conditioned on what was
read): a redelivered record changes nothing twice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from shared.db.table import Item, get_or_none, tkey, transaction
from shared.knowledge.model import partition

Scope = Literal["staff", "public"]
WEIGHTS = {"title": 3, "tags": 2, "category": 2, "body": 1}


class Posting(Item, discriminator="knowledge_posting"):
    item_id = UnicodeAttribute()
    v = NumberAttribute()  # the content version it was made from
    tf = NumberAttribute()  # weighted term frequency
    dl = NumberAttribute()  # the item's weighted length

    @staticmethod
    def partition(tenant_id: str, scope: str, term: str) -> str:
        return tkey(tenant_id, "KTERM", scope, term)


class Indexed(Item, discriminator="knowledge_indexed"):
    """What the index holds of one item in one scope: its content version and length."""

    v = NumberAttribute()
    dl = NumberAttribute()
    version = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, item_id: str, scope: str) -> tuple[str, str]:
        return partition(tenant_id, item_id), f"INDEXED#{scope}"


class ScopeStats(Item, discriminator="knowledge_stats"):
    docs = NumberAttribute(default=0)
    length = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, scope: str) -> tuple[str, str]:
        return tkey(tenant_id, "KSTATS"), scope


@dataclass(frozen=True)
class Document:
    tenant_id: str
    item_id: str
    scope: Scope
    v: int
    tf: dict[str, int]

    @property
    def length(self) -> int:
        return sum(self.tf.values())


def analyse(title: str, tags: Iterable[str], category: str | None, body: str) -> Counter[str]:
    from shared.knowledge import text  # only the consumer analyses; the search routes import this module too

    weighted: Counter[str] = Counter()
    for name, value in (("title", title), ("tags", " ".join(tags)), ("category", category or ""), ("body", body)):
        for term, count in text.counts(value).items():
            weighted[term] += count * WEIGHTS[name]
    return weighted


def document_of(image: dict[str, Any] | None) -> Document | None:
    """The document a stream image makes (a DynamoDB-typed item), or None (not indexed in any scope)."""
    if not image:
        return None
    entity = _s(image, "entity")
    if entity == "knowledge_item":
        scope, number = "staff", _n(image, "current_version")
        item_id = _s(image, "id")
    elif entity == "knowledge_published" and _s(image, "visibility") == "public":
        scope, number, item_id = "public", _n(image, "number"), _s(image, "item_id")
    else:
        return None
    tags = [t.get("S", "") for t in image.get("tags", {}).get("L", [])]
    counts = analyse(_s(image, "title") or "", tags, _s(image, "category"), _s(image, "body") or "")
    return Document(_s(image, "tenant_id"), item_id, scope, number, dict(counts))


def _s(image: dict[str, Any], name: str) -> str | None:
    return (image.get(name) or {}).get("S")


def _n(image: dict[str, Any], name: str) -> int:
    return int((image.get(name) or {}).get("N", "0"))


def apply(old: Document | None, new: Document | None) -> int:
    """Bring the index from ``old`` to ``new`` (either may be None); the postings written or deleted."""
    if old == new:
        return 0
    written = 0
    if new is not None:
        with Posting.batch_write() as batch:
            for term, tf in new.tf.items():
                batch.save(_posting(new, term, tf))
                written += 1
    stale = set(old.tf) - set(new.tf if new else ()) if old else set()  # a record keeps its scope
    if stale:
        with Posting.batch_write() as batch:
            for term in stale:
                batch.delete(Posting(Posting.partition(old.tenant_id, old.scope, term), old.item_id))
                written += 1
    gone = old if new is None else None
    count(*((new.tenant_id, new.item_id, new.scope) if new else (gone.tenant_id, gone.item_id, gone.scope)), new)
    return written


def _posting(doc: Document, term: str, tf: int) -> Posting:
    return Posting(
        Posting.partition(doc.tenant_id, doc.scope, term),
        doc.item_id,
        tenant_id=doc.tenant_id,
        item_id=doc.item_id,
        v=doc.v,
        tf=tf,
        dl=doc.length,
    )


def count(tenant_id: str, item_id: str, scope: str, doc: Document | None) -> None:
    """Record what the index holds of the item and move the scope's counts by the difference, once."""
    key = Indexed.key(tenant_id, item_id, scope)
    held = get_or_none(Indexed, key)
    docs = (doc is not None) - (held is not None)
    length = (doc.length if doc else 0) - (int(held.dl) if held else 0)
    if held is not None and doc is not None and int(held.v) == doc.v and not length:
        return
    if held is None and doc is None:
        return
    # conditioned on what was read: a concurrent delivery fails this one, whose retry reads the new state
    with transaction() as tx:
        if doc is None:
            tx.delete(held, condition=Indexed.version == held.version)
        else:
            serial = int(held.version) + 1 if held else 1
            record = Indexed(*key, tenant_id=tenant_id, v=doc.v, dl=doc.length, version=serial)
            tx.save(record, condition=Indexed.PK.does_not_exist() if held is None else Indexed.version == held.version)
        tx.update(
            ScopeStats(*ScopeStats.key(tenant_id, scope)),
            actions=[
                ScopeStats.docs.add(docs),
                ScopeStats.length.add(length),
                ScopeStats.tenant_id.set(tenant_id),
                ScopeStats.entity.set(ScopeStats),
            ],
        )


def stats(tenant_id: str, scope: str) -> tuple[int, float]:
    """(documents, average length) of the scope: one GetItem."""
    found = get_or_none(ScopeStats, ScopeStats.key(tenant_id, scope))
    if found is None or not found.docs:
        return 0, 1.0
    return int(found.docs), max(float(found.length) / float(found.docs), 1.0)
