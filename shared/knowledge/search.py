"""Ranked full-text search over the index (``shared.knowledge.index``), and suggestions for a ticket subject.

A query's work: one GetItem for the scope's counts, the postings of each of its terms (one Query each, run
side by side, a page per 1 MB of postings), then the best candidates checked against what the reader may see
now, a BatchGet of ``limit`` (or more, when checks drop some). It grows with the postings of the query's terms,
never with the number of items. Ranking is BM25 (k1 1.2, b 0.75) over the weighted fields; items holding more
of the query's terms come first, whatever their score.
"""

from __future__ import annotations

import contextvars
import html
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from shared.caller import TenantContext
from shared.db.errors import storage_errors
from shared.knowledge.index import Posting, stats
from shared.knowledge.model import KnowledgeItem, PublishedItem
from shared.knowledge.schemas import Hit

K1, B = 1.2, 0.75
MAX_QUERY_TERMS = 12
MAX_CHECKED = 500  # candidates checked against their items before a filtered search gives up
SNIPPET = 160  # characters of context around the first match


@dataclass
class Candidate:
    item_id: str
    v: int
    score: float = 0.0
    matched: int = 0


@dataclass
class Result:
    hits: list[Hit]
    terms: list[str]
    postings_read: int = 0  # what the bench prints: index items read
    checked: int = 0  # items and live copies read to check candidates
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Filters:
    kind: str | None = None
    category: str | None = None
    tag: str | None = None
    status: str | None = None


def search(ctx: TenantContext, query: str, filters: Filters, *, limit: int) -> Result:
    """Staff search everything at its current version; portal users the live copies of public items."""
    scope = "public" if ctx.is_portal else "staff"
    return run(ctx.tenant_id, scope, query, filters, limit=limit)


def suggest(ctx: TenantContext, subject: str) -> Result:
    """The five best published public items for a ticket subject, whoever asks."""
    return run(ctx.tenant_id, "public", subject, Filters(), limit=5)


def run(tenant_id: str, scope: str, query: str, filters: Filters, *, limit: int) -> Result:
    from shared.knowledge import text  # the analyser (and its stemmer) load with the first search, not the module

    terms = list(dict.fromkeys(text.terms(query)))[:MAX_QUERY_TERMS]
    result = Result([], terms)
    if not terms:
        return result
    with storage_errors():
        documents, average = stats(tenant_id, scope)
        postings = _postings(tenant_id, scope, terms)
    result.postings_read = sum(len(p) for p in postings.values())
    ranked = _rank(postings, max(documents, 1), average)
    public = scope == "public"
    for start in range(0, min(len(ranked), MAX_CHECKED), limit):
        chunk = ranked[start : start + limit]
        found = _records(tenant_id, public, [c.item_id for c in chunk])
        result.checked += len(chunk)
        for candidate in chunk:
            record = found.get(candidate.item_id)
            if record is not None and _current(record, candidate, public) and _passes(record, filters, public):
                result.hits.append(_hit(record, candidate, terms, public))
                if len(result.hits) == limit:
                    return result
    return result


def _postings(tenant_id: str, scope: str, terms: list[str]) -> dict[str, list[Posting]]:
    """Every posting of each term, the terms read side by side (each in the request's tenant scope)."""

    def read(term: str) -> list[Posting]:
        return list(Posting.query(Posting.partition(tenant_id, scope, term)))

    if len(terms) == 1:
        return {terms[0]: read(terms[0])}
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=min(len(terms), 8)) as pool:
        futures = {term: pool.submit(context.copy().run, read, term) for term in terms}
        return {term: future.result() for term, future in futures.items()}


def _rank(postings: dict[str, list[Posting]], documents: int, average: float) -> list[Candidate]:
    candidates: dict[str, Candidate] = {}
    for found in postings.values():
        df = len(found)
        idf = math.log(1 + (documents - df + 0.5) / (df + 0.5))
        for posting in found:
            candidate = candidates.get(posting.item_id)
            if candidate is None:
                candidate = candidates[posting.item_id] = Candidate(posting.item_id, int(posting.v))
            elif int(posting.v) != candidate.v:
                candidate.v = -1  # postings of two versions: the item is being reindexed; checked as stale
            tf, dl = float(posting.tf), float(posting.dl)
            candidate.score += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * dl / average))
            candidate.matched += 1
    return sorted(candidates.values(), key=lambda c: (-c.matched, -c.score, c.item_id))


def _records(tenant_id: str, public: bool, item_ids: list[str]) -> dict[str, Any]:
    model: Any = PublishedItem if public else KnowledgeItem
    keys = [model.key(tenant_id, item_id) for item_id in item_ids]
    with storage_errors():
        found = list(model.batch_get(keys))
    return {(r.item_id if public else r.id): r for r in found}


def _current(record: Any, candidate: Candidate, public: bool) -> bool:
    """Whether the posting describes what the reader may see now: the live public copy's version (portal), the
    item's current version (staff)."""
    if public:
        return record.is_public and int(record.number) == candidate.v
    return int(record.current_version) == candidate.v


def _passes(record: Any, filters: Filters, public: bool) -> bool:
    if filters.kind is not None and record.kind != filters.kind:
        return False
    if filters.category is not None and record.category != filters.category:
        return False
    if filters.tag is not None and filters.tag not in (record.tags or []):
        return False
    status = "published" if public else record.status
    if filters.status is None:
        return status != "archived"  # archived items are found only when asked for
    return status == filters.status


def _hit(record: Any, candidate: Candidate, terms: list[str], public: bool) -> Hit:
    return Hit(
        id=record.item_id if public else record.id,
        title=record.title,
        kind=record.kind,
        category=record.category,
        tags=list(record.tags or []),
        status="published" if public else record.status,
        visibility=record.visibility,
        score=round(candidate.score, 4),
        matched_terms=candidate.matched,
        snippet=snippet(record.body or record.title, set(terms)),
    )


def snippet(body: str, terms: set[str]) -> str:
    """A passage around the body's first match, HTML-escaped, each matching word in <mark>."""
    first = next((start for start, _end, term in _words(body) if term in terms), None)
    if first is None:
        window_start, window_end = 0, min(len(body), 2 * SNIPPET)
    else:
        window_start, window_end = max(0, first - SNIPPET // 2), min(len(body), first + SNIPPET * 3 // 2)
    window = body[window_start:window_end]
    from shared.knowledge import text

    out, at = [], 0
    for start, end, term in text.words(window):
        if term in terms:
            out += [html.escape(window[at:start]), "<mark>", html.escape(window[start:end]), "</mark>"]
            at = end
    out.append(html.escape(window[at:]))
    prefix = "…" if window_start > 0 else ""
    suffix = "…" if window_end < len(body) else ""
    return prefix + "".join(out).strip() + suffix


def _words(body: str):
    """The body's words lazily, a paragraph at a time: the first match is usually near the top."""
    from shared.knowledge import text

    offset = 0
    for paragraph in body.split("\n\n"):
        for start, end, term in text.words(paragraph):
            yield offset + start, offset + end, term
        offset += len(paragraph) + 2
