"""What `deskos up` scans with and what `deskos doctor` reports: the official databases when ClamAV has them,
else test signatures that the real engine loads (EICAR detected, nothing else), never silently."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infra.local import doctor, signatures
from shared.attachments import scanner
from tests.samples import EICAR, png


def official_databases(folder: Path, *, age: timedelta = timedelta(hours=1)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = (datetime.now(UTC) - age).timestamp()
    for name in ("main.cvd", "daily.cld", "bytecode.cvd"):
        (folder / name).write_bytes(b"stand-in")
        os.utime(folder / name, (stamp, stamp))
    return folder


@pytest.fixture
def scanner_database(monkeypatch):
    """choose() points this process's scanner at what it chose; the test's own setting comes back after."""
    monkeypatch.setenv("DESKOS_CLAMAV_DB", os.environ["DESKOS_CLAMAV_DB"])


def test_without_databases_the_test_signatures_are_chosen_and_say_so(tmp_path, scanner_database):
    chosen = signatures.choose(tmp_path / "state", tmp_path / "empty")

    assert (chosen.kind, chosen.warning) == ("test", signatures.TEST_ONLY)
    assert os.environ["DESKOS_CLAMAV_DB"] == chosen.directory == str(tmp_path / "state" / "clamav")
    assert chosen.as_json()["warning"] == "test signatures only: real malware will not be detected; run freshclam"


def test_the_real_engine_with_the_test_signatures_finds_eicar_and_passes_a_png(tmp_path, scanner_database):
    signatures.choose(tmp_path / "state", tmp_path / "empty")
    (tmp_path / "eicar.pdf").write_bytes(EICAR)
    (tmp_path / "screen.png").write_bytes(png(20, 20))

    engine = scanner.engine()

    assert engine.inspect(tmp_path / "eicar.pdf").infected
    assert not engine.inspect(tmp_path / "screen.png").infected


def test_official_databases_are_used_where_clamav_keeps_them(tmp_path, scanner_database):
    folder = official_databases(tmp_path / "clamav")

    chosen = signatures.choose(tmp_path / "state", folder)

    assert (chosen.kind, chosen.directory, chosen.warning) == ("official", str(folder), None)
    assert os.environ["DESKOS_CLAMAV_DB"] == str(folder)


def test_week_old_official_databases_are_reported_stale():
    week_old = signatures.Signatures("official", "/x", (datetime.now(UTC) - timedelta(days=8)).isoformat())

    assert week_old.warning and "run freshclam" in week_old.warning


def test_a_failed_freshclam_keeps_the_test_signatures(tmp_path, monkeypatch, scanner_database):
    chosen = signatures.choose(tmp_path / "state", tmp_path / "empty")
    told = []
    refresher = signatures.Refresher(chosen, tmp_path / "empty", on_official=told.append)
    monkeypatch.setenv("PATH", str(fake_freshclam(tmp_path, "exit 1")) + os.pathsep + os.environ["PATH"])

    assert refresher.refresh() is False
    assert (refresher.current, told, os.environ["DESKOS_CLAMAV_DB"]) == (chosen, [], chosen.directory)


def test_when_freshclam_fetches_the_official_databases_scans_switch_to_them(tmp_path, monkeypatch, scanner_database):
    chosen = signatures.choose(tmp_path / "state", tmp_path / "clamav")
    told = []
    refresher = signatures.Refresher(chosen, tmp_path / "clamav", on_official=told.append)
    # a freshclam that "downloads" by writing the files where it was told to
    script = 'dir="${3#--datadir=}"; mkdir -p "$dir"; for f in main.cvd daily.cld; do echo x > "$dir/$f"; done'
    monkeypatch.setenv("PATH", str(fake_freshclam(tmp_path, script)) + os.pathsep + os.environ["PATH"])

    assert refresher.refresh() is True
    assert refresher.current.kind == "official" and [s.kind for s in told] == ["official"]
    assert os.environ["DESKOS_CLAMAV_DB"] == str(tmp_path / "clamav")


def fake_freshclam(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    script = folder / "freshclam"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return folder


def test_doctor_reports_missing_signatures_with_the_command_that_fixes_them(tmp_path):
    check = doctor.clamav_signatures(tmp_path / "empty")

    assert not check.ok
    assert signatures.TEST_ONLY in check.detail
    assert check.fix and check.fix.startswith(f"sudo freshclam --datadir={tmp_path / 'empty'}")


def test_doctor_accepts_fresh_official_signatures_and_tells_their_age(tmp_path):
    check = doctor.clamav_signatures(official_databases(tmp_path / "clamav", age=timedelta(days=2)))

    assert check.ok and "2 days ago" in check.detail


def test_doctor_finds_the_engine_and_node_installed_by_bootstrap():
    assert doctor.clamav_engine().ok, doctor.clamav_engine().line()
    assert doctor.node().ok, doctor.node().line()


def test_doctor_reports_a_port_in_use_and_how_to_choose_another():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        check = doctor.port_free("127.0.0.1", "API", port)

    assert not check.ok and check.fix == "deskos up --api-port <free port>"
    assert doctor.port_free("127.0.0.1", "API", port).ok


def test_doctor_reports_a_state_folder_it_cannot_write(tmp_path):
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")

    check = doctor.state_writable(blocked / "state")

    assert not check.ok and "--state-dir" in (check.fix or "")


def test_deskos_doctor_prints_each_check_and_fails_while_something_is_missing(tmp_path):
    environment = {**os.environ, "DESKOS_CLAMAV_DB": str(tmp_path / "empty")}
    command = [
        *[sys.executable, "-m", "infra.local.cli", "doctor", "--state-dir", str(tmp_path)],
        *["--api-port", "0", "--aws-port", "0"],
    ]

    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "MISSING ClamAV signatures" in result.stdout and "fix: sudo freshclam" in result.stdout
    assert "ok      ClamAV engine" in result.stdout and "ok      state folder" in result.stdout
