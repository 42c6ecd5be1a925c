"""The calendar over real HTTP, as the issue's "done when" reads: a poll voted by emailed links, a reminder
to the one who has not voted, results ranked, one booking of two at once, real .ics invitations read back
with icalendar, two workflows run exactly once although the job runs twice, and a reschedule and a cancel.

Time is real here: the invitations, votes and bookings happen now; the sweep is run as EventBridge would fire
it later (``deskos schedule run CalendarSweep --at``) for what is due in days."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import icalendar
import pytest

from infra.local import outbox
from tests.e2e.waits import eventually

BERLIN = ZoneInfo("Europe/Berlin")


def mail_to(cloud, address: str, subject_start: str = "") -> list[dict]:
    return [
        m
        for m in outbox.messages(cloud.details["aws_endpoint_url"])
        if address in m["destinations"]["ToAddresses"] and m["subject"].startswith(subject_start)
    ]


def ics_of(message: dict) -> icalendar.Calendar:
    [part] = [a for a in message["attachments"] if a["filename"] == "invite.ics"]
    return icalendar.Calendar.from_ical(part["content"])


def token_in(message: dict) -> str:
    url = re.search(r"\S+/app/vote\?token=\S+", message["body"]).group(0)
    return parse_qs(urlparse(url).query)["token"][0]


def at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def people(api, demo) -> dict:
    """A client with two contacts of their own addresses (unique per run)."""
    run = uuid.uuid4().hex[:8]
    client = api.post("/crm/clients", as_=demo.agent, json={"name": f"Calendar client {run}"}).json()
    made = {"client": client}
    for name in ("ann", "bob"):
        body = {"client_id": client["id"], "name": name.title(), "email": f"{name}-{run}@calendar.example"}
        response = api.post("/crm/contacts", as_=demo.agent, json=body)
        assert response.status_code == 201, response.text
        made[name] = response.json()
    return made


@pytest.fixture
def workflows(api, demo) -> Iterator[dict]:
    """'24 hours before: email the attendees' (a marketing email template) and 'after the end: send the CSAT
    survey'; both deactivated afterwards, with the survey, so other tests' appointments and resolved tickets are
    left alone."""
    agenda = {
        "name": f"Meeting agenda {uuid.uuid4().hex[:8]}",
        "subject": "Tomorrow: {{ appointment.title }}",
        "html": "<p>Hello {{ contact.first_name }} of {{ client.name }}, see you {{ appointment.start }}.</p>",
    }
    template = api.post("/marketing/email-templates", as_=demo.manager, json=agenda)
    assert template.status_code == 201, template.text
    survey = api.post(
        "/support/surveys",
        as_=demo.manager,
        json={"name": "Meeting CSAT", "kind": "csat", "question": "How was our meeting?", "cooldown_days": 0},
    ).json()
    before = {
        "name": "Agenda a day ahead",
        "trigger": {"kind": "before_start", "minutes": 24 * 60},
        "filter": {"appointment_types": ["review"]},
        "actions": [{"kind": "email", "email_template_id": template.json()["id"]}],
    }
    after = {
        "name": "CSAT after the meeting",
        "trigger": {"kind": "after_end", "minutes": 0},
        "filter": {"appointment_types": ["review"]},
        "actions": [{"kind": "survey", "survey_id": survey["id"]}],
    }
    made = {}
    for key, body in (("before", before), ("after", after)):
        response = api.post("/calendar/meeting-workflows", as_=demo.manager, json=body)
        assert response.status_code == 201, response.text
        made[key] = response.json()
    yield made
    for key, body in (("before", before), ("after", after)):
        api.put(
            f"/calendar/meeting-workflows/{made[key]['id']}",
            as_=demo.manager,
            json={**body, "active": False, "version": made[key]["version"]},
        )
    api.patch(
        f"/support/surveys/{survey['id']}", as_=demo.manager, json={"version": survey["version"], "active": False}
    )


def sweep(deskos, moment: datetime) -> dict:
    """The calendar sweep as EventBridge would fire it at ``moment``; its summary (the command's last line)."""
    return json.loads(deskos("schedule", "run", "CalendarSweep", "--at", at(moment)).strip().splitlines()[-1])


def sweep_twice_at_once(deskos, moment: datetime) -> list[dict]:
    """Two runs of the sweep at ``moment`` side by side (as a retried or overlapping schedule may): their summaries."""
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda _: sweep(deskos, moment), range(2)))


