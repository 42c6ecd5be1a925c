"""Voting in a meeting poll from its emailed link, in a real browser with no sign-in: staff create a poll
over the API for two contacts, the link is taken from the outbox email, the slots read in the voter's own
time zone (the browser's Berlin, the poll's New York), a vote is cast and changed and the API's results show
the last one; an altered link and a closed poll say so. A portal user votes signed in from "My meeting polls"."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.e2e.browser import VOTE_LINK, check, emailed_link, password_of, session

NEW_YORK = ZoneInfo("America/New_York")
PORTAL = "portal@acme.example"


def create_poll(api, demo, *, zone: str, starts: list[str], invitees: list[dict], client_id: str, title: str) -> dict:
    """A poll by staff over the API, an hour per slot, open for two days."""
    created = api.post(
        "/calendar/meeting-polls",
        as_=demo.agent,
        json={
            "title": title,
            "duration_minutes": 60,
            "time_zone": zone,
            "slots": [{"start": start} for start in starts],
            "invitees": invitees,
            "deadline": (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "client_id": client_id,
        },
    )
    assert created.status_code == 201, created.text
    return created.json()


def test_a_contact_votes_by_the_emailed_link_changes_the_vote_and_staff_see_it(cloud, api, demo, browser):
    # Given staff poll two contacts of a client on two slots in New York's zone
    run = uuid.uuid4().hex[:8]
    client = api.post("/crm/clients", as_=demo.agent, json={"name": f"Vote client {run}"}).json()
    contacts = []
    for name in ("Ann", "Bob"):
        body = {"client_id": client["id"], "name": name, "email": f"{name.lower()}-{run}@vote.example"}
        made = api.post("/crm/contacts", as_=demo.agent, json=body)
        assert made.status_code == 201, made.text
        contacts.append(made.json())
    day = (datetime.now(NEW_YORK) + timedelta(days=4)).date()
    poll = create_poll(
        api,
        demo,
        zone="America/New_York",
        starts=[f"{day}T10:00", f"{day}T13:30"],
        invitees=[{"contact_id": c["id"]} for c in contacts],
        client_id=client["id"],
        title=f"Kick-off {run}",
    )
    berlin = {
        s["id"]: datetime.fromisoformat(s["start"]).astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M")
        for s in poll["slots"]
    }

    # the emailed link is the page's address, with the poll beside the token
    link = emailed_link(cloud, VOTE_LINK, to=contacts[0]["email"], subject="When can")  # not a reminder
    assert urlparse(link).netloc == urlparse(cloud.api_url).netloc
    assert urlparse(link).path == "/app/vote" and parse_qs(urlparse(link).query)["poll"] == [poll["id"]]

    with session(browser, cloud.api_url) as ann:  # no sign-in: the link is the credential
        page = ann.page
        page.goto(link)
        expect(page.get_by_role("heading", name=poll["title"])).to_be_visible()
        expect(page.get_by_text("Europe/Berlin")).to_be_visible()
        first, second = (page.get_by_role("group", name=re.compile(berlin[s])) for s in ("S1", "S2"))
        expect(first).to_contain_text("Yes")  # 10:00 in New York, named by its time in Berlin
        check(page, "link-vote")

        first.get_by_role("radio", name="Yes").check()
        second.get_by_role("radio", name="If need be").check()
        page.get_by_role("button", name="Send my vote").click()
        expect(page.get_by_role("heading", name="Thank you for voting")).to_be_visible()
        check(page, "link-vote-thanks")

        # When Ann changes her vote
        page.get_by_role("button", name="Change my vote").click()
        expect(first.get_by_role("radio", name="Yes")).to_be_checked()
        first.get_by_role("radio", name="No").check()
        second.get_by_role("radio", name="Yes").check()
        page.get_by_role("button", name="Send my vote").click()
        expect(page.get_by_role("heading", name="Thank you for voting")).to_be_visible()

        # Then the results count her last vote only, and her link shows it when opened again
        results = api.get(f"/calendar/meeting-polls/{poll['id']}/results", as_=demo.agent).json()
        assert results["voters"] == 1
        assert {s["slot_id"]: (s["yes"], s["if_need_be"]) for s in results["slots"]} == {"S1": (0, 0), "S2": (1, 0)}
        page.goto(link)
        expect(page.get_by_text("You have voted already")).to_be_visible()
        expect(second.get_by_role("radio", name="Yes")).to_be_checked()

        # an altered link says so
        page.goto(link.replace("token=", "token=x"))
        expect(page.get_by_role("alert")).to_contain_text("not valid")

        # When staff close the poll, the link says voting has closed
        current = api.get(f"/calendar/meeting-polls/{poll['id']}", as_=demo.agent).json()
        closed = api.post(
            f"/calendar/meeting-polls/{poll['id']}/close",
            as_=demo.agent,
            headers={"If-Match": f'"{current["version"]}"'},
        )
        assert closed.status_code == 200, closed.text
        page.goto(link)
        expect(page.get_by_role("heading", name="Voting has closed")).to_be_visible()
        check(page, "link-vote-closed")


def test_a_portal_user_votes_signed_in_from_my_meeting_polls(cloud, api, demo, browser):
    # Given staff poll the portal user of Acme (a user invitee) on one slot
    clients = api.get("/crm/clients", as_=demo.manager, params={"limit": 100}).json()["items"]
    acme = next(c for c in clients if c["name"].startswith("Acme"))
    day = (datetime.now(NEW_YORK) + timedelta(days=6)).date()
    poll = create_poll(
        api,
        demo,
        zone="Europe/Berlin",
        starts=[f"{day}T09:00"],
        invitees=[{"user_id": api.user_id(demo.portal)}],
        client_id=acme["id"],
        title=f"Portal review {uuid.uuid4().hex[:8]}",
    )

    with session(browser, cloud.api_url) as user:
        page = user.sign_in(PORTAL, password_of(cloud, PORTAL), lands="/app/portal")
        page.get_by_role("link", name="Meeting polls").click()
        card = page.get_by_role("region", name=poll["title"])
        expect(card).to_contain_text("voting closes")
        card.get_by_role("radio", name="If need be").check()
        check(page, "portal-polls")
        card.get_by_role("button", name="Send my vote").click()
        expect(card.get_by_role("status")).to_contain_text("Your vote was recorded")

    results = api.get(f"/calendar/meeting-polls/{poll['id']}/results", as_=demo.agent).json()
    assert [(s["yes"], s["if_need_be"], s["if_need_be_by"]) for s in results["slots"]] == [
        (0, 1, [poll["invitees"][0]["name"]])
    ]
