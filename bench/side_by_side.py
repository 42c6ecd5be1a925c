"""Side by side: a fresh DeskOS function against a fresh Django helpdesk, from process start to the response.

The peer is django-helpdesk (``bench/peer/requirements.txt``, pinned) in its own virtualenv under
``.deskos/bench-peer/``, installed on the first run of this bench only, with a minimal SQLite project
(``bench/peer/helpdesk_site``). Both sides hold the same data: one agent, one queue (DeskOS: a client account),
20 tickets. Each measured request runs in a fresh interpreter (same Python, both sides' bytecode compiled first),
the two sides alternating, after a warm-up of each:

- DeskOS: ``import functions.api.tickets`` and one ``handler`` call with an API Gateway REST proxy event carrying
  Cognito claims, against a local AWS (moto server, the table provisioned, the tenant's credentials from STS);
- django-helpdesk: Django set up and one request through its WSGI handler (``bench/peer/request.py``), with the
  agent's session cookie (DRF session authentication), ``/helpdesk/api/tickets/``.

Wall time is measured from just before the process is started to the moment the response is in hand; CPU time
is the process's own from its start to the same moment. Prints min / median / max of both and the DeskOS/peer
ratios for the ticket list and a ticket create, and the median of a second (warm) call in the same process
(DeskOS: its function time without the DynamoDB calls). Creates go to their own tenant / database so every list
sees the same 20 tickets. Target (issue 13): DeskOS median <= 0.6x the peer's, wall and CPU. Prints; exits 0.

    .venv/bin/python -m bench.side_by_side [--runs N]      # default 12 fresh processes per side and request
    .venv/bin/python -m bench.side_by_side --against main  # and the function code as of a git ref, alternating too
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PEER_SRC = ROOT / "bench" / "peer"
PEER_HOME = ROOT / ".deskos" / "bench-peer"
PEER_PYTHON = PEER_HOME / "venv" / "bin" / "python"
FIXTURE = ROOT / "tests" / "events" / "api_gateway_rest.json"
TICKETS = 20
TARGET = 0.6
ACTIONS = ("list", "create")
PACKAGES = ("functions", "shared")  # the function code; the rest of the checkout is not deployed
LIST_TENANT, CREATE_TENANT = "bench-list", "bench-create"

# The DeskOS side's process: the function module, one handler call; then a warm call whose DynamoDB time is
# subtracted (botocore is loaded by then, so wrapping its client costs the first call nothing).
PEER_CHILD = "import request\nrequest.main()"  # bench/peer/request.py, run from its folder
CONTEXT = """\
class Context:  # what Lambda's runtime hands the handler (Powertools' Logger reads it)
    function_name, memory_limit_in_mb, aws_request_id = "bench", 512, "bench"
    invoked_function_arn = "arn:aws:lambda:local:123456789012:function:bench"
context = Context()"""
DESKOS_CHILD = """\
import json, sys, time
from functions.api.tickets import handler
{context}
event = json.loads(sys.argv[1])
status = handler(event, context)["statusCode"]
print(time.clock_gettime(time.CLOCK_MONOTONIC), time.process_time() * 1000, status)
from botocore.client import BaseClient
spent = [0.0]
call = BaseClient._make_api_call
def timed(client, operation, params):
    start = time.perf_counter()
    try:
        return call(client, operation, params)
    finally:
        if client.meta.service_model.service_name == "dynamodb":
            spent[0] += time.perf_counter() - start
