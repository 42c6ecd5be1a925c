"""Meeting polls through the handlers, the CalendarMail consumer and the calendar sweep: voting links from
the emails, revotes, ranked results, locks, one booking under concurrency, reminders once to non-voters,
the organizer told, the deadline closing the poll, and links that reach only their own poll and tenant."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from shared import links
from shared.calendar.polls import Poll
from shared.support.surveys import links as survey_links
from tests.integration.api.calendar_helpers import poll, sweep, token_for
from tests.integration.api.harness import Tenant, call

POLL = "/calendar/meeting-polls/{poll_id}"
VOTE = f"{POLL}/vote"


def to(messages: list[dict], address: str) -> list[dict]:
    return [m for m in messages if address in m["destinations"]["ToAddresses"]]


def link_token(message: dict) -> str:
    url = re.search(r"https?://\S+/app/vote\?token=\S+", message["body"]).group(0)
    return parse_qs(urlparse(url).query)["token"][0]


def vote(poll_id: str, token: str, **choices: str):
    return call(None, "POST", VOTE, {"poll_id": poll_id}, body={"token": token, "choices": choices})


@pytest.fixture
def scene(tenant: Tenant):
    """Two contacts of a client, invited to a three-slot poll."""
    client = tenant.client("Initech")["id"]
    ann = tenant.contact(client, "Ann", email=f"ann@{tenant.id}.test")
    bob = tenant.contact(client, "Bob", email=f"bob@{tenant.id}.test")
    made = poll(tenant, [{"contact_id": ann["id"]}, {"contact_id": bob["id"]}], client_id=client)
    return made, ann, bob


def test_invitees_vote_by_their_links_a_revote_replaces_and_results_rank_the_slots(
    tenant: Tenant, scene, calendar_tap, sent_mail
):
    made, ann, bob = scene
    calendar_tap(tenant)
    calendar_tap(tenant)  # redelivered: no second invitation
    [to_ann], [to_bob] = to(sent_mail(), ann["email"]), to(sent_mail(), bob["email"])
    assert "S1: Tuesday 02 April 2030, 10:00 CEST" in to_ann["body"]

    # When both vote by their links (Bob if need be for the first slot), and Bob revotes
    assert vote(made["id"], link_token(to_ann), S1="yes", S2="yes", S3="no").status == 200
    first = vote(made["id"], link_token(to_bob), S1="if_need_be", S3="yes")
    assert first.status == 200 and first.json["choices"] == {"S1": "if_need_be", "S2": "no", "S3": "yes"}
    again = vote(made["id"], link_token(to_bob), S1="yes", S2="if_need_be", S3="no")
    assert again.status == 200, again.text

    # Then the results count each invitee once, by their last vote, best slot first
    results = call(tenant.agent, "GET", f"{POLL}/results", {"poll_id": made["id"]})
    assert results.status == 200, results.text
    ranked = [(s["slot_id"], s["yes"], s["if_need_be"], s["no"]) for s in results.json["slots"]]
    assert ranked == [("S1", 2, 0, 0), ("S2", 1, 1, 0), ("S3", 0, 0, 2)]
    assert results.json["slots"][0]["yes_by"] == ["Ann", "Bob"] and results.json["voters"] == 2
    # and Bob's link shows him the poll in its zone with his last votes
    ballot = call(None, "GET", f"{POLL}/ballot", {"poll_id": made["id"]}, query={"token": link_token(to_bob)})
    assert ballot.status == 200, ballot.text
    assert (ballot.json["invitee_name"], ballot.json["choices"]) == (
        "Bob",
        {"S1": "yes", "S2": "if_need_be", "S3": "no"},
    )
    assert ballot.json["slots"][0]["start_local"] == "2030-04-02T10:00:00+02:00"
    assert parse_qs(urlparse(re.search(r"\S+/app/vote\?\S+", to_bob["body"]).group(0)).query)["poll"] == [made["id"]]
    # and the organizer was told once that everyone has voted
    calendar_tap(tenant)
    told = [m for m in to(sent_mail(), tenant.agent.email) if m["subject"].startswith("Everyone has voted")]
    assert len(told) == 1 and "Best slot: S1" in told[0]["body"]


def test_a_link_votes_only_on_its_own_poll_and_tenant(tenant: Tenant, new_tenant, scene):
    made, _, _ = scene
    other = poll(tenant, [{"email": "x@example.test"}])
    elsewhere = new_tenant()
    foreign = poll(elsewhere, [{"email": "y@example.test"}])
    token = token_for(made, tenant)

    # A link for one poll on another poll of the tenant, or of another tenant: not found, nothing written
    vote(other["id"], token, S1="yes").problem(404)
    call(None, "GET", f"{POLL}/ballot", {"poll_id": other["id"]}, query={"token": token}).problem(404)
    fresh = call(None, "GET", f"{POLL}/ballot", {"poll_id": made["id"]}, query={"token": token})
    assert fresh.status == 200 and fresh.json["choices"] is None, fresh.text
    vote(foreign["id"], token, S1="yes").problem(404)
    vote(made["id"], token_for(foreign, elsewhere), S1="yes").problem(404)
    # a link altered, made for another purpose, or absent: refused
    assert "token" in vote(made["id"], token[:-2] + "AA", S1="yes").field_errors()
    survey = survey_links.issue_token(tenant.id, made["id"], datetime(2031, 1, 1).astimezone())
    assert "token" in vote(made["id"], survey, S1="yes").field_errors()
    assert "token" in call(None, "POST", VOTE, {"poll_id": made["id"]}, body={"choices": {}}).field_errors()
    # an unknown slot: refused
    assert "choices.S9" in vote(made["id"], token, S9="yes").field_errors()
    assert Poll.find(tenant.id, other["id"]).voters is None and Poll.find(elsewhere.id, foreign["id"]).voters is None
    assert Poll.find(tenant.id, made["id"]).voters is None
    # while the link, on its poll, as ?token=, votes
    reply = call(None, "POST", VOTE, {"poll_id": made["id"]}, body={"choices": {"S2": "yes"}}, query={"token": token})
    assert reply.status == 200 and reply.json["via"] == "link", reply.text


def test_slots_and_zone_lock_once_anyone_voted(tenant: Tenant, scene):
    made, _, _ = scene
    path = {"poll_id": made["id"]}
    moved = call(tenant.agent, "PATCH", POLL, path, body={"version": 1, "slots": [{"start": "2030-05-06T09:00"}]})
    assert moved.status == 200 and moved.json["slots"][0]["start_local"] == "2030-05-06T09:00:00+02:00", moved.text
    assert vote(made["id"], token_for(made, tenant), S1="yes").status == 200
    version = call(tenant.agent, "GET", POLL, path).json["version"]
    for change in (
        {"time_zone": "Europe/London"},
        {"slots": [{"start": "2030-05-07T09:00"}]},
        {"duration_minutes": 90},
    ):
        call(tenant.agent, "PATCH", POLL, path, body={"version": version, **change}).problem(409)
    renamed = call(tenant.agent, "PATCH", POLL, path, body={"version": version, "title": "Renamed"})
    assert renamed.status == 200 and renamed.json["title"] == "Renamed", renamed.text


def test_a_vote_after_close_or_deadline_is_409(tenant: Tenant, scene, monkeypatch):
    made, _, _ = scene
    token = token_for(made, tenant)
    monkeypatch.setattr("shared.calendar.polls.now", lambda: datetime.fromisoformat(made["deadline"]) + timedelta(1))
    vote(made["id"], token, S1="yes").problem(409)
    monkeypatch.undo()
    closed = call(tenant.agent, "POST", f"{POLL}/close", {"poll_id": made["id"]})
    assert closed.status == 200 and closed.json["status"] == "closed", closed.text
    vote(made["id"], token, S1="yes").problem(409)


def test_booking_twice_at_once_makes_one_appointment_with_every_invitee(tenant: Tenant, scene, calendar_tap, sent_mail):
    made, ann, bob = scene
    calendar_tap(tenant)

    def book():
        return call(tenant.agent, "POST", f"{POLL}/book", {"poll_id": made["id"]}, body={"slot": "S2"})

    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda _: book(), range(4)))
    assert sorted(r.status for r in replies) == [201, 409, 409, 409], [r.text for r in replies]
    [booked] = [r.json for r in replies if r.status == 201]
    assert booked["poll_id"] == made["id"] and booked["start_local"] == "2030-04-03T14:00:00+02:00"
    assert {a["email"] for a in booked["attendees"]} == {ann["email"], bob["email"]}
    listed = call(tenant.agent, "GET", "/calendar/appointments").json["items"]
    assert [a["id"] for a in listed] == [booked["id"]]
    assert call(tenant.agent, "GET", POLL, {"poll_id": made["id"]}).json["appointment_id"] == booked["id"]
    calendar_tap(tenant)
    assert all(m["attachments"] for m in to(sent_mail(), ann["email"]) if m["subject"].startswith("Invitation"))
    assert len([m for m in to(sent_mail(), bob["email"]) if m["subject"].startswith("Invitation")]) == 1


def test_a_reminder_reaches_only_non_voters_once_and_the_deadline_closes_the_poll(
    tenant, scene, calendar_tap, sent_mail
):
    made, _, bob = scene
    deadline = datetime.fromisoformat(made["deadline"])
    assert vote(made["id"], token_for(made, tenant, "001"), S1="yes", S2="if_need_be").status == 200
    calendar_tap(tenant)

    # When the sweep runs (twice) a day before the deadline
    assert sweep(deadline - timedelta(hours=23))["polls_reminded"] >= 1
    sweep(deadline - timedelta(hours=23))
    calendar_tap(tenant)
    calendar_tap(tenant)

    # Then only Bob, who has not voted, is reminded, once
    reminders = [m for m in sent_mail() if m["subject"].startswith("Reminder")]
    assert [m["destinations"]["ToAddresses"] for m in reminders] == [[bob["email"]]]
    assert link_token(reminders[0]) == link_token(to(sent_mail(), bob["email"])[0])

    # When the deadline passes
    assert sweep(deadline + timedelta(minutes=1))["polls_closed"] >= 1
    sweep(deadline + timedelta(minutes=2))
    calendar_tap(tenant)

    # Then the poll closed itself with the best slot, and the organizer was told which, once
    closed = call(tenant.agent, "GET", POLL, {"poll_id": made["id"]}).json
    assert (closed["status"], closed["closed_by"], closed["best_slot_id"]) == ("closed", "deadline", "S1")
    told = [m for m in to(sent_mail(), tenant.agent.email) if m["subject"].startswith("Voting closed")]
    assert len(told) == 1 and "Best slot: S1, Tuesday 02 April 2030, 10:00 CEST" in told[0]["body"]


def test_signed_in_invitees_vote_and_a_portal_user_sees_the_polls_that_invite_them(tenant: Tenant):
    client, other_client = tenant.client("Initech")["id"], tenant.client("Globex")["id"]
    portal = tenant.portal_user(client)
    contact = tenant.contact(client, "Portal Pete", email=f"pete@{tenant.id}.test", portal_user_id=portal.user_id)
    colleague = tenant.user("milton", "staff")
    # invited as their contact (another address than the one they sign in with) to another client's poll
    as_contact = poll(tenant, [{"contact_id": contact["id"]}, {"user_id": colleague.user_id}], client_id=other_client)
    # invited by the address they sign in with (another case), to a poll of no client
    by_email = poll(tenant, [{"email": portal.email.upper()}, {"email": "z@example.test"}])
    # not invited, though the poll is of their own client
    theirs_uninvited = poll(tenant, [{"email": "z@example.test"}], client_id=client)
    path = {"poll_id": as_contact["id"]}

    for user in (portal, colleague):
        reply = call(user, "POST", f"{POLL}/my-vote", path, body={"choices": {"S3": "yes"}})
        assert reply.status == 200 and reply.json["via"] == "signed_in", reply.text
    by_link_key = call(portal, "POST", f"{POLL}/my-vote", {"poll_id": by_email["id"]}, body={"choices": {"S1": "yes"}})
    assert by_link_key.status == 200 and by_link_key.json["invitee"] == "001", by_link_key.text
    call(tenant.agent, "POST", f"{POLL}/my-vote", path, body={"choices": {"S3": "yes"}}).problem(403)

    # The portal list is exactly the polls that invite them, newest first, a page at a time
    listed = call(portal, "GET", "/calendar/meeting-polls", query={"limit": "1"})
    assert [p["id"] for p in listed.json["items"]] == [by_email["id"]], listed.text
    rest = call(portal, "GET", "/calendar/meeting-polls", query={"limit": "1", "cursor": listed.json["next_cursor"]})
    assert [p["id"] for p in rest.json["items"]] == [as_contact["id"]]
    assert (
        call(portal, "GET", "/calendar/meeting-polls", query={"client_id": client}).json["items"][0]["id"]
        == (by_email["id"])
    )  # a client filter is not theirs to choose
    # and each shows them which invitee is theirs, and the others' names without their addresses
    shown = call(portal, "GET", POLL, path).json["invitees"]
    assert [(i["name"], i["email"], i["you"]) for i in shown] == [
        ("Portal Pete", f"pete@{tenant.id}.test", True),
        ("milton", None, False),
    ]
    assert call(portal, "GET", f"{POLL}/results", path).json["slots"][0]["yes"] == 2
    assert call(portal, "GET", f"{POLL}/results", {"poll_id": by_email["id"]}).status == 200

    # A poll that does not invite them is missing, even their own client's: not listed, not read, no vote
    uninvited = {"poll_id": theirs_uninvited["id"]}
    call(portal, "GET", POLL, uninvited).problem(404)
    call(portal, "GET", f"{POLL}/results", uninvited).problem(404)
    call(portal, "POST", f"{POLL}/my-vote", uninvited, body={"choices": {}}).problem(404)
    # while staff keep seeing every poll
    assert {as_contact["id"], by_email["id"], theirs_uninvited["id"]} <= {
        p["id"] for p in call(tenant.agent, "GET", "/calendar/meeting-polls", query={"limit": "100"}).json["items"]
    }


def test_a_portal_user_of_another_tenant_with_the_invited_address_sees_nothing(tenant: Tenant):
    other = Tenant()
    stranger = other.portal_user(other.client("Elsewhere")["id"], name="twin")
    invited = tenant.portal_user(tenant.client("Initech")["id"], name="twin")
    made = poll(tenant, [{"email": stranger.email}, {"email": invited.email}])

    assert call(stranger, "GET", "/calendar/meeting-polls").json["items"] == []
    for route in (POLL, f"{POLL}/results"):
        call(stranger, "GET", route, {"poll_id": made["id"]}).problem(404)
    call(stranger, "POST", f"{POLL}/my-vote", {"poll_id": made["id"]}, body={"choices": {}}).problem(404)
    assert [p["id"] for p in call(invited, "GET", "/calendar/meeting-polls").json["items"]] == [made["id"]]


def test_a_poll_of_a_hundred_portal_invitees_is_listed_for_each(tenant: Tenant):
    """More entries than one transaction holds beside the poll: the rest are put first, none missing."""
    people = [{"email": f"p{i:03d}@{tenant.id}.test"} for i in range(100)]
    made = poll(tenant, people, client_id=tenant.client("Initech")["id"])
    for i in (0, 97, 98, 99):
        reader = tenant.portal_user(tenant.client(f"C{i}")["id"], name=f"p{i:03d}")
        assert [p["id"] for p in call(reader, "GET", "/calendar/meeting-polls").json["items"]] == [made["id"]]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"slots": []}, "slots"),
        ({"slots": [{"start": "2030-04-02T10:00"}] * 2}, "slots[1]"),
        ({"slots": [{"start": f"2030-04-02T10:{m:02d}"} for m in range(51)]}, "slots"),
        ({"invitees": [{"email": f"p{i}@example.test"} for i in range(101)]}, "invitees"),
        ({"invitees": [{"email": "a@example.test"}, {"email": "A@example.test"}]}, "invitees[1]"),
        ({"deadline": "2020-01-01T00:00"}, "deadline"),
        ({"duration_minutes": 0}, "duration_minutes"),
    ],
)
def test_bad_polls_are_refused_with_the_field(tenant: Tenant, fields, field):
    body = {
        "title": "X",
        "time_zone": "Europe/Berlin",
        "slots": [{"start": "2030-04-02T10:00"}],
        "invitees": [{"email": "a@example.test"}],
        "deadline": "2030-03-30T12:00",
        **fields,
    }
    errors = call(tenant.agent, "POST", "/calendar/meeting-polls", body=body).field_errors()
    assert any(name.startswith(field) for name in errors), errors


def test_links_are_signed_for_the_vote_purpose_only(tenant: Tenant, scene):
    made, _, _ = scene
    grant = links.read("poll-vote", token_for(made, tenant, "002"), datetime.now().astimezone())
    assert (grant.tenant_id, grant.subject, grant.extra["invitee"]) == (tenant.id, made["id"], "002")
