"""The calendar: /calendar/appointments…, /calendar/meeting-polls… (with the public vote by signed link),
/calendar/meeting-workflows… and /calendar/meeting-workflow-executions….

Invitations, voting links, reminders and notes to organizers are sent by the CalendarMail stream consumer;
workflow executions are planned by the MeetingWorkflows consumer and run by the CalendarSweep schedule."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.metrics import MetricUnit

from functions.api.core import Api, metrics
from functions.api.core.params import Cursor, EntityId, IdFilter, Limit
from functions.api.core.responses import no_content, page_out, tagged
from shared import links
from shared.calendar import appointments, executions, polls, workflows
from shared.calendar.appointments import (
    Appointment,
    AppointmentFilters,
    AppointmentOut,
    AppointmentPatch,
    NewAppointment,
)
from shared.calendar.executions import Execution, ExecutionFilters, ExecutionOut
from shared.calendar.polls import BallotView, Booking, NewPoll, Poll, PollOut, PollPatch, Results, TokenVote, Vote
from shared.calendar.workflows import Workflow, WorkflowIn, WorkflowOut, WorkflowUpdate
from shared.caller import MANAGERS, STAFF, STAFF_PORTAL
from shared.clock import now
from shared.db.pages import DEFAULT_LIMIT
from shared.errors import Unprocessable
from shared.links import MAX_TOKEN
from shared.schemas import Moment, Out, PageOut

api = Api("calendar")


class BallotOut(Out):
    poll_id: str
    invitee: str
    choices: dict[str, str]
    voted_at: datetime
    via: str


# ---- appointments ------------------------------------------------------------------------------


@api.get("/calendar/appointments", roles=STAFF_PORTAL, summary="List appointments by start (portal: your client's)")
def list_appointments(
    start_from: Annotated[Moment | None, Query(description="Starting at or after")] = None,
    start_to: Annotated[Moment | None, Query(description="Starting at or before")] = None,
    organizer_id: IdFilter = None,
    client_id: IdFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[AppointmentOut]:
    filters = AppointmentFilters(
        start_from=start_from, start_to=start_to, organizer_id=organizer_id, client_id=client_id
    )
    return page_out(appointments.page(api.caller(), filters, limit=limit, cursor=cursor), AppointmentOut)


@api.post(
    "/calendar/appointments",
    roles=STAFF,
    summary="Make an appointment (attendees get an invitation)",
    responses={201: {}},
)
def create_appointment(body: Annotated[NewAppointment, Body()]) -> Response[AppointmentOut]:
    made = api.create_once(
        "CreateAppointment", body, lambda: AppointmentOut.of(appointments.create(api.caller(), body))
    )
    metrics.add_metric("AppointmentsCreated", MetricUnit.Count, 1)
    return api.created(f"/calendar/appointments/{made['id']}", made)


@api.get("/calendar/appointments/<appointment_id>", roles=STAFF_PORTAL, summary="Get an appointment")
def get_appointment(appointment_id: EntityId) -> Response[AppointmentOut]:
    return tagged(AppointmentOut.of(Appointment.load(api.caller(), appointment_id)))


@api.patch(
    "/calendar/appointments/<appointment_id>",
    roles=STAFF,
    summary="Change or reschedule an appointment (optimistic locking; attendees get the update)",
)
def update_appointment(appointment_id: EntityId, body: Annotated[AppointmentPatch, Body()]) -> Response[AppointmentOut]:
    return tagged(AppointmentOut.of(appointments.update(api.caller(), appointment_id, body, api.if_match())))


@api.post(
    "/calendar/appointments/<appointment_id>/cancel",
    roles=STAFF,
    summary="Cancel an appointment (attendees get METHOD:CANCEL)",
)
def cancel_appointment(appointment_id: EntityId) -> Response[AppointmentOut]:
    return tagged(AppointmentOut.of(appointments.cancel(api.caller(), appointment_id, api.if_match())))


@api.post("/calendar/appointments/<appointment_id>/complete", roles=STAFF, summary="Mark an appointment completed")
def complete_appointment(appointment_id: EntityId) -> Response[AppointmentOut]:
    return tagged(AppointmentOut.of(appointments.complete(api.caller(), appointment_id, api.if_match())))


# ---- meeting polls -----------------------------------------------------------------------------


@api.get(
    "/calendar/meeting-polls",
    roles=STAFF_PORTAL,
    summary="List meeting polls, newest first (portal: the polls that invite you)",
)
def list_meeting_polls(
    client_id: IdFilter = None, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[PollOut]:
    ctx = api.caller()
    found = polls.page(ctx, client_id=client_id, limit=limit, cursor=cursor)
    return PageOut[PollOut](items=[PollOut.of(p, ctx) for p in found.items], next_cursor=found.next_cursor)


@api.post(
    "/calendar/meeting-polls",
    roles=STAFF,
    summary="Create a meeting poll (invitees get a voting link)",
    responses={201: {}},
)
def create_meeting_poll(body: Annotated[NewPoll, Body()]) -> Response[PollOut]:
    made = api.create_once("CreateMeetingPoll", body, lambda: PollOut.of(polls.create(api.caller(), body)))
    metrics.add_metric("MeetingPollsCreated", MetricUnit.Count, 1)
    return api.created(f"/calendar/meeting-polls/{made['id']}", made)


@api.get(
    "/calendar/meeting-polls/<poll_id>", roles=STAFF_PORTAL, summary="Get a meeting poll (portal: one that invites you)"
)
def get_meeting_poll(poll_id: EntityId) -> Response[PollOut]:
    ctx = api.caller()
    return tagged(PollOut.of(Poll.load(ctx, poll_id), ctx))


@api.patch(
    "/calendar/meeting-polls/<poll_id>",
    roles=STAFF,
    summary="Change an open meeting poll (slots, length and zone locked once anyone voted)",
)
def update_meeting_poll(poll_id: EntityId, body: Annotated[PollPatch, Body()]) -> Response[PollOut]:
    return tagged(PollOut.of(polls.update(api.caller(), poll_id, body, api.if_match())))


@api.get(
    "/calendar/meeting-polls/<poll_id>/results",
    roles=STAFF_PORTAL,
    summary="A meeting poll's results, best slots first",
)
def get_meeting_poll_results(poll_id: EntityId) -> Results:
    return polls.results(api.caller(), poll_id)


def _link(token: str | None) -> links.Grant:
    """The verified voting link; from here on the request acts only as its tenant."""
    if not token:
        raise Unprocessable.field("token", "Send the token of the voting link, in the body or as ?token=.")
    grant = links.read(polls.VOTE_PURPOSE, token, now(), what="voting link")
    api.act_for(grant.tenant_id)
    return grant


@api.get(
    "/calendar/meeting-polls/<poll_id>/ballot",
    roles=None,
    summary="The poll and your votes, through the emailed link (no login: the signed token names you)",
)
def get_ballot_by_link(poll_id: EntityId, token: Annotated[str, Query(max_length=MAX_TOKEN)]) -> BallotView:
    grant = _link(token)
    return polls.ballot_view(grant.tenant_id, poll_id, grant.subject, str(grant.extra.get("invitee", "")))


@api.post(
    "/calendar/meeting-polls/<poll_id>/vote",
    roles=None,
    summary="Vote through the emailed link (no login: the signed token names the poll and the invitee)",
)
def vote_by_link(
    poll_id: EntityId,
    body: Annotated[TokenVote, Body()],
    token: Annotated[str | None, Query(max_length=MAX_TOKEN)] = None,
) -> BallotOut:
    grant = _link(body.token or token)
    poll = polls.poll_for_link(grant.tenant_id, poll_id, grant.subject)
    ballot = polls.vote(grant.tenant_id, poll, str(grant.extra.get("invitee", "")), Vote(choices=body.choices), "link")
    metrics.add_metric("MeetingPollVotes", MetricUnit.Count, 1)
    return BallotOut.of(ballot)


@api.post(
    "/calendar/meeting-polls/<poll_id>/my-vote",
    roles=STAFF_PORTAL,
    summary="Vote signed in, as an invitee of the poll (a revote replaces)",
)
def vote_signed_in(poll_id: EntityId, body: Annotated[Vote, Body()]) -> BallotOut:
    ctx = api.caller()
    poll = Poll.load(ctx, poll_id)
    ballot = polls.vote(ctx.tenant_id, poll, polls.invitee_of(ctx, poll), body, "signed_in")
    metrics.add_metric("MeetingPollVotes", MetricUnit.Count, 1)
    return BallotOut.of(ballot)


@api.post("/calendar/meeting-polls/<poll_id>/close", roles=STAFF, summary="Close a meeting poll to votes")
def close_meeting_poll(poll_id: EntityId) -> Response[PollOut]:
    return tagged(PollOut.of(polls.close(api.caller(), poll_id, api.if_match())))


@api.post(
    "/calendar/meeting-polls/<poll_id>/book",
    roles=STAFF,
    summary="Book a slot: the appointment with every invitee (once per poll)",
    responses={201: {}},
)
def book_meeting_poll(poll_id: EntityId, body: Annotated[Booking, Body()]) -> Response[AppointmentOut]:
    _, appointment = polls.book(api.caller(), poll_id, body)
    metrics.add_metric("AppointmentsCreated", MetricUnit.Count, 1)
    made = AppointmentOut.of(appointment).model_dump(mode="json")
    return api.created(f"/calendar/appointments/{appointment.id}", made)


# ---- meeting workflows -------------------------------------------------------------------------


@api.get("/calendar/meeting-workflows", roles=MANAGERS, summary="List meeting workflows")
def list_meeting_workflows(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> PageOut[WorkflowOut]:
    return page_out(workflows.page(api.caller(), limit=limit, cursor=cursor), WorkflowOut)


@api.post("/calendar/meeting-workflows", roles=MANAGERS, summary="Create a meeting workflow", responses={201: {}})
def create_meeting_workflow(body: Annotated[WorkflowIn, Body()]) -> Response[WorkflowOut]:
    made = api.create_once("CreateMeetingWorkflow", body, lambda: WorkflowOut.of(workflows.create(api.caller(), body)))
    return api.created(f"/calendar/meeting-workflows/{made['id']}", made)


@api.get("/calendar/meeting-workflows/<workflow_id>", roles=MANAGERS, summary="Get a meeting workflow")
def get_meeting_workflow(workflow_id: EntityId) -> Response[WorkflowOut]:
    return tagged(WorkflowOut.of(Workflow.load(api.caller(), workflow_id)))


@api.put(
    "/calendar/meeting-workflows/<workflow_id>",
    roles=MANAGERS,
    summary="Replace a meeting workflow (optimistic locking)",
)
def replace_meeting_workflow(workflow_id: EntityId, body: Annotated[WorkflowUpdate, Body()]) -> Response[WorkflowOut]:
    return tagged(WorkflowOut.of(workflows.replace(api.caller(), workflow_id, body, api.if_match())))


@api.delete(
    "/calendar/meeting-workflows/<workflow_id>",
    roles=MANAGERS,
    summary="Delete a meeting workflow",
    responses={204: {}},
)
def delete_meeting_workflow(workflow_id: EntityId) -> Response[None]:
    workflows.delete(api.caller(), workflow_id, api.if_match())
    return no_content()


# ---- executions --------------------------------------------------------------------------------


@api.get("/calendar/meeting-workflow-executions", roles=STAFF, summary="List meeting workflow executions, newest first")
def list_meeting_workflow_executions(
    appointment_id: IdFilter = None,
    workflow_id: IdFilter = None,
    status: Annotated[executions.Status | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[ExecutionOut]:
    filters = ExecutionFilters(appointment_id=appointment_id, workflow_id=workflow_id, status=status)
    return page_out(executions.page(api.caller(), filters, limit=limit, cursor=cursor), ExecutionOut)


@api.get(
    "/calendar/meeting-workflow-executions/<execution_id>", roles=STAFF, summary="Get a meeting workflow execution"
)
def get_meeting_workflow_execution(execution_id: EntityId) -> Response[ExecutionOut]:
    return tagged(ExecutionOut.of(Execution.load(api.caller(), execution_id)))


handler = api.handler
