"""`deskos up` runs the whole local cloud in one process, says how to reach it, and stops cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request

import boto3
import pytest

from infra.local.cli import main
from infra.local.details import DETAILS_FILE
from infra.local.moto_server import STATE_FILE


def test_openapi_prints_the_merged_document(capsys):
    assert main(["openapi"]) == 0

    document = json.loads(capsys.readouterr().out)
    assert document["openapi"].startswith("3.")
    assert "/me" in document["paths"]


def test_up_serves_the_api_with_demo_users_and_saves_state_on_sigterm(tmp_path):
    command = [sys.executable, "-m", "infra.local.cli", "up", "--state-dir", str(tmp_path)]
    # Files, not pipes: a chatty child must never block on a full pipe.
    out, err = (tmp_path / "up.out").open("w+"), (tmp_path / "up.err").open("w+")
    process = subprocess.Popen([*command, "--api-port", "0", "--aws-port", "0"], stdout=out, stderr=err, text=True)
    try:
        details = wait_for_details(tmp_path / DETAILS_FILE, process)
        manager = next(u for u in details["users"] if u["role"] == "managers")
        token = boto3.client("cognito-idp", endpoint_url=details["aws_endpoint_url"]).initiate_auth(
            ClientId=details["user_pool_client_id"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": manager["username"], "PASSWORD": manager["password"]},
        )["AuthenticationResult"]["IdToken"]
        request = urllib.request.Request(f"{details['api_url']}/me", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request) as response:
            me = json.load(response)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)

    assert {u["role"] for u in details["users"]} == {"managers", "staff", "portal"}
    assert me["tenant_id"] == "demo"
    printed = (tmp_path / "up.out").read_text()
    assert details["api_url"] in printed and f"{details['api_url']}/docs" in printed
    assert process.returncode == 0, (tmp_path / "up.err").read_text()
    assert (tmp_path / STATE_FILE).exists()


def wait_for_details(path, process: subprocess.Popen, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"deskos up did not start:\n{(path.parent / 'up.err').read_text()}")
        time.sleep(0.1)
    return json.loads(path.read_text())


def test_up_says_test_signatures_until_freshclam_brings_the_official_ones(tmp_path):
    import os

    from infra.local.running import LocalCloud
    from infra.local.signatures import TEST_ONLY

    # Given a ClamAV without signatures, and a freshclam that "downloads" them into the folder it is given
    # (stand-in files: this checks what `deskos up` says and where it points the scanner, not ClamAV itself)
    database, tools = tmp_path / "clamav", tmp_path / "bin"
    tools.mkdir()
    (tools / "freshclam").write_text(
        '#!/bin/sh\nfor a in "$@"; do case "$a" in --datadir=*) d="${a#--datadir=}";; esac; done\n'
        'sleep 2; mkdir -p "$d"; echo x > "$d/main.cvd"; echo x > "$d/daily.cld"\n'
    )
    (tools / "freshclam").chmod(0o755)
    env = {**os.environ, "DESKOS_CLAMAV_DB": str(database), "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}

    cloud = LocalCloud.start(tmp_path / "state", fresh=True, env=env)
    try:
        # Then it starts on test signatures and says so
        assert cloud.details["signatures"]["warning"] == TEST_ONLY
        assert any(w.startswith("ClamAV signatures:") for w in cloud.details["warnings"])
        # And once freshclam has fetched the official databases, local.json and /health say those
        deadline = time.monotonic() + 30
        while json.loads((tmp_path / "state" / DETAILS_FILE).read_text())["signatures"]["kind"] != "official":
            assert time.monotonic() < deadline, cloud.log_tail()
            time.sleep(0.2)
        with urllib.request.urlopen(f"{cloud.api_url}/health", timeout=10) as answer:
            health = json.loads(answer.read())
        assert health["signatures"]["kind"] == "official" and health["signatures"]["warning"] is None
        assert health["signatures"]["directory"] == str(database) and health["warnings"] == []
    finally:
        cloud.stop_cleanly()
