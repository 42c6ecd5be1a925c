"""The web app in a real browser: Debian's Chromium, headless, driven by Playwright (no browser download:
scripts/bootstrap.sh installs the `chromium` package), with the launch flags of test_docs_browser.py.

Every page a test looks at goes through ``check``: axe-core (from the npm registry, web/node_modules) must find
no serious or critical violation, and a screenshot is written under ``.deskos/screenshots/``. A page that breaks
its Content-Security-Policy fails its test."""

from __future__ import annotations

import io
import json
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from infra.local import outbox
from tests.e2e.waits import PUMP_WAIT_SECONDS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# headless in a container: no sandbox, no GPU, and nothing the browser would fetch for itself
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / ".deskos" / "screenshots"
TIMEOUT_MS = 30_000  # how long an action or an assertion waits for the page (a deadline polled against, not a sleep)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
BLOCKING = {"serious", "critical"}
SURVEY_LINK = re.compile(r"\S+/app/survey\?token=\S+")
VOTE_LINK = re.compile(r"\S+/app/vote\?token=\S+")
UPLOAD_LINK = re.compile(r"\S+/app/upload\?token=\S+")


# the same deadline for expect()'s web-first assertions, which otherwise wait Playwright's default 5 s while actions
# wait 30: on CI's two busy cores an answer the assertion waits for (a count after the builder's debounce, a list
# after a reply) can take longer than 5 s without anything being wrong
expect.set_options(timeout=TIMEOUT_MS)


class Session:
    """One browser context (its own storage: a user of its own) and the CSP violations its pages reported."""

    def __init__(self, context: BrowserContext, base_url: str) -> None:
        self.context = context
        self.base_url = base_url
        self.csp_violations: list[str] = []
        self.page = context.new_page()
        self.page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.csp_violations.append(message.text)

    def open(self, path: str) -> Page:
        self.page.goto(f"{self.base_url}{path}")
        return self.page

    def sign_in(self, username: str, password: str, *, lands: str) -> Page:
        page = self.open("/app/")
        page.get_by_label("Email").fill(username)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**{lands}**")
        return page


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for a test module; each test opens contexts of its own (``session``)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()


def password_of(cloud: Any, username: str) -> str:
    """A demo user's password, as local.json lists it."""
    return next(u["password"] for u in cloud.details["users"] if u["username"] == username)


@contextmanager
def session(browser: Browser, base_url: str, *, phone: bool = False) -> Iterator[Session]:
    context = browser.new_context(viewport=PHONE if phone else DESKTOP, locale="en-GB", timezone_id="Europe/Berlin")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        opened = Session(context, base_url)
        yield opened
        assert not opened.csp_violations, opened.csp_violations
    finally:
        context.close()


def check(page: Page, name: str) -> None:
    """axe-core over the page as it is now (no serious or critical violation), then its screenshot."""
    expect(page.locator("main h1")).to_be_visible()
    page.evaluate(AXE.read_text(encoding="utf-8"))  # through DevTools: the page's CSP does not apply to it
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    blocking = [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    assert not blocking, f"{name}: {json.dumps(blocking, indent=1)}"


def png(folder: Path) -> str:
    """A small PNG screenshot to attach (``screenshot.png``), as a path for a file input."""
    path = folder / "screenshot.png"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (31, 78, 140)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return str(path)


def emailed_link(cloud: Any, link: re.Pattern[str], *, to: str | None = None, subject: str = "") -> str:
    """The first address like ``link`` in an email of the local outbox (sent to ``to``, with ``subject`` in its
    subject): what the recipient clicks. Waits for the email to be sent."""
    deadline = time.monotonic() + PUMP_WAIT_SECONDS
    while time.monotonic() < deadline:
        for message in outbox.messages(cloud.details["aws_endpoint_url"]):
            found = link.search(message.get("body") or "")
            addressed = to is None or to in message["destinations"]["ToAddresses"]
            if found and addressed and subject in (message.get("subject") or ""):
                return found.group(0)
        time.sleep(0.25)
    raise AssertionError(f"no email to {to or 'anyone'} about {subject!r} with a link like {link.pattern}")
