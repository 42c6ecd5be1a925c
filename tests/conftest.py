"""Test-wide settings: every test talks to local, fake AWS; nothing reaches the network.

The settings below are for the tests that run DeskOS's code in this process (unit, integration). The e2e
suite's local clouds get ``USER_ENVIRONMENT`` instead: the environment pytest started with, as a user's
`make up` would see it."""

import os
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
