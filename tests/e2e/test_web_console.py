"""The staff console in a real browser: an agent assigns and resolves a client's ticket from the inbox, the
client answers the emailed survey on its page (once: the second use says so), and the dashboard shows the new
figure; a manager creates a client through the console generated from the OpenAPI document (the API's field
errors shown at their fields); the work-order board; what each role is offered."""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import SURVEY_LINK, TIMEOUT_MS, check, emailed_link, password_of, session
from tests.e2e.test_attachments import judged, upload
from tests.samples import EICAR

AGENT = "agent@demo.deskos.local"
MANAGER = "manager@demo.deskos.local"
PORTAL = "portal@acme.example"


@pytest.fixture
def urgent_sla(api, demo):
    """An SLA policy for urgent tickets (first response in an hour), removed afterwards."""
    created = api.post(
        "/support/sla-policies",
        as_=demo.manager,
        json={"name": "Web urgent", "order": 0, "targets": {"urgent": {"first_response": 60, "resolution": 480}}},
    )
    assert created.status_code == 201, created.text
    policy = created.json()
    yield policy
    api.request("DELETE", f"/support/sla-policies/{policy['id']}", as_=demo.manager, headers={"If-Match": '"1"'})


def this_weeks_nps(api, demo) -> dict:
    today = datetime.now(UTC).date()
    window = {"date_from": str(today - timedelta(days=6)), "date_to": str(today)}
    return api.get("/support/survey-responses/nps-summary", as_=demo.agent, params=window).json()


def ticket_figures(api, demo) -> dict:
    """The last 14 days' tickets opened, resolved and SLA breaches (the dashboard's day counters)."""
    reply = api.get("/support/tickets/summary", as_=demo.agent)
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_staff_resolve_from_the_inbox_the_client_answers_by_link_and_the_dashboard_moves(
    cloud, api, demo, browser, nps_survey, urgent_sla
):
    figures = ticket_figures(api, demo)
    ticket = api.create_ticket(demo.portal, subject="Laptop will not boot", priority="urgent")
    opened = ticket_figures(api, demo)
    before = this_weeks_nps(api, demo)
    # the client attaches an infected file, which the dashboard's uploads chart counts
    sent = upload(api, demo.portal, ticket["id"], "boot-log.pdf", EICAR, "application/pdf")
    assert judged(api, demo.agent, sent["id"])["status"] == "infected"

    with session(browser, cloud.api_url) as agent:
        page = agent.sign_in(AGENT, password_of(cloud, AGENT), lands="/app/console")
        page.get_by_role("link", name="Inbox").click()
        page.get_by_label("Priority").select_option("urgent")
        row = page.get_by_role("row").filter(has_text=ticket["number"])
        expect(row.locator(".badge[class*=sla-]")).to_contain_text("first response due in")
        check(page, "console-inbox")
        row.get_by_role("link").click()

        expect(page.get_by_role("heading", level=1)).to_contain_text("Laptop will not boot")
        page.get_by_role("button", name="Assign to me").click()
        expect(page.get_by_role("button", name="Assign to me")).to_have_count(0)
        page.get_by_label("Your reply").fill("Please hold the power button for 30 seconds.")
        page.get_by_role("button", name="Send reply").click()
        expect(page.locator(".comments")).to_contain_text("hold the power button")
        page.get_by_role("button", name="Resolve").click()
        expect(page.locator("article.ticket > p.meta")).to_contain_text("resolved")
        check(page, "console-ticket")
    assigned = api.get(f"/support/tickets/{ticket['id']}", as_=demo.agent).json()
    assert assigned["assignee_id"] == api.user_id(demo.agent)
    assert assigned["status"] == "resolved"
    # the day counters moved by what this test did: one opening, then one resolution
    resolved = ticket_figures(api, demo)
    assert (opened["opened"] - figures["opened"], opened["resolved"] - figures["resolved"]) == (1, 0)
    assert (resolved["opened"] - opened["opened"], resolved["resolved"] - opened["resolved"]) == (0, 1)

    link = emailed_link(cloud, SURVEY_LINK, subject=ticket["number"])  # the invitation, not a notification
    assert urlparse(link).netloc == urlparse(cloud.api_url).netloc
    with session(browser, cloud.api_url) as client:  # no sign-in: the link is the credential
        page = client.page
        page.goto(link)
        expect(page.get_by_role("heading", name="How did we do?")).to_be_visible()
        expect(page.get_by_role("group", name=nps_survey["question"])).to_be_visible()  # the survey's own question
        expect(page.get_by_role("radio")).to_have_count(11)  # NPS: 0 to 10, read from the signed token
        check(page, "link-survey")
        page.get_by_role("radio", name="9").check()
        page.get_by_label("Anything you would like to add?").fill("Quick and friendly")
        page.get_by_role("button", name="Send my answer").click()
        expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
        check(page, "link-survey-thanks")

        page.goto(link)
        page.get_by_role("radio", name="3").check()
        page.get_by_role("button", name="Send my answer").click()
        expect(page.get_by_role("heading", name="Already answered")).to_be_visible()

    after = this_weeks_nps(api, demo)
    assert after["responses"] == before["responses"] + 1
    with session(browser, cloud.api_url) as agent:
        page = agent.sign_in(AGENT, password_of(cloud, AGENT), lands="/app/console")
        # as the page rounds (Math.round: halves up; Python's round would take 12.5 to 12)
        expect(page.get_by_test_id("nps-now")).to_have_text(str(math.floor(after["nps"] + 0.5)))
        expect(page.locator(".tile").filter(has_text="Satisfaction")).to_contain_text(
            re.compile(rf"\({after['responses']} responses?\)")
        )
        expect(page.get_by_role("img", name="Tickets opened and resolved per day")).to_be_visible()
        expect(page.get_by_test_id("tickets-resolved")).to_have_text(str(ticket_figures(api, demo)["resolved"]))
        # uploads by scan outcome, from the scan's day counters: the infected file is among them
        infected = api.get("/attachments/scan-summary", as_=demo.agent).json()["infected"]
        assert infected >= 1
        expect(page.get_by_test_id("uploads-infected")).to_have_text(str(infected))
        expect(page.get_by_role("img", name="Uploads per day by scan outcome")).to_be_visible()
        check(page, "console-dashboard")


