"""Meeting workflows through the handlers, the MeetingWorkflows consumer and the calendar sweep: executions
planned per appointment, run exactly once however often the sweep runs, moved by a reschedule, skipped by a
cancel (which fires the ``cancelled`` ones), retried with backoff and then failed with the error."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import unquote

import pytest

from shared.calendar import executions
from tests.integration.api import onboarding_helpers
from tests.integration.api.calendar_helpers import appointment, sweep, workflow
from tests.integration.api.harness import Tenant, call

WORKFLOWS = "/calendar/meeting-workflows"
EXECUTIONS = "/calendar/meeting-workflow-executions"
DAY = 24 * 60


def subjects_to(messages: list[dict], address: str) -> list[str]:
    return [m["subject"] for m in messages if address in m["destinations"]["ToAddresses"]]


def executions_of(tenant: Tenant, **query: str) -> list[dict]:
    reply = call(tenant.agent, "GET", EXECUTIONS, query=query)
    assert reply.status == 200, reply.text
    return reply.json["items"]


def one_execution(tenant: Tenant, appointment_id: str, workflow_id: str) -> dict:
    reply = call(tenant.agent, "GET", f"{EXECUTIONS}/{{execution_id}}", {"execution_id": appointment_id + workflow_id})
    assert reply.status == 200, reply.text
    return reply.json


def csat(tenant: Tenant) -> dict:
    body = {"name": "Meeting CSAT", "kind": "csat", "question": "How was the meeting?", "cooldown_days": 0}
    reply = call(tenant.manager, "POST", "/support/surveys", body=body)
    assert reply.status == 201, reply.text
    return reply.json


@pytest.fixture
def scene(tenant: Tenant, calendar_tap):
    """'24 hours before: email the attendees' and 'after the end: send the CSAT survey', and an appointment
    with a contact of a client, planned."""
    reminder = workflow(tenant)
    survey = csat(tenant)
    after = workflow(
        tenant,
        name="CSAT after",
        trigger={"kind": "after_end", "minutes": 0},
        actions=[{"kind": "survey", "survey_id": survey["id"]}],
    )
    client = tenant.client("Initech")["id"]
    contact = tenant.contact(client, "Peter", email=f"peter@{tenant.id}.test")
    made = appointment(tenant, client_id=client, attendees=[{"contact_id": contact["id"]}])
    calendar_tap(tenant)
    return reminder, after, made, contact


def test_each_due_execution_runs_exactly_once_however_often_the_job_runs(tenant, scene, calendar_tap, sent_mail):
    reminder, after, made, contact = scene
    start, end = datetime.fromisoformat(made["start"]), datetime.fromisoformat(made["end"])

    # Then the appointment has one pending execution per workflow, due at its trigger time
    planned = {e["workflow_id"]: e for e in executions_of(tenant, appointment_id=made["id"])}
    assert planned[reminder["id"]]["status"] == "pending"
    assert datetime.fromisoformat(planned[reminder["id"]]["due_at"]) == start - timedelta(days=1)
    assert datetime.fromisoformat(planned[after["id"]]["due_at"]) == end
    calendar_tap(tenant)  # (a redelivery plans nothing more)
    assert len(executions_of(tenant, appointment_id=made["id"])) == 2

    # When the job runs before anything is due, then twice when the reminder is, then twice after the end
    assert sweep(start - timedelta(days=1, minutes=1))["executions_done"] == 0
    runs = [sweep(start - timedelta(days=1) + timedelta(seconds=s)) for s in (5, 6)]
    assert [r["executions_done"] for r in runs] == [1, 0]
    runs = [sweep(end + timedelta(seconds=s)) for s in (5, 6)]
    assert [r["executions_done"] for r in runs] == [1, 0]

    # Then the attendee got the templated email once, with the time in the meeting's zone, and the survey once
    assert subjects_to(sent_mail(), contact["email"]).count("Tomorrow: Kick-off") == 1
    [email] = [m for m in sent_mail() if m["subject"] == "Tomorrow: Kick-off"]
    assert email["body"].startswith("Tuesday 02 April 2030, 10:00 CEST (Europe/Berlin) - 11:00")
    assert subjects_to(sent_mail(), contact["email"]).count("How did we do? (Kick-off)") == 1
    done = one_execution(tenant, made["id"], after["id"])
    assert (done["status"], done["attempts"], done["result"][0]["invited"]) == ("done", 1, [contact["email"]])
    assert one_execution(tenant, made["id"], reminder["id"])["result"][0]["sent_to"] == [contact["email"]]
    assert [e["status"] for e in executions_of(tenant, status="done")] == ["done", "done"]
    # and the contact's answer by the survey link is recorded against the meeting
    [invitation] = [m for m in sent_mail() if m["subject"] == "How did we do? (Kick-off)"]
    token = re.search(r"token=(\S+)", invitation["body"]).group(1)
    answer = call(None, "POST", "/support/survey-responses", body={"score": 5}, query={"token": unquote(token)})
    assert answer.status == 201, answer.text
    assert (answer.json["appointment_id"], answer.json["ticket_id"]) == (made["id"], None)


def test_a_reschedule_moves_the_pending_executions(tenant, scene, calendar_tap):
    reminder, _, made, _ = scene
    reply = call(
        tenant.agent,
        "PATCH",
        "/calendar/appointments/{appointment_id}",
        {"appointment_id": made["id"]},
        body={"version": 1, "start": "2030-04-09T10:00", "end": "2030-04-09T11:00"},
    )
    assert reply.status == 200, reply.text
    calendar_tap(tenant)
    moved = one_execution(tenant, made["id"], reminder["id"])
    assert moved["status"] == "pending" and moved["due_at"].startswith("2030-04-08T08:00:00")
    # the old time passes with nothing sent
    assert sweep(datetime.fromisoformat(made["start"]) - timedelta(hours=23))["executions_done"] == 0


def test_a_cancel_skips_the_timed_executions_and_fires_the_cancelled_ones(tenant, scene, calendar_tap, sent_mail):
    reminder, after, made, _ = scene
    cancelled_flow = workflow(
        tenant,
        name="Tell the organizer",
        trigger={"kind": "cancelled"},
        actions=[{"kind": "email", "to": "organizer", "subject": "Cancelled: {{ appointment.title }}", "text": "."}],
    )
    reply = call(tenant.agent, "POST", "/calendar/appointments/{appointment_id}/cancel", {"appointment_id": made["id"]})
    assert reply.status == 200, reply.text
    calendar_tap(tenant)
    for flow in (reminder, after):
        skipped = one_execution(tenant, made["id"], flow["id"])
        assert (skipped["status"], skipped["error"]) == ("skipped", "The appointment was cancelled.")
    assert sweep(datetime.fromisoformat(made["end"]) + timedelta(hours=1))["executions_done"] == 1
    assert one_execution(tenant, made["id"], cancelled_flow["id"])["status"] == "done"
    assert subjects_to(sent_mail(), tenant.agent.email).count("Cancelled: Kick-off") == 1
    assert "Tomorrow: Kick-off" not in [m["subject"] for m in sent_mail()]


def test_nothing_timed_fires_after_a_cancel_even_before_the_planner_hears_of_it(tenant, scene):
    reminder, _, made, _ = scene
    call(tenant.agent, "POST", "/calendar/appointments/{appointment_id}/cancel", {"appointment_id": made["id"]})
    result = sweep(datetime.fromisoformat(made["start"]) - timedelta(hours=23))
    assert (result["executions_done"], result["executions_skipped"]) == (0, 1)
    assert one_execution(tenant, made["id"], reminder["id"])["status"] == "skipped"


def test_a_failing_action_is_retried_with_backoff_then_failed_with_its_error(tenant: Tenant, calendar_tap):
    # Given a booked-trigger workflow whose template only fails when rendered (it loops too much)
    loops = "{% for i in range(9000) %}{% for j in range(9000) %}x{% endfor %}{% endfor %}"
    flow = workflow(
        tenant,
        name="Broken",
        trigger={"kind": "booked"},
        actions=[{"kind": "email", "subject": "Hi", "text": loops}],
    )
    made = appointment(tenant, attendees=[{"email": "x@example.test"}])
    calendar_tap(tenant)
    at = datetime.fromisoformat(one_execution(tenant, made["id"], flow["id"])["due_at"])

    # When the job runs at each retry's time
    outcomes, gaps = [], []
    for _ in range(executions.MAX_ATTEMPTS):
        result = sweep(at + timedelta(seconds=1))  # (the event's time has whole seconds)
        outcomes.append((result["executions_retried"], result["executions_failed"]))
        current = one_execution(tenant, made["id"], flow["id"])
        if current["status"] == "pending":
            gaps.append(datetime.fromisoformat(current["due_at"]) - at)
            at = datetime.fromisoformat(current["due_at"])

    # Then it was retried four times, further apart each time, then failed with the error
    assert outcomes == [(1, 0)] * 4 + [(0, 1)]
    assert [round(g.total_seconds() / 60) for g in gaps] == [1, 5, 15, 60]
    failed = one_execution(tenant, made["id"], flow["id"])
    assert (failed["status"], failed["attempts"]) == ("failed", 5)
    assert "could not be rendered" in failed["error"]
    assert sweep(at + timedelta(days=1))["executions_failed"] == 0
    assert [e["id"] for e in executions_of(tenant, status="failed")] == [failed["id"]]


def test_managers_keep_workflows_and_bad_ones_are_refused(tenant: Tenant):
    made = workflow(tenant, filter={"appointment_types": ["demo"]})
    path = {"workflow_id": made["id"]}
    assert call(tenant.agent, "GET", WORKFLOWS).status == 403
    body = {k: made[k] for k in ("name", "trigger", "filter", "actions")}
    replaced = call(tenant.manager, "PUT", f"{WORKFLOWS}/{{workflow_id}}", path, body={**body, "active": False})
    replaced.problem(422)  # no version
    replaced = call(
        tenant.manager, "PUT", f"{WORKFLOWS}/{{workflow_id}}", path, body={**body, "active": False, "version": 1}
    )
    assert replaced.status == 200 and replaced.json["active"] is False, replaced.text
    listed = call(tenant.manager, "GET", WORKFLOWS).json["items"]
    assert [w["id"] for w in listed] == [made["id"]]
    bad = [
        ({"actions": [{"kind": "email", "subject": "{{ oops", "text": "x"}]}, "actions[0].subject"),
        ({"actions": [{"kind": "email", "subject": "x"}]}, "actions.0"),
        ({"actions": [{"kind": "survey", "survey_id": "01NOSUCHSURVEY000000000000"}]}, "actions[0].survey_id"),
        ({"actions": [{"kind": "follow_up_task", "title": "Call them", "due_in_days": 400}]}, "actions.0"),
        ({"trigger": {"kind": "booked", "minutes": 5}}, "trigger.minutes"),
        ({"actions": []}, "actions"),
    ]
    for change, field in bad:
        errors = call(tenant.manager, "POST", WORKFLOWS, body={**body, **change}).field_errors()
        assert any(name.startswith(field) for name in errors), (change, errors)
    assert call(tenant.manager, "DELETE", f"{WORKFLOWS}/{{workflow_id}}", path).status == 204
    call(tenant.manager, "GET", f"{WORKFLOWS}/{{workflow_id}}", path).problem(404)


def test_a_filter_keeps_workflows_to_their_appointments(tenant: Tenant, calendar_tap):
    client = tenant.client("Initech")["id"]
    by_type = workflow(tenant, trigger={"kind": "booked"}, filter={"appointment_types": ["demo"]})
    by_client = workflow(tenant, trigger={"kind": "booked"}, filter={"client_ids": [client]})
    demo, other = appointment(tenant, type="demo"), appointment(tenant, client_id=client)
    calendar_tap(tenant)
    assert [e["workflow_id"] for e in executions_of(tenant, appointment_id=demo["id"])] == [by_type["id"]]
    assert [e["workflow_id"] for e in executions_of(tenant, appointment_id=other["id"])] == [by_client["id"]]
    assert [e["appointment_id"] for e in executions_of(tenant, workflow_id=by_type["id"])] == [demo["id"]]


def test_task_actions_add_tasks_to_the_clients_onboarding_process(tenant: Tenant, calendar_tap):
    # Given a client in onboarding, an organizer with a profile, and a workflow adding two tasks after meetings
    client = tenant.client("Initech")["id"]
    process = onboarding_helpers.process(tenant, client, started=True)
    organizer = tenant.user("olga", "staff")
    flow = workflow(
        tenant,
        name="After the kick-off",
        trigger={"kind": "after_end", "minutes": 0},
        actions=[
            {"kind": "onboarding_task", "title": "Send the engagement letter", "due_in_days": 2},
            {"kind": "follow_up_task", "title": "Call back about the letter", "due_in_days": 5},
        ],
    )
    made = appointment(tenant, client_id=client, organizer_id=organizer.user_id)
    elsewhere = appointment(tenant)  # no client: no task
    calendar_tap(tenant)

    # When the job runs after the meetings end (twice)
    end = datetime.fromisoformat(made["end"])
    runs = [sweep(end + timedelta(minutes=1))["executions_done"] for _ in range(2)]
    assert runs[0] >= 2 and runs[1] == 0  # (the module's other tests may have executions due by then too)

    # Then the process has both tasks, once: the onboarding one its owner's, the follow-up the organizer's
    tasks = onboarding_helpers.items(tenant.agent, "tasks", process_id=process["id"])
    added = {t["title"]: t for t in tasks}
    assert len(tasks) == len({t["id"] for t in tasks}) and len(added) == len(tasks)
    letter, call_back = added["Send the engagement letter"], added["Call back about the letter"]
    assert letter["assignee_id"] == process["owner_id"] and letter["due_date"] == "2030-04-04"
    assert call_back["assignee_id"] == organizer.user_id and call_back["due_date"] == "2030-04-07"
    result = one_execution(tenant, made["id"], flow["id"])["result"]
    assert [r["task_id"] for r in result] == [letter["id"], call_back["id"]]
    skipped = one_execution(tenant, elsewhere["id"], flow["id"])
    assert skipped["status"] == "done" and skipped["result"][0]["skipped"] == "The appointment has no client."


# ---- email actions with the marketing email templates ---------------------------------------------------


def email_template(tenant: Tenant) -> dict:
    body = {
        "name": "Meeting reminder",
        "subject": "{{ appointment.title }} with {{ firm.name }}",
        "html": "<p>Hello {{ contact.first_name }} ({{ client.name | default('no client') }}): "
        "{{ appointment.start }} to {{ appointment.end }}, "
        "{{ appointment.location }} {{ appointment.meeting_url }}</p>",
    }
    reply = call(tenant.manager, "POST", "/marketing/email-templates", body=body)
    assert reply.status == 201, reply.text
    return reply.json


def test_an_email_action_sends_a_marketing_template_to_each_recipient_once(tenant: Tenant, calendar_tap, sent_mail):
    # Given a booked workflow emailing everyone a marketing template, and a meeting with a contact of a client,
    # a plain address in New York's zone and the organizer
    template = email_template(tenant)
    flow = workflow(
        tenant,
        trigger={"kind": "booked"},
        actions=[{"kind": "email", "to": "everyone", "email_template_id": template["id"]}],
    )
    client = tenant.client("Initech")["id"]
    contact = tenant.contact(client, "Peter Gibbons", email=f"peter@{tenant.id}.test")
    made = appointment(
        tenant,
        client_id=client,
        location="Room 4",
        meeting_url="https://meet.example/abc",
        attendees=[{"contact_id": contact["id"]}, {"email": "ny@example.test", "time_zone": "America/New_York"}],
    )
    calendar_tap(tenant)

    # When the job runs twice
    due = datetime.fromisoformat(one_execution(tenant, made["id"], flow["id"])["due_at"])
    assert [sweep(due + timedelta(seconds=s))["executions_done"] for s in (1, 2)] == [1, 0]

    # Then each got the template once, rendered with the marketing variables and the meeting in their zone
    mine = [m for m in sent_mail() if m["subject"] == f"Kick-off with {tenant.id}"]
    assert sorted(a for m in mine for a in m["destinations"]["ToAddresses"]) == sorted(
        [contact["email"], "ny@example.test", tenant.agent.email]
    )
    [to_peter] = [m for m in mine if contact["email"] in m["destinations"]["ToAddresses"]]
    assert "Hello Peter (Initech): Tuesday 02 April 2030, 10:00 CEST (Europe/Berlin) to " in to_peter["body"]
    assert "Room 4 https://meet.example/abc" in to_peter["body"]
    [to_ny] = [m for m in mine if "ny@example.test" in m["destinations"]["ToAddresses"]]
    assert "Hello ny (Initech): Tuesday 02 April 2030, 04:00 EDT (America/New_York)" in to_ny["body"]
    done = one_execution(tenant, made["id"], flow["id"])
    assert (done["status"], done["result"][0]["email_template_id"]) == ("done", template["id"])


def test_an_email_action_names_an_existing_template_or_its_own_text_not_both(tenant: Tenant):
    other = Tenant()
    foreign = email_template(other)["id"]
    mine = email_template(tenant)["id"]
    base = {"name": "X", "trigger": {"kind": "booked"}}
    bad = [
        ([{"kind": "email", "email_template_id": "01NOSUCHTEMPLATE0000000000"}], "actions[0].email_template_id"),
        (
            [{"kind": "survey", "survey_id": csat(tenant)["id"]}, {"kind": "email", "email_template_id": foreign}],
            ("actions[1].email_template_id"),
        ),
        ([{"kind": "email", "email_template_id": mine, "subject": "Hi", "text": "x"}], "actions.0"),
        ([{"kind": "email"}], "actions.0"),
    ]
    for actions, field in bad:
        errors = call(tenant.manager, "POST", WORKFLOWS, body={**base, "actions": actions}).field_errors()
        assert any(name.startswith(field) for name in errors), (actions, errors)
    twice = [
        {"kind": "email", "email_template_id": mine},
        {"kind": "email", "to": "organizer", "email_template_id": mine},
    ]
    made = call(tenant.manager, "POST", WORKFLOWS, body={**base, "actions": twice})
    assert made.status == 201 and made.json["actions"][1]["email_template_id"] == mine, made.text


def test_a_template_deleted_after_the_workflow_was_saved_fails_the_execution_at_once(tenant: Tenant, calendar_tap):
    from shared.marketing.templates import EmailTemplate

    template = email_template(tenant)
    flow = workflow(
        tenant, trigger={"kind": "booked"}, actions=[{"kind": "email", "email_template_id": template["id"]}]
    )
    made = appointment(tenant, attendees=[{"email": "x@example.test"}])
    calendar_tap(tenant)
    EmailTemplate.find(tenant.id, template["id"]).delete()

    due = datetime.fromisoformat(one_execution(tenant, made["id"], flow["id"])["due_at"])
    result = sweep(due + timedelta(seconds=1))
    assert (result["executions_failed"], result["executions_retried"]) == (1, 0)
    failed = one_execution(tenant, made["id"], flow["id"])
    assert (failed["status"], failed["attempts"]) == ("failed", 1)
    assert failed["error"] == f"The email template {template['id']} no longer exists."
