"""A requested document answered through its emailed link (no sign-in), and the uploads-by-scan-outcome summary
the scan keeps per day: through the handlers, with the real scan."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest

from shared import links
from shared.attachments import pipeline, storage
from shared.onboarding import reminders, upload_links
from shared.onboarding.model import Document
from shared.settings import settings
from shared.tenants import create_tenant
from tests.integration.api.harness import Tenant, call
from tests.integration.api.onboarding_helpers import (
    DOCUMENT,
    act,
    days_ago,
    items,
    link_token,
    process,
    staff_user,
    upload,
    upload_by_link,
)
from tests.integration.api.test_onboarding_api import fresh_cursor, zone_at  # noqa: F401 (a fixture)
from tests.samples import EICAR, PDF, png

REQUEST = DOCUMENT + "/request"
BY_LINK = DOCUMENT + "/upload-by-link"
SUMMARY = "/attachments/scan-summary"
A_FILE = {"original_filename": "passport.pdf", "content_type": "application/pdf", "size": len(PDF)}


def read(token: str, document_id: str):
    return call(None, "GET", REQUEST, {"document_id": document_id}, query={"token": token})


def start(token: str, document_id: str):
    return call(None, "POST", BY_LINK, {"document_id": document_id}, body=A_FILE, query={"token": token})


def documents_of(tenant: Tenant, **process_fields):
    made = process(tenant, started=True, **process_fields)
    return made, items(tenant.agent, "documents", process_id=made["id"])


def test_a_clean_file_by_link_uploads_the_document_an_infected_one_leaves_it_requested(tenant, pump_stream, sent_mail):
    # Given a started process with two requested documents, and the upload link of each
    owner = staff_user(tenant)
    _, (passport, accounts) = documents_of(tenant, owner=owner.user_id)
    passport_link, accounts_link = link_token(tenant.id, passport["id"]), link_token(tenant.id, accounts["id"])

    # When the link reads what it asks for
    asked = read(passport_link, passport["id"])

    # Then it shows the request and nothing else of the tenant
    assert asked.status == 200, asked.text
    assert asked.json["name"] == "Passport" and asked.json["status"] == "requested" and asked.json["accepting"]
    assert asked.json["files"] == []
    assert set(asked.json) == {
        "id", "name", "description", "required", "due_date", "status", "status_reason", "accepting", "files"
    }  # fmt: skip

    # When a clean PDF goes through one link and EICAR through the other, and the scan judges them
    upload_by_link(passport_link, passport["id"], "passport.pdf", PDF, "application/pdf")
    upload_by_link(accounts_link, accounts["id"], "accounts.pdf", EICAR, "application/pdf")
    pump_stream()

    # Then the clean one is uploaded, the infected one stays requested with the reason, its owner told
    clean, refused = read(passport_link, passport["id"]).json, read(accounts_link, accounts["id"]).json
    assert clean["status"] == "uploaded" and [f["status"] for f in clean["files"]] == ["clean"]
    assert refused["status"] == "requested" and "Eicar" in refused["status_reason"]
    assert [f["status"] for f in refused["files"]] == ["infected"]
    told = [m for m in sent_mail() if owner.email in m["destinations"]["ToAddresses"]]
    assert any("Onboarding file refused" in m["subject"] and "accounts.pdf" in m["body"] for m in told)
    # staff see the file as the portal does: public, uploaded by the link
    files = call(tenant.agent, "GET", DOCUMENT + "/files", {"document_id": passport["id"]}).json["items"]
    assert files[0]["is_public"] and files[0]["uploaded_by"] == f"link:{passport['id']}"


def test_a_link_reaches_no_other_document_process_or_tenant(tenant, new_tenant):
    _, (passport, accounts) = documents_of(tenant)
    _, (elsewhere, _) = documents_of(tenant)
    theirs = documents_of(new_tenant())[1][0]
    token = link_token(tenant.id, passport["id"])

    for other in (accounts, elsewhere, theirs):
        read(token, other["id"]).problem(404)
        start(token, other["id"]).problem(404)
    assert items(tenant.agent, "documents", process_id=accounts["process_id"])[1]["status"] == "requested"
    assert call(tenant.agent, "GET", DOCUMENT + "/files", {"document_id": accounts["id"]}).json["items"] == []


def test_an_expired_forged_or_foreign_purpose_link_is_refused(tenant):
    _, (passport, _) = documents_of(tenant)
    document = Document.find(tenant.id, passport["id"])
    expired = upload_links.token(document, datetime.now(UTC) - timedelta(days=400))
    body, signature = link_token(tenant.id, passport["id"]).split(".")
    forged = f"{body}.{signature[:-2]}AA"
    other_purpose = links.sign("meeting-vote", tenant.id, passport["id"], datetime.now(UTC) + timedelta(days=1))

    assert "expired" in read(expired, passport["id"]).field_errors()["token"]
    for bad in (forged, other_purpose, "not-a-token"):
        assert "invalid" in read(bad, passport["id"]).field_errors()["token"]
        start(bad, passport["id"]).problem(422)
    start(expired, passport["id"]).problem(422)
    assert call(None, "GET", REQUEST, {"document_id": passport["id"]}).status == 422  # no token at all


def test_an_approved_document_or_a_closed_process_takes_no_more_files_by_link(tenant, pump_stream):
    made, (passport, accounts) = documents_of(tenant)
    upload(tenant.agent, passport["id"], "passport.pdf", PDF, "application/pdf")
    pump_stream()
    assert act(tenant.agent, "documents", passport["id"], "approve", {}).status == 200
    approved = link_token(tenant.id, passport["id"])

    assert start(approved, passport["id"]).problem(409)["current_status"] == "approved"
    assert read(approved, passport["id"]).json["accepting"] is False

    assert act(tenant.agent, "processes", made["id"], "cancel").status == 200
    cancelled = link_token(tenant.id, accounts["id"])
    assert "closed" in start(cancelled, accounts["id"]).problem(409)["detail"]
    assert read(cancelled, accounts["id"]).json["accepting"] is False


def test_a_link_lives_past_the_due_date_but_never_longer_than_the_bound(tenant):
    _, (passport, _) = documents_of(tenant)
    document = Document.find(tenant.id, passport["id"])
    sent = datetime.now(UTC)

    grant = links.read(upload_links.PURPOSE, upload_links.token(document, sent), sent + upload_links.GRACE)
    long_ago = upload_links.token(document, sent - upload_links.LONGEST - timedelta(days=1))

    assert grant.subject == document.id and grant.extra["client"] == document.client_id
    assert "expired" in read(long_ago, passport["id"]).field_errors()["token"]


def test_the_welcome_email_carries_each_documents_upload_link(tenant, pump_stream, sent_mail):
    client_id = tenant.client()["id"]
    portal = tenant.portal_user(client_id, name=f"link-{tenant.id}")
    made = process(tenant, client_id, started=True)
    pump_stream()

    welcome = next(m for m in sent_mail() if portal.email in m["destinations"]["ToAddresses"])
    tokens = [unquote(t) for t in re.findall(r"/app/upload\?token=(\S+)", welcome["body"])]
    documents = items(tenant.agent, "documents", process_id=made["id"])
    assert len(tokens) == len(documents) == 2
    assert [read(t, d["id"]).json["name"] for t, d in zip(tokens, documents, strict=True)] == [
        "Passport",
        "Last year's accounts",
    ]


@pytest.mark.usefixtures("fresh_cursor")
def test_a_late_documents_reminder_carries_its_upload_link(tenant, sent_mail):
    # Given a tenant at 10:00 local time and a process started 10 days ago: its passport (due on day 7) is late
    at = datetime.now(UTC)
    create_tenant(tenant.id, "Reminded by link", time_zone=zone_at(10, at))
    client_id = tenant.client()["id"]
    portal = tenant.portal_user(client_id, name=f"late-{tenant.id}")
    made = process(tenant, client_id, start=days_ago(10), started=True)
    passport = items(tenant.agent, "documents", process_id=made["id"])[0]

    # When the reminder job runs
    for notice in reminders.run(at).notices:
        if notice.tenant_id == tenant.id:
            reminders.notify(notice)

    # Then the client's email links to the passport's upload page, and the link works
    [email] = [m for m in sent_mail() if portal.email in m["destinations"]["ToAddresses"]]
    [token] = [unquote(t) for t in re.findall(r"/app/upload\?token=(\S+)", email["body"])]
    assert read(token, passport["id"]).json["name"] == "Passport"


# ---- uploads by scan outcome, per day ----------------------------------------------------------


def test_the_scan_counts_each_verdict_once_per_day_and_staff_read_the_summary(tenant, new_tenant):
    # Given a clean image, an infected file and a mislabelled one, scanned — the clean one delivered twice
    _, (passport, accounts) = documents_of(tenant)
    image = upload(tenant.agent, passport["id"], "scan.png", png(32, 16), "image/png")
    upload(tenant.agent, accounts["id"], "virus.pdf", EICAR, "application/pdf")
    upload(tenant.agent, accounts["id"], "fake.pdf", png(8, 8), "application/pdf")
    key = f"t/{tenant.id}/onboarding_document/{passport['id']}/{image['id']}"
    etag = storage.s3().head_object(Bucket=settings().bucket_name, Key=key)["ETag"].strip('"')
    assert pipeline.process(key, etag).status is None  # a redelivered event: judged already

    # When staff read the summary
    today = datetime.now(UTC).date()
    summary = call(tenant.agent, "GET", SUMMARY)

    # Then today counts each verdict once, every day of the range is there, and totals add up
    assert summary.status == 200, summary.text
    days = summary.json["days"]
    assert len(days) == 14 and days[-1] == {"day": today.isoformat(), "clean": 1, "infected": 1, "rejected": 1}
    assert (summary.json["clean"], summary.json["infected"], summary.json["rejected"]) == (1, 1, 1)
    # another tenant's summary is its own; portal users may not read it; the range is bounded
    assert call(new_tenant().agent, "GET", SUMMARY).json["infected"] == 0
    assert call(tenant.portal_user(tenant.client()["id"]), "GET", SUMMARY).status == 403
    week = {"date_from": (today - timedelta(days=6)).isoformat(), "date_to": today.isoformat()}
    assert len(call(tenant.agent, "GET", SUMMARY, query=week).json["days"]) == 7
    too_long = {"date_from": (today - timedelta(days=100)).isoformat()}
    assert "date_from" in call(tenant.agent, "GET", SUMMARY, query=too_long).field_errors()
