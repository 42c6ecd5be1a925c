"""The ClamAV signatures the local cloud scans uploads with, never chosen silently.

Official: ClamAV's database folder (``DESKOS_CLAMAV_DB``, else the ``DatabaseDirectory`` of freshclam's
configuration, ``/var/lib/clamav`` on Debian) holds ``main`` and ``daily``. Otherwise (a fresh install, no
network) the local cloud writes a database of test signatures under its state folder, the EICAR test file's
MD5 in an ``.hdb`` file, points the scanner at it (``DESKOS_CLAMAV_DB``), and says so in the banner, in
``local.json`` and at ``GET /health``: ``TEST_ONLY``.

While the cloud runs, ``Refresher`` runs ``freshclam`` at start (unless the databases were refreshed within
the last ``REFRESH_EVERY``) and every ``REFRESH_EVERY`` after: ClamAV's mirrors ask clients not to check more
than once an hour, and freshclam itself only asks DNS whether anything changed. Each run is bounded
(``FRESHCLAM_TIMEOUT``; without network it fails by itself in about 40 s). When it has fetched the official
databases, scans use them from the next file on (``clamscan`` reads the folder on every call)."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

logger = logging.getLogger(__name__)

TEST_ONLY = "test signatures only: real malware will not be detected; run freshclam"
FRESHCLAM_CONFIG = Path("/etc/clamav/freshclam.conf")
DEFAULT_DATABASE_DIR = "/var/lib/clamav"
OFFICIAL = ("main", "daily")  # shipped as .cvd, kept as .cld once freshclam has applied updates
REFRESH_EVERY = timedelta(hours=2)
FRESHCLAM_TIMEOUT = timedelta(minutes=10)
STALE_AFTER = timedelta(days=7)
TEST_DATABASE = "deskos-test-signatures.hdb"
# The EICAR anti-malware test file (eicar.org): harmless, and detected by every engine as if it were malware.
# Assembled, so that this source file is not itself it.
EICAR = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").encode()


@dataclass(frozen=True)
class Signatures:
    kind: str  # "official" or "test"
    directory: str
    updated_at: str | None = None  # ISO 8601, of the newest official database file

    @property
    def warning(self) -> str | None:
        if self.kind == "test":
            return TEST_ONLY
        if self.updated_at and datetime.now(UTC) - datetime.fromisoformat(self.updated_at) > STALE_AFTER:
            return f"signatures last updated {self.updated_at[:10]}: run freshclam"
        return None

    def as_json(self) -> dict[str, str | None]:
        return {**asdict(self), "warning": self.warning}


def database_dir() -> Path:
    """Where ClamAV keeps (and freshclam writes) the official databases."""
    if configured := os.environ.get("DESKOS_CLAMAV_DB"):
        return Path(configured)
    try:
        for line in FRESHCLAM_CONFIG.read_text().splitlines():
            name, _, value = line.strip().partition(" ")
            if name == "DatabaseDirectory" and value.strip():
                return Path(value.strip())
    except OSError:
        pass
    return Path(DEFAULT_DATABASE_DIR)


def official(directory: Path) -> Signatures | None:
    """The official databases in ``directory``, or None if it lacks any of them."""
    found = [p for name in OFFICIAL for p in (directory / f"{name}.cvd", directory / f"{name}.cld") if p.is_file()]
    if {p.stem for p in found} != set(OFFICIAL):
        return None
    newest = max(p.stat().st_mtime for p in found)
    return Signatures("official", str(directory), datetime.fromtimestamp(newest, UTC).isoformat(timespec="seconds"))


def write_test_database(folder: Path) -> Path:
    """A database with one hash signature, EICAR's (``<md5>:<size>:<name>``): ClamAV loads it in milliseconds."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / TEST_DATABASE
    path.write_text(f"{hashlib.md5(EICAR).hexdigest()}:{len(EICAR)}:Eicar-Test-Signature\n")
    return path


def choose(state_dir: Path, directory: Path) -> Signatures:
    """The official databases if ``directory`` has them; else test signatures, written now under ``state_dir``.
    Points the scanner at them."""
    found = official(directory)
    if found is not None:
        use(found)
        return found
    test = Signatures("test", str(write_test_database(state_dir / "clamav").parent))
    use(test)
    return test


def use(signatures: Signatures) -> None:
    """The scanner of this process (``shared.attachments.scanner``) reads its database folder from here."""
    os.environ["DESKOS_CLAMAV_DB"] = signatures.directory


class Refresher:
    """Runs freshclam now and every ``REFRESH_EVERY`` in a daemon thread; tells ``on_official`` when the
    official databases first replace the test signatures."""

    def __init__(self, current: Signatures, target: Path, on_official: Callable[[Signatures], None]) -> None:
        self.current = current
        self.target = target
        self.on_official = on_official
        self._stop = threading.Event()
        self._running: subprocess.Popen | None = None
        self._thread = threading.Thread(target=self._run, name="freshclam", daemon=True)

    def start(self) -> Refresher:
        if shutil.which("freshclam") is None:
            logger.warning("freshclam is not installed: ClamAV signatures are not kept fresh")
            return self
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if (running := self._running) is not None and running.poll() is None:
            running.terminate()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        if not self._fresh_enough():
            self.refresh()
        while not self._stop.wait(REFRESH_EVERY.total_seconds()):
            self.refresh()

    def _fresh_enough(self) -> bool:
        updated = self.current.updated_at if self.current.kind == "official" else None
        return bool(updated) and datetime.now(UTC) - datetime.fromisoformat(updated) < REFRESH_EVERY

    def refresh(self) -> bool:
        """One bounded freshclam run into ``target``; True if the official databases are there afterwards."""
        command = ["freshclam", "--stdout", "--no-warnings", f"--datadir={self.target}"]
        try:
            self._running = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            output, _ = self._running.communicate(timeout=FRESHCLAM_TIMEOUT.total_seconds())
            code = self._running.returncode
        except subprocess.TimeoutExpired:
            self._running.kill()
            output, code = f"no answer within {FRESHCLAM_TIMEOUT}", -1
        except OSError as error:
            output, code = str(error), -1
        if self._stop.is_set():
            return False
        found = official(self.target)
        if code != 0 or found is None:
            last = (output or "").strip().splitlines()[-1:] or [""]
            logger.warning("freshclam could not update the ClamAV signatures (%s); %s", last[0], self._still())
            return False
        if self.current.kind != "official":
            use(found)
            logger.warning("freshclam fetched the official ClamAV signatures; scans use them from now on")
            self.on_official(found)
        self.current = found
        return True

    def _still(self) -> str:
        return TEST_ONLY if self.current.kind == "test" else "scans keep the signatures they have"
