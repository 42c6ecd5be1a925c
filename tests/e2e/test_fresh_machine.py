"""`make up` on a machine whose ClamAV has no signatures and no network (a fresh install, CI), then the
README's upload flow over HTTP: test signatures, said plainly; a PNG clean with a thumbnail, EICAR infected;
a file that differs from its declared size refused by S3; an engine that fails leaves the upload
`scan_failed` with a reason, staff emailed, and a replay after the fix judges it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from infra.local.running import LocalCloud, log_in, up_arguments
from infra.local.signatures import TEST_DATABASE, TEST_ONLY
from tests.e2e.conftest import AGENT, PORTAL, Api, run_deskos
from tests.e2e.test_attachments import judged, start_upload, upload
from tests.samples import EICAR, png
from tests.user_environment import USER_ENVIRONMENT

ROOT = Path(__file__).resolve().parents[2]
MAKE_UP_TIMEOUT = 180.0  # `make up` runs scripts/bootstrap.sh first (quick when everything is installed)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    state = tmp_path_factory.mktemp("fresh-machine")
    empty = tmp_path_factory.mktemp("no-signatures")
    # The one setting a user's `make up` lacks: ClamAV's database folder, empty, so that this test sees a
    # machine without signatures even where this one has some. Everything else is the user's environment.
    env = {**USER_ENVIRONMENT, "DESKOS_CLAMAV_DB": str(empty)}
    arguments = " ".join(up_arguments(state, fresh=True))
    command = ["make", "--no-print-directory", "-C", str(ROOT), "up", f"ARGS={arguments}"]
    cloud = LocalCloud.start(state, fresh=True, env=env, command=command, timeout=MAKE_UP_TIMEOUT)
    try:
        yield cloud
    finally:
        cloud.stop()  # make's exit status after SIGTERM says nothing about deskos up's


@pytest.fixture(scope="module")
def fresh_api(fresh: LocalCloud) -> Iterator[Api]:
    client = Api(fresh.api_url)
    yield client
    client.session.close()


def test_the_banner_local_json_and_health_say_test_signatures_only(fresh, fresh_api):
    assert TEST_ONLY in fresh.log_tail()
    assert fresh.details["signatures"]["kind"] == "test"
    assert fresh.details["signatures"]["warning"] == TEST_ONLY
    health = fresh_api.get("/health")
    assert health.status_code == 200 and health.json()["signatures"]["warning"] == TEST_ONLY


def test_a_png_is_judged_clean_with_a_thumbnail_and_eicar_infected(fresh, fresh_api):
    portal = log_in(fresh.details, PORTAL)
    ticket = fresh_api.create_ticket(portal, subject="Fresh machine")

    picture = judged(
        fresh_api, portal, upload(fresh_api, portal, ticket["id"], "screen.png", png(640, 480), "image/png")["id"]
    )
    malware = judged(
        fresh_api, portal, upload(fresh_api, portal, ticket["id"], "invoice.pdf", EICAR, "application/pdf")["id"]
    )

    assert (picture["status"], picture["thumbnail_available"]) == ("clean", True), picture
    assert fresh_api.get(f"/attachments/{picture['id']}/thumbnail", as_=portal).status_code == 200
    assert malware["status"] == "infected", malware


def test_s3_refuses_a_file_one_byte_larger_than_declared(fresh, fresh_api):
    agent = log_in(fresh.details, AGENT)
    ticket = fresh_api.create_ticket(agent, subject="Declared size")
    declared = b"declared content\n"
    post = start_upload(fresh_api, agent, ticket["id"], "notes.txt", declared, "text/plain").json()["upload"]

    sent = requests.post(post["url"], data=post["fields"], files={"file": declared + b"!"}, timeout=15)

    assert sent.status_code == 400 and "EntityTooLarge" in sent.text


def test_a_scan_that_cannot_run_ends_scan_failed_and_a_replay_after_the_fix_judges_it(fresh, fresh_api):
    agent = log_in(fresh.details, AGENT)
    ticket = fresh_api.create_ticket(agent, subject="Scanner down")
    database = Path(fresh.details["signatures"]["directory"]) / TEST_DATABASE
    kept = database.read_bytes()

    # Given an engine that cannot run (its signature database is gone)
    database.unlink()
    try:
        attachment = judged(
            fresh_api, agent, upload(fresh_api, agent, ticket["id"], "photo.png", png(32, 32), "image/png")["id"]
        )
    finally:
        database.write_bytes(kept)

    # Then, after its attempts, the upload says why it is not judged, and staff were emailed once
    assert attachment["status"] == "scan_failed", attachment
    assert "could not run" in attachment["status_reason"] and "database" in attachment["status_reason"]
    outbox = json.loads(run_deskos(fresh.state_dir, "outbox", "--json"))
    notices = [m for m in outbox if "photo.png" in m.get("subject", "") and "could not be scanned" in m["subject"]]
    assert len(notices) == 1, outbox

    # When the engine is fixed and the dead letter replayed
    replayed = json.loads(run_deskos(fresh.state_dir, "dlq", "replay", "--consumer", "UploadScan"))

    # Then the upload is judged
    assert replayed == {"replayed": 1, "failed": []}
    after = fresh_api.get(f"/attachments/{attachment['id']}", as_=agent).json()
    assert (after["status"], after["thumbnail_available"], after["status_reason"]) == ("clean", True, None), after


def test_the_clouds_get_the_users_environment_not_the_in_process_tests_settings():
    # tests/conftest.py points in-process scans at a clamd socket no machine has: a cloud given that (or the
    # test signature folder it sets) would pass tests a user's `make up` fails
    assert USER_ENVIRONMENT.get("DESKOS_CLAMD_SOCKET") != "/nonexistent/clamd.sock"
    assert USER_ENVIRONMENT.get("DESKOS_CLAMAV_DB") != os.environ["DESKOS_CLAMAV_DB"]
