"""Answering a document request from its emailed link, in a real browser with no sign-in: staff start an
onboarding process for the demo client, the welcome email in the outbox carries the document's upload link, the
page shows the request, a PNG goes up with a progress bar and the page follows the scan until it is clean; staff
see the document uploaded. An altered link says so."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlparse

from playwright.sync_api import expect

from tests.e2e.browser import UPLOAD_LINK, check, emailed_link, session
from tests.samples import png

SCAN_TIMEOUT_MS = 90_000
PORTAL = "portal@acme.example"


def test_a_client_uploads_a_requested_document_by_the_emailed_link(cloud, api, demo, browser, tmp_path):
    # Given a started process for Acme that asks for one document
    stamp = time.time_ns()
    name, wanted = f"Link onboarding {stamp}", f"Proof of address {stamp}"
    template = api.post(
        "/onboarding/templates",
        as_=demo.manager,
        json={"name": name, "documents": [{"name": wanted, "description": "A utility bill will do."}]},
    )
    assert template.status_code == 201, template.text
    clients = api.get("/crm/clients", as_=demo.agent, params={"limit": 100}).json()["items"]
    acme = next(c["id"] for c in clients if c["name"].startswith("Acme"))
    body = {"client_id": acme, "owner_id": api.user_id(demo.agent), "start_date": str(datetime.now(UTC).date())}
    created = api.post(f"/onboarding/templates/{template.json()['id']}/create-process", as_=demo.agent, json=body)
    assert created.status_code == 201, created.text
    process = created.json()
    assert api.post(f"/onboarding/processes/{process['id']}/start", as_=demo.agent).status_code == 200

    # the welcome email links to the upload page, on the app's own origin
    link = emailed_link(cloud, UPLOAD_LINK, to=PORTAL, subject=f"Welcome aboard: {process['name']}")
    assert urlparse(link).netloc == urlparse(cloud.api_url).netloc and urlparse(link).path == "/app/upload"
    image = tmp_path / "bill.png"
    image.write_bytes(png(64, 48))

    with session(browser, cloud.api_url) as client:  # no sign-in: the link is the credential
        page = client.page
        page.goto(link)
        expect(page.get_by_role("heading", name=f"Upload: {wanted}")).to_be_visible()
        expect(page.get_by_text("A utility bill will do.")).to_be_visible()
        check(page, "link-upload")

        # When the client uploads a PNG
        page.get_by_label("Your file").set_input_files(str(image))
        page.get_by_role("button", name="Upload").click()

        # Then the page follows the scan until the file is clean and the document received
        expect(page.get_by_text("Thank you: your document was received.")).to_be_visible(timeout=SCAN_TIMEOUT_MS)
        expect(page.locator("li").filter(has_text="bill.png")).to_contain_text("clean")
        check(page, "link-upload-received")

        # an altered link says so
        page.goto(link.replace("token=", "token=x"))
        expect(page.get_by_role("alert")).to_contain_text("not valid")

    [document] = api.get("/onboarding/documents", as_=demo.agent, params={"process_id": process["id"]}).json()["items"]
    assert document["status"] == "uploaded" and document["attachment_id"]
