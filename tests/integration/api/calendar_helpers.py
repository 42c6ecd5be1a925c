"""Scene-setting for the calendar tests: appointments, polls, workflows and executions made through the
API, the calendar consumers fed from the table's stream, and the factories the isolation sweep uses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.schedules import calendar_sweep
from infra.local.lambda_context import LambdaContext
from shared.calendar import mailing
from shared.calendar.polls import Poll
from tests.integration.api.harness import Tenant, User, call

LATER = datetime(2030, 4, 2, 8, 0, tzinfo=UTC)  # a Tuesday, after Europe's spring change


def appointment(tenant: Tenant, by: User | None = None, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Kick-off",
        "start": "2030-04-02T10:00",
        "end": "2030-04-02T11:00",
        "time_zone": "Europe/Berlin",
        **fields,
    }
    reply = call(by or tenant.agent, "POST", "/calendar/appointments", body=body)
    assert reply.status == 201, reply.text
    return reply.json


def poll(tenant: Tenant, invitees: list[dict], **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Quarterly review",
        "time_zone": "Europe/Berlin",
        "duration_minutes": 60,
        "slots": [{"start": "2030-04-02T10:00"}, {"start": "2030-04-03T14:00"}, {"start": "2030-04-04T09:00"}],
        "invitees": invitees,
        "deadline": "2030-03-30T12:00",
        **fields,
    }
    reply = call(tenant.agent, "POST", "/calendar/meeting-polls", body=body)
    assert reply.status == 201, reply.text
    return reply.json


def workflow(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "Agenda a day ahead",
        "trigger": {"kind": "before_start", "minutes": 24 * 60},
        "actions": [
            {"kind": "email", "subject": "Tomorrow: {{ appointment.title }}", "text": "{{ appointment.when }}"}
        ],
        **fields,
    }
    reply = call(tenant.manager, "POST", "/calendar/meeting-workflows", body=body)
    assert reply.status == 201, reply.text
    return reply.json


def token_for(poll_json: dict[str, Any], tenant: Tenant, invitee: str = "001") -> str:
    """The token of an invitee's voting link, as the invitation email carries it."""
    return mailing.vote_token(Poll.find(tenant.id, poll_json["id"]), invitee)


def sweep(at: datetime) -> dict[str, int]:
    """The calendar sweep as EventBridge fires it at ``at``."""
    event = {"detail-type": "Scheduled Event", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return calendar_sweep.handler(event, LambdaContext("CalendarSweep"))


# ---- what the isolation sweep makes: (the id, what no one else may read, its client account) ----------


def _secret(label: str) -> str:
    return f"{label} {uuid.uuid4().hex}"


def contact_in(tenant: Tenant, client_id: str) -> dict[str, Any]:
    return tenant.contact(client_id, _secret("Invitee"), email=f"{uuid.uuid4().hex}@example.test")


Made = tuple[str, tuple[str, ...], "str | None"]
Invited = tuple[str, tuple[str, ...], "str | None", User]  # and the one portal user who may see it


def made_appointment(tenant: Tenant, client_id: str) -> Made:
    contact = contact_in(tenant, client_id)
    made = appointment(
        tenant,
        title=_secret("Meeting"),
        client_id=client_id,
        attendees=[{"contact_id": contact["id"]}],
        location=_secret("Room"),
    )
    return made["id"], (made["id"], made["title"], made["location"], contact["email"]), client_id


def made_poll(tenant: Tenant, client_id: str) -> Invited:
    """A poll of the client inviting one of its contacts, the tenant's staff agent (who may vote signed in) and,
    by address, a portal user of the client: the portal user who may see it (another of the client may not)."""
    contact = contact_in(tenant, client_id)
    agent = tenant.user(f"agent{uuid.uuid4().hex[:8]}", "staff", profile=True)
    portal = tenant.user(f"invited{uuid.uuid4().hex[:8]}", "portal", client_id=client_id, profile=False)
    invitees = [{"contact_id": contact["id"]}, {"user_id": agent.user_id}, {"email": portal.email}]
    made = poll(tenant, invitees, title=_secret("Poll"), client_id=client_id)
    return made["id"], (made["id"], made["title"], contact["email"]), client_id, portal


def made_workflow(tenant: Tenant) -> Made:
    made = workflow(tenant, name=_secret("Workflow"))
    return made["id"], (made["id"], made["name"]), None


def made_execution(tenant: Tenant, appointment: Made, flow: Made) -> Made:
    """The execution of ``flow`` (a before-start workflow) for ``appointment``, planned as the consumer plans it."""
    from shared.calendar import executions
    from shared.calendar.appointments import Appointment

    executions.plan(Appointment.find(tenant.id, appointment[0]), ("before_start",), datetime.now(UTC))
    execution_id = appointment[0] + flow[0]
    return execution_id, (execution_id, *appointment[1], *flow[1]), appointment[2]


def vote_link(tenant_id: str, poll_id: str) -> str:
    """The first invitee's voting link of a poll, as its invitation carries it."""
    return mailing.vote_token(Poll.find(tenant_id, poll_id), "001")


def later(**delta: float) -> datetime:
    return LATER + timedelta(**delta)
