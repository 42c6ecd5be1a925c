"""/docs in a real browser: Debian's Chromium, headless, driven by Playwright (its own browser builds are not
installed: scripts/bootstrap.sh installs the `chromium` package). The page renders the OpenAPI 3.1 document,
loads nothing from outside the local API, and "Authorize" with a bearer token makes "Try it out" work."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.e2e.browser import CHROMIUM, FLAGS

RENDER_TIMEOUT_MS = 30_000


@pytest.fixture
def page(tmp_path) -> Iterator[Page]:
    with sync_playwright() as playwright:
        # a new, empty profile (--user-data-dir) for every test
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        browser.set_default_timeout(RENDER_TIMEOUT_MS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_the_docs_page_lists_the_ticket_operations_from_local_assets_only(api, page):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{api.base_url}/docs")
    page.wait_for_selector('.opblock-summary-path[data-path="/support/tickets"]')

    listed = {
        (block.locator(".opblock-summary-method").inner_text(), block.locator(".opblock-summary-path").inner_text())
        for block in page.locator(".opblock-summary").all()
    }
    assert {
        ("GET", "/support/tickets"),
        ("POST", "/support/tickets"),
        ("GET", "/support/tickets/{ticket_id}"),
        ("PATCH", "/support/tickets/{ticket_id}"),
        ("GET", "/support/tickets/by-number/{number}"),
    } <= listed, listed
    assert page.locator(".errors-wrapper").count() == 0, page.locator(".errors-wrapper").inner_text()
    assert {urlparse(url).netloc for url in requested} == {urlparse(api.base_url).netloc}, requested


def test_authorize_with_a_bearer_token_then_try_it_out_calls_the_api_as_that_user(api, demo, page):
    page.goto(f"{api.base_url}/docs")
    page.click("button.authorize")
    page.fill(".modal-ux input", demo.agent)
    page.click(".modal-ux .auth-btn-wrapper button.authorize")
    page.click(".modal-ux button.btn-done")

    page.click('.opblock-summary-path[data-path="/me"]')
    page.click(".try-out__btn")
    with page.expect_response(lambda response: urlparse(response.url).path == "/me") as answered:
        page.click("button.execute")

    response = answered.value
    assert response.request.headers["authorization"] == f"Bearer {demo.agent}"
    assert response.status == 200, response.text()
    assert response.json()["user_id"] == api.user_id(demo.agent)
