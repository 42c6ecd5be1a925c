"""The issue's "done when" as one walk in a real browser, taken as a new user would on the cloud `make up` starts:
the portal user opens /app/, signs in and opens a ticket with a PNG (its thumbnail once the scan passed it); staff,
in a browser of their own, start a survey, resolve the ticket from the inbox and poll the client for a meeting,
all through the console; the portal user answers the survey from the link in the outbox email and votes from the
poll's emailed link. No API call makes a user's step; axe-core checks every page and each is screenshotted
(``.deskos/screenshots/walk-*.png``)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import SURVEY_LINK, VOTE_LINK, check, emailed_link, password_of, png, session

PORTAL = "portal@acme.example"
MANAGER = "manager@demo.deskos.local"
SCAN_TIMEOUT_MS = 90_000


@pytest.fixture
def walk() -> str:
    """What makes this run's survey, ticket and poll its own among the demo tenant's."""
    return str(time.time_ns())


@pytest.fixture
def survey_ended(api, demo, walk) -> Iterator[None]:
    """The survey the walk starts is stopped afterwards, so that other tests' resolved tickets invite nobody."""
    yield
    surveys = api.get("/support/surveys", as_=demo.manager, params={"limit": 100}).json()["items"]
    for survey in (s for s in surveys if s["name"].endswith(walk) and s["active"]):
        stopped = {"version": survey["version"], "active": False}
        api.patch(f"/support/surveys/{survey['id']}", as_=demo.manager, json=stopped)


def open_resource(page: Page, module: str, resource: str) -> None:
    """The console's generated screen of a resource, through the Resources navigation."""
    resources = page.get_by_role("navigation", name="Resources")
    resources.locator("summary").get_by_text(module, exact=True).click()
    resources.get_by_role("link", name=resource, exact=True).click()
    expect(page.get_by_role("heading", name=resource, level=1)).to_be_visible()


def test_a_new_user_takes_the_done_when_walk_in_the_browser(cloud, api, demo, browser, tmp_path, walk, survey_ended):
    with session(browser, cloud.api_url) as client, session(browser, cloud.api_url) as staff:
        # The portal user opens the app and signs in
        page = client.sign_in(PORTAL, password_of(cloud, PORTAL), lands="/app/portal/tickets")
        check(page, "walk-portal-tickets")

        # and opens a ticket with a screenshot, whose thumbnail appears once the scan passed it
        page.get_by_role("link", name="New ticket").click()
        page.get_by_label("Subject").fill(f"The invoice page is blank {walk}")
        page.get_by_label("Description").fill("Since Monday the invoice page shows nothing; screenshot attached.")
        page.get_by_label("Attachments").set_input_files(png(tmp_path))
        check(page, "walk-portal-new-ticket")
        page.get_by_role("button", name="Open ticket").click()
        page.wait_for_url(re.compile(r"/app/portal/tickets/[0-9A-Z]+$"))
        expect(page.get_by_role("img", name="Preview of screenshot.png")).to_be_visible(timeout=SCAN_TIMEOUT_MS)
        number = page.locator("main h1 .number").inner_text()
        check(page, "walk-portal-ticket")

        # Staff start a survey of resolved tickets in the console (no cooldown: the demo user was asked before)
        console = staff.sign_in(MANAGER, password_of(cloud, MANAGER), lands="/app/console")
        open_resource(console, "Surveys", "Surveys")
        console.get_by_role("link", name="New survey").click()
        console.get_by_label("Name *").fill(f"After resolve {walk}")
        console.get_by_label("Kind *").select_option("nps")
        console.get_by_label("Question *").fill("How likely are you to recommend us to a friend?")
        console.get_by_label("Cooldown Days").fill("0")
        check(console, "walk-console-new-survey")
        console.get_by_role("button", name="Create").click()
        expect(console.get_by_role("heading", level=1)).to_have_text(f"After resolve {walk}")

        # and resolve the ticket from the inbox
        console.get_by_role("link", name="Inbox").click()
        console.get_by_label("Status").select_option("new")
        row = console.get_by_role("row").filter(has_text=number)
        expect(row).to_be_visible()
        check(console, "walk-console-inbox")
        row.get_by_role("link").click()
        expect(console.get_by_role("heading", level=1)).to_contain_text(number)
        console.get_by_role("button", name="Resolve").click()
        expect(console.locator("article.ticket > p.meta")).to_contain_text("resolved")
        check(console, "walk-console-ticket")

        # The portal user answers the survey from the link in the invitation email
        page.goto(emailed_link(cloud, SURVEY_LINK, subject=number))
        expect(page.get_by_role("heading", name="How did we do?")).to_be_visible()
        page.get_by_role("radio", name="10").check()
        check(page, "walk-link-survey")
        page.get_by_role("button", name="Send my answer").click()
        expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
        check(page, "walk-link-survey-thanks")

        # Staff poll the client for a meeting through the generated console
        title = f"Invoice walkthrough {walk}"
        days = [datetime.now(UTC).date() + timedelta(days=n) for n in (5, 6)]
        open_resource(console, "Calendar", "Meeting polls")
        console.get_by_role("link", name="New meeting poll").click()
        console.get_by_label("Title *").fill(title)
        console.get_by_label("Duration Minutes").fill("45")
        console.get_by_label("Time Zone *").fill("Europe/Berlin")
        console.get_by_label("Slots *").fill(json.dumps([{"start": f"{day}T10:00"} for day in days]))
        console.get_by_label("Invitees *").fill(json.dumps([{"email": PORTAL, "name": "Acme portal user"}]))
        console.get_by_label("Deadline *").fill(f"{days[0] - timedelta(days=2)}T17:00")
        check(console, "walk-console-new-poll")
        console.get_by_role("button", name="Create").click()
        expect(console.get_by_role("heading", level=1)).to_have_text(title)
        check(console, "walk-console-poll")

        # The portal user votes from the poll's emailed link
        page.goto(emailed_link(cloud, VOTE_LINK, to=PORTAL, subject=f"When can you meet? {title}"))
        expect(page.get_by_role("heading", name=title)).to_be_visible()
        slots = page.get_by_role("group", name=re.compile("10:00"))
        expect(slots).to_have_count(2)
        slots.first.get_by_role("radio", name="Yes").check()
        slots.last.get_by_role("radio", name="If need be").check()
        check(page, "walk-link-vote")
        page.get_by_role("button", name="Send my vote").click()
        expect(page.get_by_role("heading", name="Thank you for voting")).to_be_visible()
        check(page, "walk-link-vote-thanks")

    # What the walk did is what the API holds
    ticket = api.get(f"/support/tickets/by-number/{number}", as_=demo.manager).json()  # (not a page of the shared list)
    assert ticket["status"] == "resolved" and ticket["subject"].endswith(walk)
    polls = api.get("/calendar/meeting-polls", as_=demo.manager, params={"limit": 100}).json()["items"]
    [poll] = [p for p in polls if p["title"] == title]
    results = api.get(f"/calendar/meeting-polls/{poll['id']}/results", as_=demo.manager).json()
    assert results["voters"] == 1
    assert [(s["yes"], s["if_need_be"]) for s in results["slots"]] == [(1, 0), (0, 1)]
