"""Test-wide settings: every test talks to local, fake AWS; nothing reaches the network.

The settings below are for the tests that run DeskOS's code in this process (unit, integration). The e2e
suite's local clouds get ``USER_ENVIRONMENT`` instead (tests/user_environment.py)."""

import os
import tempfile
from pathlib import Path

import pytest

from tests.user_environment import USER_ENVIRONMENT  # noqa: F401 (imported before the settings below)

pytest_plugins = ["tests.group_times"]  # --group-times: where the suite's time goes

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
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`make test` runs the suite on two workers (xdist ``--dist loadgroup --no-loadscope-reorder``): each
    group of tests on one worker, the groups handed out in collection order as workers free up. A group is a
    module's tests by default, so that its module-scoped cloud starts once (a module may spread its tests
    over groups of its own: the isolation sweep does); every infra test is in one, so that the CDK app is
    synthesized once (a session fixture, made by each worker that needs it). Each e2e module is a group of
    its own: each worker that runs one starts its own local cloud (a session fixture) for all it runs.

    The modules likely to cost most come first, so that the last groups handed out are short ones and
    neither worker idles long at the end (xdist's default order, by number of tests, would start the e2e
    modules, few tests each but long ones, last)."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            module = item.nodeid.split("::")[0]
            shared = next((g for g in SESSION_GROUPS if module.startswith(f"tests/{g}/")), None)
            item.add_marker(pytest.mark.xdist_group(shared or module))
    costs: dict[str, float] = {}
    for item in items:
        module = item.nodeid.split("::")[0]
        costs[module] = costs.get(module, 0.0) + SECONDS_PER_TEST.get(module.split("/")[1], DEFAULT_SECONDS_PER_TEST)
    items.sort(key=lambda item: -costs[item.nodeid.split("::")[0]])  # stable: a module's tests keep their order


SESSION_GROUPS = ("infra",)  # test folders whose modules share a session fixture made once per group
# rough seconds a test takes, by folder (from --group-times): only to order the modules, costliest first
SECONDS_PER_TEST = {"e2e": 10.0, "infra": 3.0, "integration": 0.5}
DEFAULT_SECONDS_PER_TEST = 0.02