def test_a_page_left_before_its_code_arrived_never_replaces_the_next_one(cloud, browser):
    """The dashboard's code arrives after the agent has already moved on to the inbox (a slow network, a
    busy server): the inbox stays. CI once saw the late dashboard take the inbox's place."""
    with session(browser, cloud.api_url) as agent:
        held = []
        agent.context.route("**/assets/dashboard-*.js", lambda route: held.append(route))  # the dashboard's code waits
        with agent.page.expect_request("**/assets/dashboard-*.js"):
            page = agent.sign_in(AGENT, password_of(cloud, AGENT), lands="/app/console")
        page.get_by_role("link", name="Inbox").click()
        expect(page.get_by_label("Priority")).to_be_visible()

        dashboard = held[0].request.url
        with page.expect_response(dashboard):
            held[0].continue_()
        # the app's import of the dashboard settles before this one, then a render
        page.evaluate("async (url) => { await import(url); await new Promise((r) => setTimeout(r, 100)); }", dashboard)
        expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
        expect(page.get_by_label("Priority")).to_be_visible()


@pytest.mark.parametrize("held", ["the reply", "the ticket's re-read"])
def test_after_a_reply_the_actions_wait_for_the_tickets_new_version(cloud, api, demo, browser, held):
    """A reply makes a new version of the ticket (its SLA clock, its updated_at): an action sent with the version
    shown before would be refused as a conflicting change. The actions wait from the moment the reply is sent until
    the ticket is read again (each step here held back), then act on the new version. CI's agent once clicked
    Resolve between the reply and the ticket's new version; a new user's quick clicks once did while it was sent."""
    ticket = api.create_ticket(demo.portal, subject=f"Monitor flickers {time.time_ns()}")
    comments = re.compile(rf"/support/tickets/{ticket['id']}/comments$")
    own_url = re.compile(rf"/support/tickets/{ticket['id']}$")
    url, method = (comments, "POST") if held == "the reply" else (own_url, "GET")
    waiting = []
    with session(browser, cloud.api_url) as agent:
        page = agent.sign_in(AGENT, password_of(cloud, AGENT), lands="/app/console")
        agent.open(f"/app/console/tickets/{ticket['id']}")
        resolve = page.get_by_role("button", name="Resolve")
        expect(resolve).to_be_enabled()
        page.route(url, lambda r: waiting.append(r) if r.request.method == method and not waiting else r.continue_())

        page.get_by_label("Your reply").fill("Which cable does it use?")
        page.get_by_role("button", name="Send reply").click()
        if held == "the ticket's re-read":
            expect(page.locator(".comments")).to_contain_text("Which cable does it use?")
        expect(resolve).to_be_disabled()  # the version shown is the one before the reply
        for _ in range(TIMEOUT_MS // 50):  # the held request reaches its handler
            if waiting:
                break
            page.wait_for_timeout(50)
        with page.expect_response(url):
            waiting[0].continue_()
        resolve.click()  # as soon as it may: once the ticket's new version is shown
        expect(page.locator(".comments")).to_contain_text("Which cable does it use?")
        expect(page.locator("article.ticket > p.meta")).to_contain_text("resolved")
        expect(page.get_by_role("alert")).to_have_count(0)
    assert api.get(f"/support/tickets/{ticket['id']}", as_=demo.agent).json()["status"] == "resolved"


def test_a_manager_creates_a_client_through_the_generated_console(cloud, api, demo, browser):
    name = f"Initech {time.time_ns()}"
    with session(browser, cloud.api_url) as manager:
        page = manager.sign_in(MANAGER, password_of(cloud, MANAGER), lands="/app/console")
        resources = page.get_by_role("navigation", name="Resources")
        resources.get_by_text("Crm").click()
        resources.get_by_role("link", name="Clients").click()
        expect(page.get_by_role("heading", name="Clients", level=1)).to_be_visible()
        check(page, "console-clients")
        page.get_by_role("link", name="New client").click()

        # the API's own validation answers, field by field (the form leaves it to the API)
        page.get_by_label("Customer Type").fill("Not A Type!")
        page.get_by_role("button", name="Create").click()
        expect(page.locator(".field.invalid")).to_have_count(2)  # name missing, customer type malformed
        check(page, "console-new-client-errors")

        page.get_by_label("Name *").fill(name)
        page.get_by_label("Customer Type").fill("enterprise")
        page.get_by_label("Tags").fill("vip, north")
        page.get_by_role("button", name="Create").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        check(page, "console-client")

    found = [
        c for c in api.get("/crm/clients", as_=demo.manager, params={"limit": 100}).json()["items"] if c["name"] == name
    ]
    assert len(found) == 1 and found[0]["customer_type"] == "enterprise" and found[0]["tags"] == ["vip", "north"]


def test_each_role_is_offered_what_it_may_do_and_the_work_order_board_lists_by_status(cloud, api, demo, browser):
    made = api.post("/field-service/work-orders", as_=demo.agent, json={"type": "inspection", "notes": "Web board"})
    assert made.status_code == 201, made.text
    order = made.json()

    with session(browser, cloud.api_url) as agent:
        page = agent.sign_in(AGENT, password_of(cloud, AGENT), lands="/app/console")
        resources = page.get_by_role("navigation", name="Resources")
        expect(resources.get_by_text("Admin")).to_be_visible()  # settings: staff read them
        resources.get_by_text("Admin").click()
        expect(resources.get_by_role("link", name="Users")).to_have_count(0)  # managers only

        page.get_by_role("link", name="Work orders").click()
        column = page.get_by_role("region", name=re.compile("^new"))
        expect(column.get_by_text(order["number"])).to_be_visible()
        check(page, "console-board")

    with session(browser, cloud.api_url) as manager:
        page = manager.sign_in(MANAGER, password_of(cloud, MANAGER), lands="/app/console")
        resources = page.get_by_role("navigation", name="Resources")
        resources.get_by_text("Admin").click()
        resources.get_by_role("link", name="Users").click()
        expect(page.get_by_role("link", name="New user")).to_be_visible()

    with session(browser, cloud.api_url) as client:  # a portal user is sent to the portal, never the console
        page = client.sign_in(PORTAL, password_of(cloud, PORTAL), lands="/app/portal/tickets")
        client.open("/app/console/inbox").wait_for_url("**/app/portal/tickets")
