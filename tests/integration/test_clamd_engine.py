"""The scanner's clamd client against a real clamd: started here in the foreground with a temporary config
(its socket in a temporary directory, the test EICAR database, no freshclam), stopped by its PID."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.attachments import scanner
from tests.samples import EICAR

STARTUP_SECONDS = 60  # loading the one-signature database takes well under a second; a slow machine, longer


def _clamd_binary() -> str:
    binary = shutil.which("clamd") or "/usr/sbin/clamd"
    if not Path(binary).exists():
        pytest.fail("clamd is not installed: scripts/bootstrap.sh installs it (apt package clamav-daemon)")
    return binary


@pytest.fixture(scope="module")
def clamd_socket(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("clamd")
    socket_path, log = folder / "clamd.sock", folder / "clamd.log"
    config = folder / "clamd.conf"
    config.write_text(
        "Foreground yes\n"
        f"LocalSocket {socket_path}\n"
        f"DatabaseDirectory {os.environ['DESKOS_CLAMAV_DB']}\n"
        f"TemporaryDirectory {folder}\n"
        f"LogFile {log}\n"
    )
    daemon = subprocess.Popen(
        [_clamd_binary(), f"--config-file={config}"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not socket_path.is_socket():
            if daemon.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"clamd did not open its socket (exit {daemon.poll()}): {_tail(log)}")
            time.sleep(0.05)
        yield socket_path
    finally:
        daemon.terminate()  # by PID: only the daemon this fixture started
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def _tail(log: Path) -> str:
    return log.read_text()[-2000:] if log.exists() else "(no log)"


def test_the_engine_is_clamd_when_its_socket_exists(clamd_socket, monkeypatch):
    monkeypatch.setenv("DESKOS_CLAMD_SOCKET", str(clamd_socket))

    assert scanner.engine() == scanner.Clamd(str(clamd_socket))


def test_clamd_finds_a_clean_file_clean_over_instream(clamd_socket, tmp_path):
    clean = tmp_path / "notes.txt"
    clean.write_bytes(b"Quarterly numbers, nothing to see.\n" * 3000)  # more than one INSTREAM chunk

    verdict = scanner.Clamd(str(clamd_socket)).inspect(clean)

    assert (verdict.infected, verdict.signature) == (False, None)
    assert verdict.engine.startswith("clamd ClamAV ")


def test_clamd_finds_eicar_infected_over_instream(clamd_socket, tmp_path):
    eicar = tmp_path / "invoice.pdf"
    eicar.write_bytes(EICAR)

    verdict = scanner.Clamd(str(clamd_socket)).inspect(eicar)

    assert verdict.infected is True
    assert verdict.signature is not None and "Eicar-Test-Signature" in verdict.signature
