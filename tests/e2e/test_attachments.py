"""Uploads over real HTTP against `deskos up`: presigned POST to the local S3, the S3 -> SQS notification
and the event pump feed the scan function (real ClamAV, with the signatures `deskos up` chose: test signatures
on a machine without official ones), then downloads by presigned GET."""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.e2e.waits import PUMP_WAIT_SECONDS
from tests.samples import EICAR, WINDOWS_EXE, png


def start_upload(api, as_: str, ticket_id: str, name: str, content: bytes, content_type: str) -> requests.Response:
    body = {"original_filename": name, "content_type": content_type, "size": len(content)}
    return api.post(f"/support/tickets/{ticket_id}/attachments", as_=as_, json=body)


def upload(api, as_: str, ticket_id: str, name: str, content: bytes, content_type: str) -> dict[str, Any]:
    started = start_upload(api, as_, ticket_id, name, content, content_type)
    assert started.status_code == 201, started.text
    post = started.json()["upload"]
    sent = requests.post(post["url"], data=post["fields"], files={"file": (name, content)}, timeout=15)
    assert sent.status_code == 204, sent.text
    return started.json()["attachment"]


def judged(api, as_: str, attachment_id: str) -> dict[str, Any]:
    """The attachment once the scan has decided (polled: the pump delivers within a second or so)."""
    deadline = time.monotonic() + PUMP_WAIT_SECONDS
    while True:
        current = api.get(f"/attachments/{attachment_id}", as_=as_)
        assert current.status_code == 200, current.text
        if current.json()["status"] != "pending_scan" or time.monotonic() > deadline:
            return current.json()
        time.sleep(0.2)


def test_a_portal_png_is_scanned_clean_thumbnailed_and_downloads_with_its_name(api, demo):
    ticket = api.create_ticket(demo.portal, subject="Broken screen")
    content = png(800, 600)

    attachment = judged(
        api, demo.portal, upload(api, demo.portal, ticket["id"], "screen.png", content, "image/png")["id"]
    )

    assert (attachment["status"], attachment["thumbnail_available"]) == ("clean", True), attachment
    assert api.get(f"/attachments/{attachment['id']}/thumbnail", as_=demo.portal).status_code == 200
    link = api.get(f"/attachments/{attachment['id']}/download", as_=demo.agent)
    assert link.status_code == 200, link.text
    got = requests.get(link.json()["url"], timeout=15)
    assert got.content == content
    assert 'filename="screen.png"' in got.headers["Content-Disposition"]
    after = api.get(f"/attachments/{attachment['id']}", as_=demo.agent).json()
    assert after["download_count"] == attachment["download_count"] + 1


def test_eicar_as_invoice_pdf_ends_infected_and_cannot_be_downloaded(api, demo):
    ticket = api.create_ticket(demo.portal, subject="Invoice")

    attachment = judged(
        api, demo.agent, upload(api, demo.portal, ticket["id"], "invoice.pdf", EICAR, "application/pdf")["id"]
    )

    assert attachment["status"] == "infected", attachment
    refused = api.get(f"/attachments/{attachment['id']}/download", as_=demo.agent)
    assert refused.status_code == 409 and refused.json()["attachment_status"] == "infected"


def test_a_windows_executable_named_photo_jpg_ends_rejected(api, demo):
    ticket = api.create_ticket(demo.agent, subject="Photo")

    attachment = judged(
        api, demo.agent, upload(api, demo.agent, ticket["id"], "photo.jpg", WINDOWS_EXE, "image/jpeg")["id"]
    )

    assert attachment["status"] == "rejected", attachment


def test_s3_refuses_a_file_larger_or_smaller_than_declared(api, demo):
    ticket = api.create_ticket(demo.agent, subject="Big file")
    post = start_upload(api, demo.agent, ticket["id"], "notes.txt", b"small", "text/plain").json()["upload"]

    larger = requests.post(post["url"], data=post["fields"], files={"file": b"small!"}, timeout=60)
    smaller = requests.post(post["url"], data=post["fields"], files={"file": b"smal"}, timeout=60)

    assert larger.status_code == 400 and "EntityTooLarge" in larger.text
    assert smaller.status_code == 400 and "EntityTooSmall" in smaller.text


def test_another_tenant_cannot_list_download_or_learn_of_an_attachment(api, demo, other_tenant):
    ticket = api.create_ticket(demo.agent, subject="Private")
    attachment = upload(api, demo.agent, ticket["id"], "notes.txt", b"secret\n", "text/plain")

    for path in (
        f"/support/tickets/{ticket['id']}/attachments",
        f"/attachments/{attachment['id']}",
        f"/attachments/{attachment['id']}/download",
        f"/attachments/{attachment['id']}/thumbnail",
    ):
        assert api.get(path, as_=other_tenant.manager_token).status_code == 404, path
