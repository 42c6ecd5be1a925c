"""ClamAV behind one small interface: ``engine().inspect(path)``.

clamd over its UNIX socket when a daemon is running (signatures are loaded once per container and
each file costs milliseconds), ``clamscan`` otherwise (it loads the signatures on every call: fine
with a small database, slow with the full one). Settings:

- ``DESKOS_CLAMD_SOCKET``: the daemon's socket (default ``/tmp/clamd.sock``), used if it exists;
- ``DESKOS_CLAMAV_DB``: the signature directory for ``clamscan`` (default: ClamAV's own);
- ``DESKOS_CLAMSCAN``: the ``clamscan`` binary (default: found on PATH, then ``/opt/clamav/bin``).
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

CHUNK = 64 * 1024
# A file's scan is tried this many times (the uploads queue's max receives, each attempt within the scan
# function's timeout) before its attachment is marked scan_failed; each attempt's engine call is bounded.
ATTEMPTS = 3
CLAMD_TIMEOUT_SECONDS = 60
CLAMSCAN_TIMEOUT_SECONDS = 90


class ScanError(RuntimeError):
    """The engine could not give a verdict: the file must not be called clean."""


@dataclass(frozen=True)
class Verdict:
    infected: bool
    signature: str | None
    engine: str


class Engine(Protocol):
    def inspect(self, path: Path) -> Verdict: ...


@dataclass(frozen=True)
class Clamd:
    socket_path: str

    def _call(self, command: bytes, payload: Path | None = None) -> str:
        try:
            return self._exchange(command, payload)
        except OSError as error:  # no daemon behind the socket, or it hung past the timeout
            raise ScanError(f"clamd at {self.socket_path}: {error}") from error

    def _exchange(self, command: bytes, payload: Path | None) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(CLAMD_TIMEOUT_SECONDS)
            conn.connect(self.socket_path)
            conn.sendall(b"z" + command + b"\0")
            if payload is not None:
                with payload.open("rb") as data:
                    while chunk := data.read(CHUNK):
                        conn.sendall(struct.pack(">I", len(chunk)) + chunk)
                conn.sendall(struct.pack(">I", 0))
            reply = b""
            while not reply.endswith(b"\0") and (part := conn.recv(4096)):
                reply += part
        return reply.rstrip(b"\0").decode(errors="replace").strip()

    def version(self) -> str:
        return self._call(b"VERSION")

    def inspect(self, path: Path) -> Verdict:
        # INSTREAM: the daemon reads the bytes from the socket, so it needs no access to our files.
        reply = self._call(b"INSTREAM", path)
        engine = f"clamd {self.version()}"
        if reply.endswith(" FOUND"):
            return Verdict(True, reply.removeprefix("stream:").removesuffix(" FOUND").strip(), engine)
        if reply.endswith(" OK"):
            return Verdict(False, None, engine)
        raise ScanError(f"clamd answered {reply!r}")


@dataclass(frozen=True)
class Clamscan:
    binary: str
    database: str | None = None

    def _args(self) -> list[str]:
        return [self.binary, *((f"--database={self.database}",) if self.database else ())]

    @cache  # noqa: B019 - one engine per process; its version does not change under it
    def version(self) -> str:
        result = subprocess.run([*self._args(), "--version"], capture_output=True, text=True, timeout=60)
        return result.stdout.strip() or "clamscan"

    def inspect(self, path: Path) -> Verdict:
        try:
            result = subprocess.run(
                [*self._args(), "--no-summary", "--infected", "--stdout", "--", str(path)],
                capture_output=True,
                text=True,
                timeout=CLAMSCAN_TIMEOUT_SECONDS,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ScanError(f"clamscan did not run: {error}") from error
        engine = f"clamscan {self.version()}"
        if result.returncode == 0:
            return Verdict(False, None, engine)
        if result.returncode == 1:  # 1: a virus was found; the line is "<path>: <signature> FOUND"
            line = next((ln for ln in result.stdout.splitlines() if ln.endswith(" FOUND")), "")
            return Verdict(True, line.rpartition(": ")[2].removesuffix(" FOUND") or "unknown", engine)
        raise ScanError(f"clamscan exited {result.returncode}: {(result.stderr or result.stdout).strip()[:500]}")


def engine() -> Engine:
    env = os.environ
    socket_path = env.get("DESKOS_CLAMD_SOCKET", "/tmp/clamd.sock")
    if Path(socket_path).is_socket():
        return Clamd(socket_path)
    binary = env.get("DESKOS_CLAMSCAN") or shutil.which("clamscan") or "/opt/clamav/bin/clamscan"
    if not Path(binary).exists():
        raise ScanError("No ClamAV engine: neither a clamd socket nor a clamscan binary was found.")
    return Clamscan(binary, env.get("DESKOS_CLAMAV_DB") or None)
