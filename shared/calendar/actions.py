"""What a meeting workflow's actions do, run by the sweep for a claimed execution: each returns a short
record of what it did (kept in the execution's result) or raises ``ActionFailed`` to be retried.

- ``email``: the workflow's templates (the sandbox, shared/templating.py) rendered once per recipient, with
  the times written in the recipient's zone; to the attendees, the organizer or everyone.
- ``survey``: the named survey to each contact who attends (the client's people), once per appointment and
  contact, within the survey's cooldown.
- ``onboarding_task`` / ``follow_up_task``: a task in the client's onboarding process (shared/calendar/tasks.py)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared import mail, templating
from shared.calendar import tasks, times
from shared.calendar.appointments import Appointment
from shared.calendar.executions import ActionFailed
from shared.calendar.people import Person
from shared.calendar.workflows import Workflow
from shared.db.table import get_or_none
from shared.support.surveys import invitations
from shared.support.surveys.model import Survey


def run(index: int, action: dict[str, Any], appointment: Appointment, workflow: Workflow) -> dict[str, Any]:
    kind = action["kind"]
    if kind == "email":
        return _email(action, appointment, workflow)
    if kind == "survey":
        return _survey(action, appointment)
    return _task(action, appointment, workflow)


def variables(appointment: Appointment, recipient: Person, workflow: Workflow) -> dict[str, Any]:
    """What a template may use: the appointment (times in the recipient's zone), the recipient, the organizer."""
    zone = recipient.time_zone or appointment.time_zone
    organizer = Person(**appointment.organizer)
    return {
        "appointment": {
            "title": appointment.title,
            "description": appointment.description or "",
            "start": times.spoken(appointment.start, zone),
            "end": times.spoken(appointment.end, zone),
            "when": times.spoken_span(appointment.start, appointment.end, zone),
            "time_zone": zone,
            "location": appointment.location or "",
            "meeting_url": appointment.meeting_url or "",
            "type": appointment.type,
            "status": appointment.status,
        },
        "recipient": {"name": recipient.name, "email": recipient.email},
        "organizer": {"name": organizer.name, "email": organizer.email},
        "workflow": {"name": workflow.name},
    }


def _recipients(to: str, appointment: Appointment) -> list[Person]:
    organizer = Person(**appointment.organizer)
    attendees = [p for p in appointment.people() if p.email.lower() != organizer.email.lower()]
    return {"attendees": attendees, "organizer": [organizer], "everyone": [organizer, *attendees]}[to]


def _email(action: dict[str, Any], appointment: Appointment, workflow: Workflow) -> dict[str, Any]:
    sent = []
    for person in _recipients(action["to"], appointment):
        values = variables(appointment, person, workflow)
        try:
            subject = templating.render(action["subject"], values)
            html = templating.render(action["html"], values, html=True) if action.get("html") else None
            text = templating.render(action["text"], values) if action.get("text") else templating.html_to_text(html)
        except templating.RenderRefused as error:
            raise ActionFailed(f"The template could not be rendered: {error}") from None
        try:
            mail.send([person.email], subject, text, html=html)
        except (BotoCoreError, ClientError) as error:
            raise ActionFailed(f"The email to {person.email} was not accepted: {error}") from None
        sent.append(person.email)
    return {"sent_to": sent}


def _survey(action: dict[str, Any], appointment: Appointment) -> dict[str, Any]:
    survey = get_or_none(Survey, Survey.key(appointment.tenant_id, action["survey_id"]))
    if survey is None or not survey.active:
        return {"skipped": "The survey is gone or inactive."}
    invited = []
    for person in appointment.people():
        if person.kind != "contact":
            continue
        try:
            invitation = invitations.invite_to_meeting(survey, appointment, {"id": person.id, "email": person.email})
        except (BotoCoreError, ClientError) as error:
            raise ActionFailed(f"The survey to {person.email} was not accepted: {error}") from None
        if invitation is not None:
            invited.append(person.email)
    return {"invited": invited}


def _task(action: dict[str, Any], appointment: Appointment, workflow: Workflow) -> dict[str, Any]:
    source = f"From the meeting workflow {workflow.name}: {appointment.title} ({appointment.id})."
    return tasks.add(
        action["kind"], appointment, title=action["title"], due_in_days=int(action["due_in_days"]), source=source
    )
