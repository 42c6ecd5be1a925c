"""Test-wide settings: every test talks to local, fake AWS; nothing reaches the network.

The settings below are for the tests that run DeskOS's code in this process (unit, integration). The e2e
suite's local clouds get ``USER_ENVIRONMENT`` instead: the environment pytest started with, as a user's
`make up` would see it."""

import os
import time
from collections.abc import Iterator
import tempfile
from pathlib import Path

import pytest

USER_ENVIRONMENT = dict(os.environ)

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_REGION", "eu-west-1")
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
# Required settings have no defaults (shared/settings.py): the tests set theirs, as the local cloud does.
os.environ.setdefault("DESKOS_TABLE", "deskos")
os.environ.setdefault("DESKOS_BUCKET", "deskos-uploads")
os.environ.setdefault("DESKOS_CURSOR_SECRET", "test-cursor-secret")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "DeskOS")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


def _test_signatures() -> str:
    """The in-process scans use the test signatures `deskos up` falls back to (the real engine; a database
    that loads in milliseconds, whatever databases this machine has)."""
    from infra.local.signatures import write_test_database

    return str(write_test_database(Path(tempfile.mkdtemp(prefix="deskos-clamav-db-"))).parent)


os.environ.setdefault("DESKOS_CLAMAV_DB", _test_signatures())
os.environ.setdefault("DESKOS_CLAMD_SOCKET", "/nonexistent/clamd.sock")  # clamscan unless a test starts clamd


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items: list) -> None:
    """`make test` runs the suite on two workers (xdist ``--dist loadgroup``), each group of tests on one
    worker, in collection order: a module's tests by default, so that its module-scoped cloud starts
    once; every infra test together, so that the CDK app is synthesized once (a session fixture, made by
    each worker that needs it); every e2e test together, on one local cloud, because the prefix audit
    (tests/e2e/test_tenant_prefixes.py) runs last and audits what every other e2e test wrote there."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            module = item.nodeid.split("::")[0]
            shared = next((g for g in SESSION_GROUPS if module.startswith(f"tests/{g}/")), None)
            item.add_marker(pytest.mark.xdist_group(shared or module))


SESSION_GROUPS = ("infra", "e2e")  # test folders whose modules share session fixtures


# ---- where the suite's time goes: `--group-times=N` prints the N costliest xdist groups ------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--group-times",
        type=int,
        default=0,
        metavar="N",
        help="after the run, the N xdist groups with the most wall time, with their CPU time (this process's, "
        "threads included: not the e2e cloud's own processes) and the workers' totals",
    )


CPU = pytest.StashKey[float]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    started = item.stash.get(CPU, None)
    if started is not None:
        outcome.get_result().user_properties.append(("cpu", time.process_time() - started))
    item.stash[CPU] = time.process_time()  # the next phase starts here


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    item.stash[CPU] = time.process_time()
    yield


GROUP_TIMES: dict[str, list] = {}  # group -> [wall, cpu, tests, worker]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    nodeid = report.nodeid  # xdist's loadgroup appends "@<group>" (after any "]": ids may hold an "@")
    group = nodeid.rpartition("@")[2] if nodeid.rfind("@") > nodeid.rfind("]") else nodeid.split("::")[0]
    entry = GROUP_TIMES.setdefault(group, [0.0, 0.0, 0, "-"])
    entry[0] += report.duration
    entry[1] += dict(report.user_properties).get("cpu", 0.0)
    entry[2] += report.when == "call"
    node = getattr(report, "node", None)
    entry[3] = node.gateway.id if node is not None else entry[3]


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    shown = config.getoption("group_times")
    if not shown or not GROUP_TIMES:
        return
    write = terminalreporter.write_line
    terminalreporter.section(f"the {shown} costliest xdist groups (seconds)")
    write(f"{'wall':>8} {'cpu':>8} {'tests':>6}  worker  group")
    for group, (wall, cpu, tests, worker) in sorted(GROUP_TIMES.items(), key=lambda kv: -kv[1][0])[:shown]:
        write(f"{wall:8.1f} {cpu:8.1f} {tests:6d}  {worker:6}  {group}")
    workers: dict[str, list[float]] = {}
    for wall, cpu, _, worker in GROUP_TIMES.values():
        total = workers.setdefault(worker, [0.0, 0.0])
        total[0], total[1] = total[0] + wall, total[1] + cpu
    for worker, (wall, cpu) in sorted(workers.items()):
        write(f"{wall:8.1f} {cpu:8.1f}  total of worker {worker}")