def executions_of(api, demo, appointment_id: str) -> dict[str, dict]:
    response = api.get(
        "/calendar/meeting-workflow-executions", as_=demo.agent, params={"appointment_id": appointment_id}
    )
    assert response.status_code == 200, response.text
    return {e["workflow_id"]: e for e in response.json()["items"]}


def test_a_poll_voted_by_link_is_booked_once_with_invitations_and_workflows_run_once(
    api, demo, cloud, deskos, people, workflows
):
    ann, bob = people["ann"], people["bob"]
    day = (datetime.now(BERLIN) + timedelta(days=5)).date()
    slots = [{"start": f"{day}T10:00"}, {"start": f"{day}T14:00"}, {"start": f"{day + timedelta(days=1)}T09:00"}]
    deadline = datetime.now(UTC) + timedelta(days=3)

    # Given staff create a poll with three slots for two contacts
    created = api.post(
        "/calendar/meeting-polls",
        as_=demo.agent,
        json={
            "title": "Quarterly review",
            "duration_minutes": 60,
            "time_zone": "Europe/Berlin",
            "slots": slots,
            "invitees": [{"contact_id": ann["id"]}, {"contact_id": bob["id"]}],
            "deadline": at(deadline),
            "client_id": people["client"]["id"],
        },
    )
    assert created.status_code == 201, created.text
    poll = created.json()
    vote_path = f"/calendar/meeting-polls/{poll['id']}/vote"

    # When Ann votes by the link in her email
    [to_ann] = eventually(lambda: mail_to(cloud, ann["email"], "When can you meet?"), "Ann's voting link")
    [to_bob] = eventually(lambda: mail_to(cloud, bob["email"], "When can you meet?"), "Bob's voting link")
    voted = api.post(vote_path, json={"token": token_in(to_ann), "choices": {"S1": "yes", "S2": "yes"}})
    assert voted.status_code == 200, voted.text

    # and the job runs (twice at once) a day before the deadline
    sweep_twice_at_once(deskos, deadline - timedelta(hours=23))

    # Then the reminder reaches Bob, who has not voted, and not Ann
    [reminder] = eventually(lambda: mail_to(cloud, bob["email"], "Reminder"), "Bob's reminder")
    assert token_in(reminder) == token_in(to_bob)

    # When Bob votes if need be by his link, then revotes
    first = api.post(vote_path, json={"token": token_in(to_bob), "choices": {"S1": "if_need_be", "S3": "yes"}})
    again = api.post(vote_path, params={"token": token_in(to_bob)}, json={"choices": {"S1": "yes", "S2": "if_need_be"}})
    assert (first.status_code, again.status_code) == (200, 200), (first.text, again.text)

    # Then Bob's link shows him his last votes, and the results rank the slots by them
    ballot = api.get(f"/calendar/meeting-polls/{poll['id']}/ballot", params={"token": token_in(to_bob)})
    assert ballot.status_code == 200 and ballot.json()["choices"] == {"S1": "yes", "S2": "if_need_be", "S3": "no"}
    results = api.get(f"/calendar/meeting-polls/{poll['id']}/results", as_=demo.agent).json()
    assert [(s["slot_id"], s["yes"], s["if_need_be"]) for s in results["slots"]] == [
        ("S1", 2, 0),
        ("S2", 1, 1),
        ("S3", 0, 0),
    ]

    # When the best slot is booked twice at once
    def book():
        return api.post(
            f"/calendar/meeting-polls/{poll['id']}/book", as_=demo.agent, json={"slot": "S1", "type": "review"}
        )

    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda _: book(), range(2)))

    # Then one appointment is made, the other booking refused
    assert sorted(r.status_code for r in replies) == [201, 409], [r.text for r in replies]
    [appointment] = [r.json() for r in replies if r.status_code == 201]
    listed = api.get("/calendar/appointments", as_=demo.agent, params={"client_id": people["client"]["id"]}).json()
    assert [a["id"] for a in listed["items"] if a["poll_id"] == poll["id"]] == [appointment["id"]]

    # and both invitees get an .ics that icalendar reads back: the UID, the times, the attendees
    start = datetime.fromisoformat(appointment["start"])
    assert start == datetime.fromisoformat(f"{day}T10:00").replace(tzinfo=BERLIN)
    for person in (ann, bob):
        [invitation] = eventually(lambda p=person: mail_to(cloud, p["email"], "Invitation"), "the invitations")
        calendar = ics_of(invitation)
        [event] = calendar.events
        assert str(calendar["method"]) == "REQUEST"
        assert str(event["uid"]) == f"{appointment['id']}@demo.deskos" and int(event["sequence"]) == 0
        assert event.decoded("dtstart") == start and event.decoded("dtend") == start + timedelta(hours=1)
        attendees = {str(a).removeprefix("mailto:") for a in event["attendee"]}
        assert attendees == {ann["email"], bob["email"]}

    # When the workflows' executions are planned and the job runs twice at once when each is due
    planned = eventually(lambda: len(executions_of(api, demo, appointment["id"])) == 2, "the executions")
    assert planned
    end = datetime.fromisoformat(appointment["end"])
    for moment in (start - timedelta(hours=24) + timedelta(minutes=1), end + timedelta(minutes=1)):
        runs = sweep_twice_at_once(deskos, moment)
        assert sorted(r["executions_done"] for r in runs) == [0, 1], runs

    # Then each ran exactly once: one agenda email and one CSAT invitation to each attendee
    executions = executions_of(api, demo, appointment["id"])
    assert {e["status"] for e in executions.values()} == {"done"}
    assert all(e["attempts"] == 1 for e in executions.values())
    for person in (ann, bob):
        [agenda] = mail_to(cloud, person["email"], "Tomorrow: Quarterly review")
        assert f"Hello {person['name']} of {people['client']['name']}, see you " in agenda["body"]
        assert len(mail_to(cloud, person["email"], "How did we do? (Quarterly review)")) == 1
    assert len(mail_to(cloud, ann["email"], "Reminder")) == 0
    assert len(mail_to(cloud, bob["email"], "Reminder")) == 1


