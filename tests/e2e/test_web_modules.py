"""The web app's screens for the modules that arrive after it, in a real browser; each test runs once its
module's routes are in the API's contract (the app shows the screen then, and only then): the portal user
completes an onboarding task and uploads a requested PDF that staff approve in the generated console; the
segment builder counts live; the template editor previews; the knowledge editor saves a version and shows the
change."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import check, password_of, session
from tests.e2e.waits import PUMP_WAIT_SECONDS

AGENT = "agent@demo.deskos.local"
MANAGER = "manager@demo.deskos.local"
PORTAL = "portal@acme.example"
SCAN_TIMEOUT_MS = 90_000
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n%%EOF\n"


@pytest.fixture(scope="module")
def paths(api) -> set[str]:
    return set(api.get("/openapi.json").json()["paths"])


def needs(paths: set[str], path: str) -> None:
    if path not in paths:
        pytest.skip(f"{path} is not in the API yet")


def acme_id(api, demo) -> str:
    clients = api.get("/crm/clients", as_=demo.agent, params={"limit": 100}).json()["items"]
    return next(c["id"] for c in clients if c["name"].startswith("Acme"))


def test_a_client_completes_onboarding_in_the_portal_and_staff_approve_the_document(
    cloud, api, demo, browser, paths, tmp_path
):
    needs(paths, "/onboarding/processes")
    stamp = time.time_ns()
    template = api.post(
        "/onboarding/templates",
        as_=demo.manager,
        json={
            "name": f"Web onboarding {stamp}",
            "tasks": [{"title": "Sign the engagement letter", "assignee_kind": "client"}],
            "documents": [{"name": "Passport copy", "required": True}],
        },
    )
    assert template.status_code == 201, template.text
    created = api.post(
        f"/onboarding/templates/{template.json()['id']}/create-process",
        as_=demo.agent,
        json={
            "client_id": acme_id(api, demo),
            "owner_id": api.user_id(demo.agent),
            "start_date": str(datetime.now(UTC).date()),
        },
    )
    assert created.status_code == 201, created.text
    process = created.json()
    started = api.post(f"/onboarding/processes/{process['id']}/start", as_=demo.agent)
    assert started.status_code == 200, started.text

    pdf = tmp_path / "passport.pdf"
    pdf.write_bytes(PDF)
    with session(browser, cloud.api_url) as client:
        page = client.sign_in(PORTAL, password_of(cloud, PORTAL), lands="/app/portal/tickets")
        page.get_by_role("link", name="Onboarding").click()
        card = page.get_by_role("region", name=process["name"])
        card.get_by_role("button", name="Mark done: Sign the engagement letter").click()
        expect(card.locator("li").filter(has_text="Sign the engagement letter")).to_contain_text("done")
        card.get_by_label("Upload Passport copy").set_input_files(str(pdf))
        document = card.locator("li").filter(has_text="Passport copy (required)")
        expect(document).to_contain_text("uploaded", timeout=SCAN_TIMEOUT_MS)  # once the scan found it clean
        check(page, "portal-onboarding")

    [document] = api.get("/onboarding/documents", as_=demo.agent, params={"process_id": process["id"]}).json()["items"]
    with session(browser, cloud.api_url) as staff:
        page = staff.sign_in(AGENT, password_of(cloud, AGENT), lands="/app/console")
        staff.open(f"/app/console/resource?path=%2Fonboarding%2Fdocuments&id={document['id']}")
        page.get_by_role("button", name="Approve").click()
        expect(page.locator("dl.fields")).to_contain_text("approved")
        check(page, "console-onboarding-document")


def test_the_segment_builder_counts_as_criteria_change_and_saves(cloud, api, demo, browser, paths):
    needs(paths, "/marketing/segments/fields")
    surname = f"Lovelace{time.time_ns()}"
    contact = api.post(
        "/crm/contacts",
        as_=demo.agent,
        json={
            "client_id": acme_id(api, demo),
            "name": f"Ada {surname}",
            "email": f"ada-{surname.lower()}@acme.example",
        },
    )
    assert contact.status_code == 201, contact.text
    with session(browser, cloud.api_url) as manager:
        page = manager.sign_in(MANAGER, password_of(cloud, MANAGER), lands="/app/console")
        page.get_by_role("link", name="Segments").click()
        page.get_by_label("Segment name").fill(f"Ada fans {surname}")
        page.get_by_label("Field").select_option("contact.name")
        page.get_by_label("Condition").select_option("contains")
        page.get_by_label("Value").fill(surname)
        expect(page.get_by_test_id("segment-count")).to_have_text("1")
        check(page, "console-segment-builder")
        page.get_by_role("button", name="Save segment").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Ada fans {surname}")


def test_the_template_editor_saves_and_previews_with_the_apis_rendering(cloud, api, demo, browser, paths):
    needs(paths, "/marketing/email-templates/{email_template_id}/preview")
    with session(browser, cloud.api_url) as manager:
        page = manager.sign_in(MANAGER, password_of(cloud, MANAGER), lands="/app/console")
        page.get_by_role("link", name="Email templates").click()
        page.locator("main table a").first.click()
        stamp = time.time_ns()  # the preview of this save, not of one before (the demo tenant's templates are shared)
        page.get_by_label("Subject").fill(f"Hello from {{{{ firm.name }}}} {stamp}")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_test_id("preview-subject")).to_have_text(re.compile(rf"^Hello from \S.* {stamp}$"))
        assert "{{" not in page.get_by_test_id("preview-subject").inner_text()
        check(page, "console-template-editor")


def test_the_knowledge_editor_saves_a_version_and_shows_what_changed(cloud, api, demo, browser, paths):
    needs(paths, "/knowledge/items/{item_id}/versions")
    made = api.post(
        "/knowledge/items",
        as_=demo.agent,
        json={"title": f"Reset a password {time.time_ns()}", "kind": "faq", "body": "Open the sign-in page."},
    )
    assert made.status_code == 201, made.text
    item = made.json()
    with session(browser, cloud.api_url) as agent:
        page = agent.sign_in(AGENT, password_of(cloud, AGENT), lands="/app/console")
        page.get_by_role("link", name="Knowledge").click()
        agent.open(f"/app/console/knowledge?id={item['id']}")
        page.get_by_label("Body (Markdown)").fill("Open the sign-in page.\n\nChoose **Forgot password**.")
        expect(page.get_by_role("region", name="Preview").locator("strong")).to_have_text("Forgot password")
        page.get_by_label("What changed (optional)").fill("The second step")
        page.get_by_role("button", name="Save as a new version").click()
        page.get_by_role("button", name="Changes in version 2").click()
        expect(page.locator(".diff .added").filter(has_text="Forgot password")).to_have_count(1)
        check(page, "console-knowledge-editor")


def test_published_articles_are_suggested_while_a_portal_user_types_a_subject(cloud, api, demo, browser, paths):
    needs(paths, "/knowledge/suggest")
    word = "".join(chr(ord("a") + int(d)) for d in str(time.time_ns())[-8:])  # one word no other item has
    made = api.post(
        "/knowledge/items",
        as_=demo.manager,
        json={
            "title": f"Toner {word} replacement",
            "kind": "faq",
            "body": f"Replace the {word} cartridge.",
            "visibility": "public",
        },
    )
    assert made.status_code == 201, made.text
    item = made.json()
    published = api.post(f"/knowledge/items/{item['id']}/publish", as_=demo.manager, json={"version": item["version"]})
    assert published.status_code == 200, published.text
    deadline = time.monotonic() + PUMP_WAIT_SECONDS
    while not api.get("/knowledge/suggest", as_=demo.portal, params={"q": word}).json()["items"]:
        assert time.monotonic() < deadline, "the search index never listed the published item"
        time.sleep(0.25)

    with session(browser, cloud.api_url) as client:
        page = client.sign_in(PORTAL, password_of(cloud, PORTAL), lands="/app/portal/tickets")
        page.get_by_role("link", name="New ticket").click()
        page.get_by_label("Subject").press_sequentially(f"My {word} is empty", delay=20)
        suggestions = page.get_by_role("complementary", name="Articles that may help")
        suggestions.get_by_role("link", name=f"Toner {word} replacement").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Toner {word} replacement")
        check(page, "portal-knowledge-article")