BaseClient._make_api_call = timed
start = time.perf_counter()
status = handler(event, context)["statusCode"]
print((time.perf_counter() - start - spent[0]) * 1000, status)
""".replace("{context}", CONTEXT)


@dataclass
class Side:
    name: str
    wall: dict[str, list[float]] = field(default_factory=lambda: {a: [] for a in ACTIONS})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {a: [] for a in ACTIONS})
    warm: dict[str, list[float]] = field(default_factory=lambda: {a: [] for a in ACTIONS})


def launch(python: str | Path, code: str) -> list[str]:
    """``python`` running ``code`` as a deployed function or server runs: its packages on the path, but no ``.pth``
    hooks (the DeskOS checkout is an editable install, whose import finder a Lambda package does not have)."""
    packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return [str(python), "-S", "-c", f"import sys; sys.path.append({packages!r})\n{code}"]


def fresh_process(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """Wall ms from start to response, CPU ms to response, warm second-call ms, of one fresh process."""
    started = time.clock_gettime(time.CLOCK_MONOTONIC)
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    lines = done.stdout.split("\n")
    try:
        answered, cpu, status = lines[0].split()
        warm, warm_status = lines[1].split()
    except (IndexError, ValueError):
        raise SystemExit(f"{args[:2]} failed:\n{done.stdout}\n{done.stderr}") from None
    if not (status.startswith("2") and warm_status.startswith("2")):
        raise SystemExit(f"{args[:2]} answered {status}, then {warm_status}:\n{done.stderr}")
    return (float(answered) - started) * 1000, float(cpu), float(warm)


# ---- the peer ----------------------------------------------------------------------------------


def ensure_peer() -> dict[str, Any]:
    """The peer's virtualenv and databases (made once; remade when its requirements change)."""
    requirements = PEER_SRC / "requirements.txt"
    stamp = PEER_HOME / "installed"
    want = hashlib.sha256(requirements.read_bytes() + sys.version.encode()).hexdigest()
    if not stamp.exists() or stamp.read_text() != want:
        shutil.rmtree(PEER_HOME, ignore_errors=True)
        print("Installing the peer (django-helpdesk) into .deskos/bench-peer/venv …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_HOME / "venv")], check=True)
        pip = [str(PEER_PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(requirements)], check=True)
        env = {**os.environ, "DESKOS_PEER_DB": str(PEER_HOME / "list.sqlite3")}
        seeded = subprocess.run(
            [str(PEER_PYTHON), "seed.py"], cwd=PEER_SRC, env=env, check=True, capture_output=True, text=True
        )
        (PEER_HOME / "peer.json").write_text(seeded.stdout.strip().splitlines()[-1])
        stamp.write_text(want)
    # creates get their own copy of the data, so every list run sees the same 20 tickets
    shutil.copyfile(PEER_HOME / "list.sqlite3", PEER_HOME / "create.sqlite3")
    return {**json.loads((PEER_HOME / "peer.json").read_text()), "launch": launch(PEER_PYTHON, PEER_CHILD)}


def peer_run(action: str, peer: dict[str, Any]) -> tuple[float, float, float]:
    env = {**os.environ, "DESKOS_PEER_DB": str(PEER_HOME / f"{action}.sqlite3")}
    args = [*peer["launch"], action, peer["session"], str(peer["queue"])]
    return fresh_process(args, PEER_SRC, env)


# ---- DeskOS ------------------------------------------------------------------------------------


def seed_deskos() -> dict[str, dict[str, Any]]:
    """The table and two tenants holding the same data as the peer: one agent, one client, 20 tickets; the
    events of the two requests (a list in one tenant, creates in the other)."""
    import boto3

    from bench.round_trips import TABLE, seed_tenant
    from infra.resources import table_definition
    from shared.crm import clients
    from shared.support import tickets

    boto3.client("dynamodb").create_table(**table_definition(TABLE))
    fixture = json.loads(FIXTURE.read_text())
    events = {}
    for action, tenant in (("list", LIST_TENANT), ("create", CREATE_TENANT)):
        claims = {**fixture["requestContext"]["authorizer"]["claims"], "custom:tenant_id": tenant}
        ctx = seed_tenant(claims)
        client = clients.create(ctx, clients.NewClient(name="Support"))
        for n in range(TICKETS):
            tickets.create(ctx, tickets.NewTicket(subject=f"Printer on fire #{n + 1}", client_id=client.id))
        body = {"subject": "VPN down", "description": "It drops every hour.", "client_id": client.id}
        events[action] = request_event(fixture, claims, action, body)
    return events


def request_event(fixture: dict[str, Any], claims: dict[str, Any], action: str, body: dict[str, Any]) -> dict:
    event = json.loads(json.dumps(fixture))
    method = "GET" if action == "list" else "POST"
    event.update(
        httpMethod=method,
        path="/support/tickets",
        resource="/support/tickets",
        pathParameters=None,
        body=json.dumps(body) if method == "POST" else None,
    )
    context = event["requestContext"]
    context.update(httpMethod=method, resourcePath="/support/tickets", path="/prod/support/tickets")
    context["authorizer"]["claims"] = claims
    return event


PROFILE_CHILD = """\
import cProfile, json, pstats, sys, time
{context}
event, top = json.loads(sys.argv[1]), int(sys.argv[2])
profilers = []
for phase in ("import", "first call"):
    profilers.append(cProfile.Profile())
    start = time.process_time()
    profilers[-1].enable()
    if phase == "import":
        from functions.api.tickets import handler
    else:
        handler(event, context)
    profilers[-1].disable()
    print(f"==== {phase}: {(time.process_time() - start) * 1000:.0f} ms CPU (under cProfile), by cumulative time")
    pstats.Stats(profilers[-1]).sort_stats("cumulative").print_stats(top)
print("==== import and first call, by own time")
pstats.Stats(*profilers).sort_stats("tottime").print_stats(top)
""".replace("{context}", CONTEXT)


def profile(action: str, events: dict[str, dict[str, Any]], top: int) -> None:
    """Where a fresh DeskOS process spends its time: the import (``-X importtime``, by cumulative time) and the
    import and first call under cProfile."""
    args = [sys.executable, "-X", "importtime", "-c", "import functions.api.tickets"]
    lines = subprocess.run(args, cwd=ROOT, env=dict(os.environ), capture_output=True, text=True).stderr.splitlines()
    rows = [line.split("|") for line in lines if line.startswith("import time:") and "cumulative" not in line]
    print(f"==== -X importtime: top {top} imports by cumulative microseconds")
    for row in sorted(rows, key=lambda r: -int(r[1]))[:top]:
        print(f"{int(row[1]):>9} {int(row[0].split()[-1]):>9}  {row[2].rstrip()}")
    args = [sys.executable, "-c", PROFILE_CHILD, json.dumps(events[action]), str(top)]
    print(subprocess.run(args, cwd=ROOT, env=dict(os.environ), capture_output=True, text=True).stdout)


def deskos_run(
    action: str, events: dict[str, dict[str, Any]], command: list[str], tree: Path = ROOT
) -> tuple[float, float, float]:
    return fresh_process([*command, json.dumps(events[action])], tree, dict(os.environ))


def earlier_tree(ref: str) -> Path:
    """The function code (``functions``, ``shared``) as of git ``ref``, compiled, for a before/after comparison: a
    fresh process started there imports it instead of the checkout's (same interpreter, libraries and cloud)."""
    tree = ROOT / ".deskos" / "bench-against" / ref.replace("/", "_")
    shutil.rmtree(tree, ignore_errors=True)
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref, *PACKAGES], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(tree, filter="data")
    for package in PACKAGES:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / package)], check=True)
    return tree


