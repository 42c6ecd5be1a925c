"""Refreshing a dynamic segment of a 50,000-contact tenant on the local cloud: runs and chunks, wall per run,
peak memory per run, DynamoDB reads and writes per contact, total wall; and a crash forced mid-refresh, with a
reader checking all along that it sees the old generation whole until the switch, then the new one whole.

The parent process starts the local cloud's moto server (in-process), provisions it from ``infra.resources``
and writes the tenant straight into the table with batch writes (setup, not measured): clients (a third
``premium``), contacts, a ``vip`` tag on every seventh contact, and a dynamic segment "premium clients'
contacts or tagged vip" whose readers still see an earlier generation ("premium clients' contacts" only).
Then each run of the ``SegmentRefresh`` schedule (``functions/schedules/segment_refresh.py``: 50 s a run, the
rest left to the next) is its own child process, as each Lambda invocation may be: its wall time, its peak
memory (``VmHWM``) and its DynamoDB calls are its own. The first run to start past ``CRASH_AT`` of the
contact pages dies when it writes its ``CRASH_AT_WRITE``-th batch of members (a write raising once, mid-page);
the next run resumes.
Meanwhile a reader thread in the parent reads the members over and over as the API does
(``segments.members_page``), and each complete read must be exactly the old or exactly the new membership.
At the end the membership must equal the criteria evaluated independently (from the seed's own data).
Prints figures; exits 1 if a correctness check fails.

    .venv/bin/python -m bench.segment_refresh                 # 50,000 contacts
    .venv/bin/python -m bench.segment_refresh --contacts 5000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

from bench.local_cloud import environment, started

TENANT = "bench-segments"
CLIENTS = 300
VIP_EVERY = 7
CRASH_AT = 0.4  # the run that starts past this share of the contact pages crashes ...
CRASH_AT_WRITE = 3  # ... at its third batch write of members (mid-page)
LAMBDA_LIMIT_S = 900
PAUSE_S = 5.0  # between the reader's complete reads

environment("segment", POWERTOOLS_TRACE_DISABLED="true")

NEW_CRITERIA = {
    "match": "any",
    "conditions": [
        {"field": "client.customer_type", "operator": "equals", "value": "premium"},
        {"field": "contact.tags", "operator": "has_tag", "value": "<vip>"},
    ],
}


class Crash(Exception):
    """The forced crash: the function dies here."""


# ---- one run of the schedule, in a child process -------------------------------------------------


class Calls:
    """DynamoDB requests and items read and written by this process, counted at botocore; and the crash."""

    def __init__(self, crash_at_write: int | None) -> None:
        self.requests: Counter[str] = Counter()
        self.read = 0
        self.written = 0
        self.member_writes = 0
        self.tag_reads = 0  # the applications of the tags the criteria test for, read once a run
        self.pages = 0
        self.crash_at_write = crash_at_write

    def install(self) -> None:
        from botocore.client import BaseClient

        original, calls = BaseClient._make_api_call, self

        def counted(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            if client.meta.service_model.service_name != "dynamodb":
                return original(client, operation, params)
            calls.before(operation, params)
            response = original(client, operation, params)
            calls.requests[operation] += 1
            if operation in ("Query", "Scan"):
                calls.read += response.get("Count", 0)
                if "#ENTITIES" in json.dumps(params.get("ExpressionAttributeValues", {})):
                    calls.tag_reads += response.get("Count", 0)
            elif operation == "GetItem":
                calls.read += "Item" in response
            elif operation == "BatchGetItem":
                calls.read += sum(len(items) for items in response.get("Responses", {}).values())
            return response

        BaseClient._make_api_call = counted

    def before(self, operation: str, params: dict[str, Any]) -> None:
        if operation == "Query" and "#CONTACTS" in json.dumps(params.get("ExpressionAttributeValues", {})):
            self.pages += 1
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            self.written += 1
        elif operation == "TransactWriteItems":
            self.written += sum(1 for entry in params["TransactItems"] if "ConditionCheck" not in entry)
        elif operation == "BatchWriteItem":
            requests = [r for items in params["RequestItems"].values() for r in items]
            if any("#G#" in json.dumps(r) and "PutRequest" in r for r in requests):
                self.member_writes += 1
                if self.member_writes == self.crash_at_write:
                    self.crash_at_write = None
                    raise Crash(f"forced crash at batch write {self.member_writes} of members")
            self.written += len(requests)


def peak_memory_mb() -> float:
    """This process's peak resident memory since it started its program (``VmHWM``; ``ru_maxrss`` would count
    the parent's pages at the fork)."""
    with open("/proc/self/status") as status:
        peak = next(line for line in status if line.startswith("VmHWM:"))
    return int(peak.split()[1]) / 1024


