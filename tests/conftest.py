"""Test-wide settings: every test talks to local, fake AWS; nothing reaches the network.

The settings below are for the tests that run DeskOS's code in this process (unit, integration). The e2e
suite's local clouds get ``USER_ENVIRONMENT`` instead: the environment pytest started with, as a user's
`make up` would see it."""

import os
import tempfile
from pathlib import Path

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