# ---- report ------------------------------------------------------------------------------------


def compile_both() -> None:
    """Same bytecode conditions: every source either side imports is compiled before the first measurement
    (site-packages were compiled by pip; the projects' own sources here)."""
    for python, target in (
        *((sys.executable, ROOT / package) for package in PACKAGES),
        (str(PEER_PYTHON), PEER_SRC / "helpdesk_site"),
    ):
        subprocess.run([python, "-m", "compileall", "-q", str(target)], check=True)


def print_table(sides: list[Side], peer: Side, runs: int) -> None:
    python = sys.version.split()[0]
    print(f"Fresh process to response, {runs} processes per side and request, alternating (python {python})")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    width = max(len(side.name) for side in (peer, *sides)) + 1
    head = f"{'request':<8} {'side':<{width}} {'wall min/med/max ms':>22} {'cpu min/med/max ms':>22} {'warm ms':>8}"
    print(head)
    for action in ACTIONS:
        for side in (peer, *sides):
            w, c = side.wall[action], side.cpu[action]
            print(
                f"{action:<8} {side.name:<{width}} {min(w):>6.0f} {statistics.median(w):>6.0f} {max(w):>6.0f}   "
                f"  {min(c):>6.0f} {statistics.median(c):>6.0f} {max(c):>6.0f}   "
                f"{statistics.median(side.warm[action]):>7.1f}"
            )
        for side in sides:
            wall = statistics.median(side.wall[action]) / statistics.median(peer.wall[action])
            cpu = statistics.median(side.cpu[action]) / statistics.median(peer.cpu[action])
            verdict = "PASS" if wall <= TARGET and cpu <= TARGET else "FAIL"
            ratios = f"wall {wall:.2f}x  cpu {cpu:.2f}x"
            print(f"{action:<8} {'ratio ' + side.name + '/peer':<{width}} {ratios}   target <= {TARGET}x: {verdict}")
    print("warm ms: median of a second call in the same process (DeskOS: function time without DynamoDB calls)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fresh DeskOS function vs a fresh Django helpdesk.")
    parser.add_argument("--runs", type=int, default=12, help="fresh processes per side and request (default 12)")
    parser.add_argument("--profile", choices=ACTIONS, help="profile one fresh DeskOS process instead of comparing")
    parser.add_argument("--top", type=int, default=30, help="rows of each profile (default 30)")
    parser.add_argument("--against", metavar="REF", help="also measure the function code as of this git ref")
    options = parser.parse_args(argv)
    runs = options.runs
    peer = ensure_peer()

    from bench.round_trips import start_moto

    server = start_moto()
    try:
        events = seed_deskos()
        compile_both()
        if options.profile:
            profile(options.profile, events, options.top)
            return
        helpdesk, command = Side("django-helpdesk"), launch(sys.executable, DESKOS_CHILD)
        trees = {"DeskOS function": ROOT}
        if options.against:
            trees[f"DeskOS at {options.against}"] = earlier_tree(options.against)
        sides = [Side(name) for name in trees]
        measure = {name: lambda a, tree=tree: deskos_run(a, events, command, tree) for name, tree in trees.items()}
        measure[helpdesk.name] = lambda a: peer_run(a, peer)
        for action in ACTIONS:  # warm-up: files in the page cache, moto's first-call costs paid
            for side in (*sides, helpdesk):
                measure[side.name](action)
        for _ in range(runs):
            for action in ACTIONS:
                for side in (helpdesk, *sides):
                    wall, cpu, warm = measure[side.name](action)
                    side.wall[action].append(wall)
                    side.cpu[action].append(cpu)
                    side.warm[action].append(warm)
    finally:
        server.stop()
    print_table(sides, helpdesk, runs)


if __name__ == "__main__":
    main()
