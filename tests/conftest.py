"""Test-wide settings: every test talks to local, fake AWS; nothing reaches the network."""

import os

import pytest

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_REGION", "eu-west-1")
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
os.environ.setdefault("DESKOS_CURSOR_SECRET", "test-cursor-secret")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "DeskOS")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")


def _eicar_signature_database() -> str:
    """A ClamAV signature database holding only the EICAR test file's signature, made now (no download):
    the real engine, with a database small enough to load in milliseconds."""
    import hashlib
    import tempfile

    from tests.samples import EICAR

    folder = tempfile.mkdtemp(prefix="deskos-clamav-db-")
    with open(os.path.join(folder, "eicar.hdb"), "w") as database:
        database.write(f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Eicar-Test-Signature\n")
    return folder


os.environ.setdefault("DESKOS_CLAMAV_DB", _eicar_signature_database())
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
