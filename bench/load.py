"""Load: concurrent users against a fresh local cloud on loopback, then every ticket number checked.

    .venv/bin/python -m bench.load [--users 20] [--seconds 60]

Starts `deskos up --fresh` on free ports in a temporary state dir (infra/local/running.py), adds a second
tenant, two client accounts per tenant and the users: half in the demo tenant, half in the second, each
half alternating staff agents and portal users (of one of their tenant's two clients). Every user logs in
to the local Cognito (a real id token) and, in its own thread with its own HTTP connection, loops without
pause until the time is up, picking at random: create a ticket (with an Idempotency-Key; staff sometimes
name a client), list tickets (a page of 10, then the next page through its cursor), comment on a ticket it
has seen (staff: public replies and internal notes) or read one.

Prints, per operation, requests, errors, p50/p95/max latency, the throughput, and every non-2xx answer
with its body. Then lists every ticket of each tenant through the API and checks the numbers: no
duplicates, no gaps (1…n), every create answered with a distinct number, and every answered create listed.
Exits 1 if any request failed or any of those checks did not hold (a correctness finding, not a timing
one); the latencies are printed, never judged.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from infra.local.running import LocalCloud, local_cloud, log_in

DEMO_TENANT = "demo"
DEMO_MANAGER = "manager@demo.deskos.local"
SECOND_TENANT = "globex"
PASSWORD = "Load-pass-1!"
REQUEST_TIMEOUT = 30.0
PAGE = 10
KNOWN_TICKETS = 50  # the most recent ticket ids a user remembers, to comment on and read
# operation -> weight of the pick (the next-page read follows a list whose answer has a cursor)
WEIGHTS = {"create_ticket": 3, "list_tickets": 2, "add_comment": 3, "get_ticket": 2}
OPERATIONS = ("create_ticket", "list_tickets", "list_tickets_next_page", "add_comment", "get_ticket")
PRIORITIES = ("low", "normal", "high", "urgent")


# ---- the cast ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadUser:
    username: str
    tenant_id: str
    role: str  # staff | portal
    token: str
    clients: tuple[str, ...]  # the client accounts it may name (a portal user: its own)


def cast(cloud: LocalCloud, users: int) -> tuple[list[LoadUser], dict[str, str]]:
    """The users, logged in, and a manager's token per tenant (to list everything at the end).

    Made in this process with the operator commands' own helpers (infra/local/seed.py) pointed at the
    cloud, and the client accounts through the API, as a firm would open them."""
    from infra.local.details import point_environment_at
    from infra.local.seed import create_tenant_with_manager, create_user
    from shared.caller import Role

    details = cloud.details
    point_environment_at(
        details["aws_endpoint_url"],
        details["region"],
        details["table_name"],
        details["bucket_name"],
        details["user_pool_id"],
    )
    second_manager = f"manager@{SECOND_TENANT}.example"
    create_tenant_with_manager(
        tenant_id=SECOND_TENANT,
        name="Globex Corp",
        manager_email=second_manager,
        manager_password=PASSWORD,
    )
    managers = {
        DEMO_TENANT: log_in(details, DEMO_MANAGER),
        SECOND_TENANT: log_in(details, second_manager, PASSWORD),
    }
    clients = {
        tenant: tuple(_open_client(cloud.api_url, token, n) for n in (1, 2)) for tenant, token in managers.items()
    }
    tenants = (DEMO_TENANT, SECOND_TENANT)
    cast: list[LoadUser] = []
    for n in range(users):
        tenant = tenants[n % 2]
        role = Role.STAFF if (n // 2) % 2 == 0 else Role.PORTAL
        client = clients[tenant][(n // 4) % 2]
        email = f"load{n:02d}-{role}@{tenant}.example"
        create_user(
            tenant_id=tenant,
            role=role,
            email=email,
            password=PASSWORD,
            client_id=client if role is Role.PORTAL else None,
        )
        own = (client,) if role is Role.PORTAL else clients[tenant]
        cast.append(LoadUser(email, tenant, str(role), log_in(details, email, PASSWORD), own))
    return cast, managers


def _open_client(api_url: str, token: str, n: int) -> str:
    reply = requests.post(
        f"{api_url}/crm/clients",
        json={"name": f"Load client {n}"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=REQUEST_TIMEOUT,
    )
    reply.raise_for_status()
    return reply.json()["id"]


# ---- what happened -----------------------------------------------------------------------------


@dataclass
class Record:
    """Every request's latency by operation, every failure, and every ticket a create answered."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    created: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))  # tenant -> (id, no.)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, operation: str, seconds: float, failure: str | None = None) -> None:
        with self.lock:
            self.latencies[operation].append(seconds)
            if failure is not None:
                self.failures[operation] += 1
                self.errors.append(f"{operation}: {failure}")

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())