def one_run(crash_at_write: int | None) -> None:
    """Run the schedule's handler once; print a JSON line of what it did (also when it crashes)."""
    begun = time.perf_counter()
    calls = Calls(crash_at_write)
    calls.install()
    from functions.schedules import segment_refresh
    from infra.local.lambda_context import LambdaContext

    imported = time.perf_counter()
    outcome: dict[str, Any] = {}
    try:
        outcome["summary"] = segment_refresh.handler({}, LambdaContext(function_name="SegmentRefresh"))
    except Exception as error:  # the forced crash (storage_errors may wrap it): the invocation fails
        outcome["crashed"] = f"{type(error).__name__}: {error}"
    outcome.update(
        wall=time.perf_counter() - begun,
        import_s=imported - begun,
        peak_mb=peak_memory_mb(),
        requests=dict(calls.requests),
        read=calls.read,
        tag_reads=calls.tag_reads,
        written=calls.written,
        pages=calls.pages,
    )
    print(json.dumps(outcome), flush=True)


# ---- the parent: cloud, seed, runs, reader --------------------------------------------------------


def seed(count: int) -> tuple[str, set[str], set[str]]:
    """The tenant; the segment; the contact ids of the old criteria (premium) and of the new (premium or vip),
    computed from the seed's own choices, not by the criteria code."""
    from shared.caller import TenantContext
    from shared.clock import now
    from shared.crm.clients import Client
    from shared.crm.contacts import Contact
    from shared.marketing import segments, tags
    from shared.marketing.entity_tags import EntityTag
    from shared.marketing.segments import Member, SegmentState
    from shared.tenants import create_tenant

    ctx = TenantContext(tenant_id=TENANT, user_id="bench", username="bench", roles=frozenset())
    create_tenant(TENANT, "Bench Segments Ltd")
    vip = tags.create(ctx, tags.NewTag(name="vip"))
    premium_clients: set[str] = set()
    clients = []
    with Client.batch_write() as batch:
        for n in range(CLIENTS):
            client = Client.new(ctx, name=f"Client {n:03d}", customer_type="premium" if n % 3 == 0 else "standard")
            client.index()
            batch.save(client)
            clients.append(client.id)
            if n % 3 == 0:
                premium_clients.add(client.id)
    criteria = json.loads(json.dumps(NEW_CRITERIA).replace("<vip>", vip.id))
    segment, state = segments.create(ctx, segments.NewSegment(name="Premium or VIP", criteria=criteria))
    old, new, at = set(), set(), now()
    with Contact.batch_write() as contacts, EntityTag.batch_write() as applied, Member.batch_write() as members:
        for n in range(count):
            client_id = clients[n % CLIENTS]
            contact = Contact.new(ctx, client_id=client_id, name=f"Contact {n:05d}", email=f"c{n:05d}@bench.example")
            contact.index()
            contacts.save(contact)
            tagged = n % VIP_EVERY == 0
            if tagged:
                applied.save(EntityTag.of(ctx, vip.id, "contact", contact.id, at))
            if client_id in premium_clients:
                old.add(contact.id)
                members.save(Member.of(TENANT, segment.id, 1, contact))  # generation 1: what readers see now
            if tagged or client_id in premium_clients:
                new.add(contact.id)
    state.update([SegmentState.generation.set(1), SegmentState.member_count.set(len(old))])
    return segment.id, old, new


