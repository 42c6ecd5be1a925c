"""Knowledge search reads the postings of the query's terms, not the knowledge base: DynamoDB items read per
query with 1,000 and 10,000 published public articles.

Runs against moto in-process (``mock_aws``). Articles (a title and a body of words drawn from a Zipf-like
vocabulary, as text is) are written straight into moto's table with their live copies, postings and the
scope's counts exactly as the stream consumer makes them (``shared.knowledge.index``), to keep 10,000 quick.
Then each query runs as a portal user's search (and a 10-word ticket subject as a suggestion), counting every
DynamoDB call and the items each returned: postings read, live copies checked. Prints figures; exits 0.

    .venv/bin/python -m bench.knowledge_search
    BENCH_SIZES=1000 .venv/bin/python -m bench.knowledge_search
"""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime

from botocore.client import BaseClient

from bench.sla_sweep import Reads, fresh_moto

SIZES = tuple(int(s) for s in os.environ.get("BENCH_SIZES", "1000,10000").split(","))
TENANT = "bench"
VOCABULARY = 5000
BODY_WORDS = 30
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
RARE = "zebrafish"  # in 3 articles at every size
QUERIES = (
    ("two rare words", f"{RARE} quarantine"),
    ("a common word", "w0003"),
    ("three mid words", "w0400 w0500 w0600"),
    ("suggest: 10-word subject", f"my {RARE} printer w0450 keeps failing after the w0700 update"),
)

os.environ.update(
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    AWS_REGION="eu-west-1",
    AWS_DEFAULT_REGION="eu-west-1",
    DESKOS_TABLE="deskos-kb-bench",
    DESKOS_BUCKET="deskos-kb-bench-uploads",
    DESKOS_CURSOR_SECRET="bench-only-cursor-secret",
    POWERTOOLS_METRICS_DISABLED="true",
    POWERTOOLS_LOG_LEVEL="ERROR",
)
os.environ.pop("AWS_ENDPOINT_URL", None)


class StorageTime:
    """Time spent in DynamoDB calls (moto's emulation, which scans its own table per Query), to subtract: what
    is left is the function's own work (analysis, ranking, snippets)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._original = BaseClient._make_api_call

    def __enter__(self) -> StorageTime:
        original, timer = self._original, self

        def timed(client: BaseClient, operation: str, params: dict) -> object:
            started = time.perf_counter()
            try:
                return original(client, operation, params)
            finally:
                timer.seconds += time.perf_counter() - started

        BaseClient._make_api_call = timed
        return self

    def __exit__(self, *_: object) -> None:
        BaseClient._make_api_call = self._original


def _words(rng: random.Random, count: int) -> list[str]:
    # Zipf-like: word k drawn with weight 1/k
    return [f"w{min(int(VOCABULARY ** rng.random()), VOCABULARY - 1):04d}" for _ in range(count)]


def seed(total: int) -> int:
    """``total`` published public articles with their postings; the postings written."""
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from infra.resources import table_definition
    from shared.knowledge.index import Document, Posting, ScopeStats, analyse
    from shared.knowledge.model import PublishedItem

    definition = table_definition(os.environ["DESKOS_TABLE"])
    definition.pop("StreamSpecification")  # nothing consumes it here
    boto3.client("dynamodb").create_table(**definition)
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_REGION"]].get_table(os.environ["DESKOS_TABLE"])
    rng = random.Random(15)
    postings = length = 0
    for n in range(total):
        item_id = f"{n:026d}"
        words = _words(rng, BODY_WORDS)
        if n in (7, total // 2, total - 1):
            words += [RARE, "quarantine"]
        title, body = " ".join(words[:6]), " ".join(words[6:])
        live = PublishedItem(
            *PublishedItem.key(TENANT, item_id), tenant_id=TENANT, item_id=item_id, number=1, title=title,
            kind="faq", body=body, visibility="public", published_at=NOW, created_at=NOW, tags=[],
        )  # fmt: skip
        live.index()
        table.put_item(live.serialize())
        doc = Document(TENANT, item_id, "public", 1, dict(analyse(title, [], None, body)))
        for term, tf in doc.tf.items():
            posting = Posting(
                Posting.partition(TENANT, "public", term), item_id, tenant_id=TENANT, item_id=item_id, v=1, tf=tf,
                dl=doc.length,
            )  # fmt: skip
            table.put_item(posting.serialize())
            postings += 1
        length += doc.length
    ScopeStats(*ScopeStats.key(TENANT, "public"), tenant_id=TENANT, docs=total, length=length).save()
    return postings


def measure(total: int) -> list[tuple[str, Reads, int, int, float]]:
    from shared.knowledge import search

    # the terms' Queries one after the other here, so that the time outside DynamoDB calls adds up
    search._postings = lambda tenant, scope, terms: {
        t: list(search.Posting.query(search.Posting.partition(tenant, scope, t))) for t in terms
    }
    rows = []
    with fresh_moto():
        started = time.perf_counter()
        postings = seed(total)
        print(f"  seeded {total:,} articles, {postings:,} postings in {time.perf_counter() - started:.0f} s")
        for label, query in QUERIES:
            limit = 5 if label.startswith("suggest") else 10
            search.run(TENANT, "public", query, search.Filters(), limit=limit)  # warm: imports, connection
            with Reads() as reads, StorageTime() as storage:
                started = time.perf_counter()
                result = search.run(TENANT, "public", query, search.Filters(), limit=limit)
                elapsed = (time.perf_counter() - started - storage.seconds) * 1000
            rows.append((label, reads, result.postings_read, len(result.hits), elapsed))
    return rows


def main() -> None:
    print("Knowledge search: DynamoDB items read per query (postings of its terms + live copies checked)")
    by_size = {}
    for total in SIZES:
        rows = measure(total)
        by_size[total] = rows
        head = f"{'articles':>9}  {'query':<26} {'items read':>10} {'postings':>8} {'calls':>5}  {'hits':>4}"
        print(head + f" {'own ms':>7}")
        for label, reads, postings, hits, elapsed in rows:
            calls = sum(reads.calls.values())
            print(f"{total:>9,}  {label:<26} {reads.items:>10} {postings:>8} {calls:>5}  {hits:>4} {elapsed:>7.1f}")
    print(f"Scan calls: {sum(r[1].calls['Scan'] for rows in by_size.values() for r in rows)}")
    print("(a query's reads follow its terms' postings: rare terms read the same at every size; a common term's")
    print(" postings grow with the articles that hold it; own ms: the function's time outside DynamoDB calls,")
    print(" run one after the other here (side by side in the function); moto's query time is not DynamoDB's)")


if __name__ == "__main__":
    main()
