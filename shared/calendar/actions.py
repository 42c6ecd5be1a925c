"""What a meeting workflow's actions do, run by the sweep for a claimed execution: each returns a short
record of what it did (kept in the execution's result) or raises ``ActionFailed`` to be retried.

- ``email``: a marketing email template of the tenant (read again at each run: one deleted since makes the
  execution ``failed`` at once) or the action's own template text, rendered by the one sandbox
  (shared/templating.py) once per recipient with the marketing variables (contact, client, firm) and the
  appointment's, times in the recipient's zone; to the attendees, the organizer or everyone.
- ``survey``: the named survey to each contact who attends (the client's people), once per appointment and
  contact, within the survey's cooldown.
- ``onboarding_task`` / ``follow_up_task``: a task in the client's onboarding process (shared/calendar/tasks.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared import mail, templating
from shared.calendar import tasks, times
from shared.calendar.appointments import Appointment
from shared.calendar.executions import ActionFailed
from shared.calendar.people import Person
from shared.calendar.workflows import Workflow
from shared.crm.clients import Client
from shared.crm.contacts import Contact
from shared.db.errors import storage_errors
from shared.db.table import Item, get_or_none
from shared.html_text import html_to_text
from shared.marketing import templates as email_templates
from shared.marketing.templates import EmailTemplate
from shared.support.surveys import invitations
from shared.support.surveys.model import Survey


def run(index: int, action: dict[str, Any], appointment: Appointment, workflow: Workflow) -> dict[str, Any]:
    kind = action["kind"]
    if kind == "email":
        return _email(action, appointment, workflow)
    if kind == "survey":
        return _survey(action, appointment)
    return _task(action, appointment, workflow)


@dataclass(frozen=True)
class Reader:
    """Who reads one email: the recipient, their contact record and client (if any), the firm's name."""

    person: Person
    contact: Contact | None
    client: Client | None
    firm: str


def variables(appointment: Appointment, reader: Reader, workflow: Workflow) -> dict[str, Any]:
    """What a template may use: marketing's set — the recipient as ``contact`` (a contact's own record, else their
    name and address), ``client`` (the contact's, else the appointment's), ``firm`` — with no ``unsubscribe_url``
    (a meeting's email is no campaign), and the appointment (times in the recipient's zone), the recipient, the
    organizer and the workflow."""
    recipient = reader.person
    zone = recipient.time_zone or appointment.time_zone
    organizer = Person(**appointment.organizer)
    contact = reader.contact or Contact(id=None, name=recipient.name, email=recipient.email, phone=None)
    return {
        **email_templates.variables(contact, reader.client, reader.firm, ""),
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
    recipients = _recipients(action["to"], appointment)
    template_id = action.get("email_template_id")
    template, readers = _readers(appointment, recipients, template_id)
    if template_id and template is None:
        raise ActionFailed(f"The email template {template_id} no longer exists.", retry=False)
    sent = []
    for reader in readers:
        address = reader.person.email
        try:
            subject, text, html = _message(action, template, variables(appointment, reader, workflow))
        except templating.RenderRefused as error:
            raise ActionFailed(f"The template could not be rendered: {error}") from None
        try:
            mail.send([address], subject, text, html=html)
        except (BotoCoreError, ClientError) as error:
            raise ActionFailed(f"The email to {address} was not accepted: {error}") from None
        sent.append(address)
    return {"sent_to": sent, **({"email_template_id": template_id} if template_id else {})}


def _readers(
    appointment: Appointment, recipients: list[Person], template_id: str | None
) -> tuple[EmailTemplate | None, list[Reader]]:
    """The template and each recipient's contact record and client: one BatchGetItem (and the firm's name)."""
    t = appointment.tenant_id
    keys = [EmailTemplate.key(t, template_id)] if template_id else []
    keys += [Contact.key(t, p.id) for p in recipients if p.kind == "contact" and p.id]
    keys += [Client.key(t, c) for c in {appointment.client_id, *(p.client_id for p in recipients)} if c]
    with storage_errors():
        found = {(i.PK, i.SK): i for i in Item.batch_get(list(dict.fromkeys(keys)))} if keys else {}
    firm = email_templates.firm_name(t)
    readers = []
    for person in recipients:
        contact = found.get(Contact.key(t, person.id)) if person.kind == "contact" and person.id else None
        client_id = contact.client_id if contact else appointment.client_id
        readers.append(Reader(person, contact, found.get(Client.key(t, client_id)) if client_id else None, firm))
    return (found.get(keys[0]) if template_id else None), readers


def _message(
    action: dict[str, Any], template: EmailTemplate | None, values: dict[str, Any]
) -> tuple[str, str, str | None]:
    """Subject, text and HTML (if any): the marketing template's (marketing's render), else the action's own."""
    if template is not None:
        made = email_templates.render(template, values)
        return made.subject, made.text, made.html
    html = templating.render(action["html"], values, html=True) if action.get("html") else None
    text = templating.render(action["text"], values) if action.get("text") else html_to_text(html)
    return templating.render(action["subject"], values), text, html


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
