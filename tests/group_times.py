"""``--group-times=N``: after the run, the N xdist groups with the most wall time, with their CPU time, and
each worker's totals: where the suite's time goes, on a machine whose other load distorts wall times.

(Its own module, loaded by tests/conftest.py's ``pytest_plugins``: the e2e conftest imports SERVICE_PIDS, and
a conftest imported by name would be a second copy of pytest's.)"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--group-times",
        type=int,
        default=0,
        metavar="N",
        help="after the run, the N xdist groups with the most wall time, with their CPU time (the worker's, threads "
        "included, and its e2e cloud's; not that of other processes a test starts) and the workers' totals",
    )


CPU = pytest.StashKey[dict[int, float]]()
SERVICE_PIDS: list[int] = []  # long-lived processes a fixture runs for the tests (the e2e suite's local clouds)
TICKS = os.sysconf("SC_CLK_TCK")


def _process_cpu(pid: int) -> float:
    """A process's CPU time, its children's included (Linux: /proc); 0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    return sum(int(ticks) for ticks in stat[11:15]) / TICKS + sum(_process_cpu(int(child)) for child in children)


def _cpu() -> dict[int, float]:
    """This process's CPU time (threads included) under 0, and each service process's under its pid."""
    return {0: time.process_time(), **{pid: _process_cpu(pid) for pid in SERVICE_PIDS}}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    started, now = item.stash.get(CPU, None), _cpu()
    if started is not None:
        spent = sum(now[key] - started.get(key, 0.0) for key in now if now[key])  # (0: gone; new: all it took)
        outcome.get_result().user_properties.append(("cpu", spent))
    item.stash[CPU] = now  # the next phase starts here


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    item.stash[CPU] = _cpu()
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