class Reader(threading.Thread):
    """Reads the whole membership as the API does, again and again until stopped; records what each complete
    read saw: ``old``, ``new`` or ``torn`` (anything else). A read that a generation switch cuts short (its
    cursor names the generation it began in, so the next page is refused) starts again."""

    def __init__(self, segment_id: str, old: set[str], new: set[str]) -> None:
        super().__init__(name="reader", daemon=True)
        self.segment_id, self.old, self.new = segment_id, old, new
        self.seen: Counter[str] = Counter()
        self.restarted = 0
        self.stop = threading.Event()

    def read_once(self, stoppable: bool = True) -> set[str] | None:
        from shared.caller import TenantContext
        from shared.errors import DomainError
        from shared.marketing import segments

        ctx = TenantContext(tenant_id=TENANT, user_id="reader", username="reader", roles=frozenset())
        members: set[str] = set()
        cursor = None
        while True:
            try:
                page = segments.members_page(ctx, self.segment_id, limit=100, cursor=cursor)
            except DomainError:
                self.restarted += 1
                return None
            members.update(m.contact_id for m in page.items)
            cursor = page.next_cursor
            if cursor is None:
                return members
            if stoppable and self.stop.is_set():
                return None

    def run(self) -> None:
        while not self.stop.is_set():
            members = self.read_once()
            if members is not None:
                self.seen["old" if members == self.old else "new" if members == self.new else "torn"] += 1
            self.stop.wait(PAUSE_S)  # moto serves one request at a time: leave the refresh room

    def check_now(self) -> str:
        members = self.read_once(stoppable=False)
        return "old" if members == self.old else "new" if members == self.new else "torn"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--run", action="store_true", help=argparse.SUPPRESS)  # a child: one run
    parser.add_argument("--crash-at-write", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        one_run(args.crash_at_write)
        return 0

    from shared.marketing.audience import CHUNK
    from shared.marketing.segments import state_of

    failures: list[str] = []
    with started():
        begun = time.perf_counter()
        segment_id, old, new = seed(args.contacts)
        print(
            f"seeded {args.contacts:,} contacts in {time.perf_counter() - begun:.0f} s (not the figure); "
            f"old generation {len(old):,} members, new criteria select {len(new):,}",
            flush=True,
        )

        reader = Reader(segment_id, old, new)
        before = reader.check_now()
        if before != "old":
            failures.append(f"before the refresh a reader saw {before}, not the old generation")
        reader.start()
        runs: list[dict[str, Any]] = []
        pages = -(-args.contacts // CHUNK)
        begun = time.perf_counter()
        while True:
            number = len(runs) + 1
            command = [sys.executable, "-m", "bench.segment_refresh", "--run"]
            if not any("crashed" in o for o in runs) and sum(o["pages"] for o in runs) >= int(pages * CRASH_AT):
                command += ["--crash-at-write", str(CRASH_AT_WRITE)]
            done = subprocess.run(command, capture_output=True, text=True, env=os.environ, check=False)
            lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
            if not lines:
                failures.append(f"run {number} printed nothing: {done.stderr[-2000:]}")
                break
            outcome = json.loads(lines[-1])
            runs.append(outcome)
            state = state_of(TENANT, segment_id)
            what = outcome.get("crashed") or outcome.get("summary")
            print(f"  run {number}: {outcome['wall']:.1f} s, {outcome['pages']} pages, {what}", flush=True)
            if state is None or (int(state.generation) == 2 and state.cleanup_generation is None):
                break
            if number > 4 * (args.contacts // CHUNK + 2):
                failures.append("the refresh did not finish")
                break
        wall = time.perf_counter() - begun
        reader.stop.set()
        reader.join()
        after = reader.check_now()
        state = state_of(TENANT, segment_id)
        idle = subprocess.run(  # nothing is due now: the interpreter, its imports and one Query
            [sys.executable, "-m", "bench.segment_refresh", "--run"], capture_output=True, text=True, check=False
        )
        baseline = json.loads([line for line in idle.stdout.splitlines() if line.startswith("{")][-1])

    total = Counter()
    for outcome in runs:
        total.update(outcome["requests"])
    reads, writes = sum(o["read"] for o in runs), sum(o["written"] for o in runs)
    tag_reads = sum(o["tag_reads"] for o in runs)
    read, crashed = sum(o["pages"] for o in runs), [o for o in runs if "crashed" in o]
    n = args.contacts
    print(f"\nSegment refresh of a {n:,}-contact tenant on the local cloud (moto server; each run a fresh process)")
    print(
        f"runs: {len(runs)} (one forced crash: {'yes' if crashed else 'NO'}); contact pages read: {read} "
        f"({CHUNK} contacts each; read again after the crash: {read - pages})"
    )
    walls = [o["wall"] for o in runs]
    print(
        f"wall per run: max {max(walls):.1f} s, median {sorted(walls)[len(walls) // 2]:.1f} s "
        f"(Lambda's limit {LAMBDA_LIMIT_S} s; each run stops taking pages after 50 s)"
    )
    print(
        f"peak memory per run (VmHWM): max {max(o['peak_mb'] for o in runs):.0f} MB "
        f"(a run with nothing to do: {baseline['peak_mb']:.0f} MB)"
    )
    print(f"DynamoDB requests: {dict(total)}")
    print(
        f"DynamoDB items read {reads:,} ({reads / n:.2f} per contact; of them the tag's applications, once a run: "
        f"{tag_reads:,}), items written {writes:,} "
        f"({writes / n:.2f} per contact; new members {len(new):,}, old ones deleted {len(old):,})"
    )
    print(f"requests per contact: {sum(total.values()) / n:.3f}")
    print(f"total wall (all runs, crash included): {wall:.1f} s")
    print(
        f"reader during the refresh: complete reads {dict(reader.seen)}, reads restarted by the switch "
        f"{reader.restarted}; after: {after}"
    )
    if reader.seen["torn"]:
        failures.append(f"a reader saw a half-replaced membership {reader.seen['torn']} times")
    if after != "new":
        failures.append(f"after the refresh a reader saw {after}, not exactly the members the criteria select")
    if state is None or int(state.member_count) != len(new):
        failures.append(f"member_count {state and state.member_count} != {len(new)}")
    if not crashed:
        failures.append("the forced crash did not happen")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