class Client:
    """One user's connection; ``call`` times a request and records it (a non-2xx or no answer: a failure)."""

    def __init__(self, api_url: str, user: LoadUser, record: Record) -> None:
        self.api_url, self.user, self.record = api_url, user, record
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {user.token}"

    def call(self, operation: str, method: str, path: str, **kwargs: Any) -> dict[str, Any] | None:
        started = time.perf_counter()
        try:
            reply = self.session.request(method, f"{self.api_url}{path}", timeout=REQUEST_TIMEOUT, **kwargs)
        except requests.RequestException as error:
            self.record.add(
                operation, time.perf_counter() - started, f"{method} {path} as {self.user.username}: {error!r}"
            )
            return None
        elapsed = time.perf_counter() - started
        if not 200 <= reply.status_code < 300:
            failure = f"{method} {path} as {self.user.username}: {reply.status_code} {reply.text[:500]}"
            self.record.add(operation, elapsed, failure)
            return None
        self.record.add(operation, elapsed)
        return reply.json()


def work(api_url: str, user: LoadUser, deadline: float, record: Record, rng: random.Random) -> None:
    """One user until the deadline: no think time, each pick answered before the next."""
    client = Client(api_url, user, record)
    known: list[str] = []
    staff = user.role == "staff"

    def remember(ticket_ids: list[str]) -> None:
        known.extend(i for i in ticket_ids if i not in known)
        del known[:-KNOWN_TICKETS]

    def create_ticket() -> None:
        body: dict[str, Any] = {"subject": f"Load {uuid.uuid4().hex[:8]}", "priority": rng.choice(PRIORITIES)}
        if staff and rng.random() < 0.5:
            body["client_id"] = rng.choice(user.clients)
        made = client.call(
            "create_ticket", "POST", "/support/tickets", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        if made is not None:
            with record.lock:
                record.created[user.tenant_id].append((made["id"], made["number"]))
            remember([made["id"]])

    def list_tickets() -> None:
        page = client.call("list_tickets", "GET", "/support/tickets", params={"limit": PAGE})
        if page is None:
            return
        remember([t["id"] for t in page["items"]])
        if page["next_cursor"]:
            params = {"limit": PAGE, "cursor": page["next_cursor"]}
            client.call("list_tickets_next_page", "GET", "/support/tickets", params=params)

    def add_comment() -> None:
        public = not staff or rng.random() < 0.7
        body = {"body": f"Load comment {uuid.uuid4().hex[:8]}", "public": public}
        path = f"/support/tickets/{rng.choice(known)}/comments"
        client.call("add_comment", "POST", path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})

    def get_ticket() -> None:
        client.call("get_ticket", "GET", f"/support/tickets/{rng.choice(known)}")

    picks: dict[str, Callable[[], None]] = {
        "create_ticket": create_ticket,
        "list_tickets": list_tickets,
        "add_comment": add_comment,
        "get_ticket": get_ticket,
    }
    names, weights = list(WEIGHTS), list(WEIGHTS.values())
    try:
        while time.monotonic() < deadline:
            pick = rng.choices(names, weights)[0] if known else "create_ticket"
            picks[pick]()
    finally:
        client.session.close()


def run(api_url: str, users: list[LoadUser], seconds: float) -> tuple[Record, float]:
    record = Record()
    started = time.monotonic()
    deadline = started + seconds
    threads = [
        threading.Thread(target=work, args=(api_url, u, deadline, record, random.Random(n)), name=f"user-{n}")
        for n, u in enumerate(users)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return record, time.monotonic() - started


# ---- the numbers, checked ----------------------------------------------------------------------


@dataclass
class NumberCheck:
    tenant_id: str
    listed: int
    created: int
    first: str
    last: str
    duplicates: list[str]
    gaps: list[int]
    duplicate_creates: list[str]
    unlisted_creates: list[str]

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.gaps or self.duplicate_creates or self.unlisted_creates)