def test_a_reschedule_moves_the_pending_execution_and_a_cancel_skips_it_and_sends_method_cancel(
    api, demo, cloud, people, workflows
):
    ann = people["ann"]
    day = (datetime.now(BERLIN) + timedelta(days=10)).date()
    made = api.post(
        "/calendar/appointments",
        as_=demo.agent,
        json={
            "title": "Contract review",
            "type": "review",
            "start": f"{day}T10:00",
            "end": f"{day}T11:00",
            "time_zone": "Europe/Berlin",
            "client_id": people["client"]["id"],
            "attendees": [{"contact_id": ann["id"]}],
        },
    )
    assert made.status_code == 201, made.text
    appointment = made.json()
    reminder_id = workflows["before"]["id"]
    pending = eventually(lambda: executions_of(api, demo, appointment["id"]).get(reminder_id), "the execution")
    assert pending["status"] == "pending"

    # When it moves a day later
    moved = api.patch(
        f"/calendar/appointments/{appointment['id']}",
        as_=demo.agent,
        json={
            "version": appointment["version"],
            "start": f"{day + timedelta(days=1)}T10:00",
            "end": f"{day + timedelta(days=1)}T11:00",
        },
    )
    assert moved.status_code == 200 and moved.json()["sequence"] == 1, moved.text

    # Then the pending execution moves with it
    later = datetime.fromisoformat(pending["due_at"]) + timedelta(days=1)
    eventually(
        lambda: datetime.fromisoformat(executions_of(api, demo, appointment["id"])[reminder_id]["due_at"]) == later,
        "the execution to move",
    )

    # When it is cancelled
    cancelled = api.post(f"/calendar/appointments/{appointment['id']}/cancel", as_=demo.agent)
    assert cancelled.status_code == 200, cancelled.text

    # Then the execution is skipped and Ann's calendar gets METHOD:CANCEL for the same event
    eventually(lambda: executions_of(api, demo, appointment["id"])[reminder_id]["status"] == "skipped", "the skip")
    [cancel] = eventually(lambda: mail_to(cloud, ann["email"], "Cancelled: Contract review"), "the cancel")
    calendar = ics_of(cancel)
    [event] = calendar.events
    assert str(calendar["method"]) == "CANCEL" and int(event["sequence"]) == 2
    assert str(event["uid"]) == f"{appointment['id']}@demo.deskos"
