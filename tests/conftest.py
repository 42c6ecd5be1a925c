"""Test-wide settings: every test talks to local, fake AWS; nothing reaches the network."""

import os

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