def all_tickets(api_url: str, token: str) -> list[dict[str, Any]]:
    """Every ticket of the caller's tenant, page by page through the API."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        while True:
            reply = session.get(f"{api_url}/support/tickets", params=params, timeout=REQUEST_TIMEOUT)
            reply.raise_for_status()
            page = reply.json()
            found += page["items"]
            if not page["next_cursor"]:
                return found
            params["cursor"] = page["next_cursor"]


def check_numbers(tenant_id: str, listed: list[dict[str, Any]], created: list[tuple[str, str]]) -> NumberCheck:
    numbers = [t["number"] for t in listed]
    sequence = sorted(int(re.search(r"(\d+)$", n).group(1)) for n in set(numbers))
    by_id = {t["id"]: t["number"] for t in listed}
    return NumberCheck(
        tenant_id=tenant_id,
        listed=len(listed),
        created=len(created),
        first=min(numbers, default="-", key=_sequence_of),
        last=max(numbers, default="-", key=_sequence_of),
        duplicates=sorted(n for n, count in Counter(numbers).items() if count > 1),
        gaps=sorted(set(range(1, (sequence[-1] if sequence else 0) + 1)) - set(sequence)),
        duplicate_creates=sorted(n for n, count in Counter(n for _, n in created).items() if count > 1),
        unlisted_creates=sorted(number for ticket_id, number in created if by_id.get(ticket_id) != number),
    )


def _sequence_of(number: str) -> int:
    return int(re.search(r"(\d+)$", number).group(1))


# ---- the report --------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * p // 100) - 1)] if ordered else 0.0


def report(record: Record, elapsed: float, checks: list[NumberCheck]) -> str:
    lines = [f"{'operation':<24}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"]
    for operation in OPERATIONS:
        times = record.latencies.get(operation, [])
        lines.append(
            f"{operation:<24}{len(times):>9}{record.failures[operation]:>8}"
            f"{percentile(times, 50) * 1000:>9.0f}{percentile(times, 95) * 1000:>9.0f}"
            f"{max(times, default=0) * 1000:>9.0f}"
        )
    every = [t for times in record.latencies.values() for t in times]
    lines.append(
        f"{'all':<24}{record.requests:>9}{sum(record.failures.values()):>8}"
        f"{percentile(every, 50) * 1000:>9.0f}{percentile(every, 95) * 1000:>9.0f}{max(every, default=0) * 1000:>9.0f}"
    )
    lines.append(f"\nthroughput: {record.requests / elapsed:.1f} requests/s ({record.requests} in {elapsed:.1f} s)")
    lines.append(f"errors: {len(record.errors)}")
    lines += [f"  {error}" for error in record.errors]
    lines.append("\nticket numbers (every ticket of the tenant listed through the API):")
    for c in checks:
        lines.append(
            f"  {c.tenant_id:<8} listed {c.listed}, created {c.created}, {c.first} … {c.last}: "
            f"duplicates {len(c.duplicates)}, gaps {len(c.gaps)}, creates with a shared number "
            f"{len(c.duplicate_creates)}, creates not listed with their number {len(c.unlisted_creates)}"
        )
        for label, found in (
            ("duplicates", c.duplicates),
            ("gaps", c.gaps),
            ("shared", c.duplicate_creates),
            ("unlisted", c.unlisted_creates),
        ):
            if found:
                lines.append(f"    {label}: {found[:20]}")
    return "\n".join(lines)


def cloud_troubles(log: str, context: int = 25, limit: int = 300) -> str:
    """The cloud log's error lines and tracebacks (what a failed request may have left there)."""
    lines = log.splitlines()
    signs = ("Traceback", "Exception occurred", " ERROR ")
    marks = [i for i, line in enumerate(lines) if any(sign in line for sign in signs)]
    keep = sorted({j for i in marks for j in range(i, min(i + context, len(lines)))})
    return "\n".join(lines[j] for j in keep[:limit])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20, help="concurrent users (default 20)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long they work (default 60)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="deskos-load-") as state, local_cloud(Path(state)) as cloud:
        users, managers = cast(cloud, args.users)
        roles = Counter((u.tenant_id, u.role) for u in users)
        print(
            f"DeskOS load: {len(users)} users for {args.seconds:g} s against a fresh `deskos up` at {cloud.api_url}\n"
            + "  "
            + ", ".join(f"{t}: {roles[t, 'staff']} staff + {roles[t, 'portal']} portal" for t in managers)
            + " (2 client accounts per tenant)\n",
            flush=True,
        )
        record, elapsed = run(cloud.api_url, users, args.seconds)
        checks = [
            check_numbers(tenant, all_tickets(cloud.api_url, token), record.created[tenant])
            for tenant, token in managers.items()
        ]
        troubles = cloud_troubles(cloud.log_path.read_text(errors="replace")) if record.errors else ""
    print(report(record, elapsed, checks))
    if troubles:
        print(f"\nthe cloud's log, where it reports trouble:\n{troubles}")
    verdict = not record.errors and all(c.ok for c in checks)
    print(f"\nverdict: {'OK' if verdict else 'FAILED'}")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
