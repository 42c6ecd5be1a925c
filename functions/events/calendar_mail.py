"""DynamoDB stream consumer: the calendar's emails, from the changes of appointments and polls.

- an appointment made, or changed in a way its attendees must see (its ``sequence`` rose): METHOD:REQUEST
  with the .ics to the attendees and the organizer; people dropped from it: METHOD:CANCEL; cancelled:
  METHOD:CANCEL to everyone;
- a poll made: each invitee's voting link; its reminder recorded: the invitees who have not voted; its last
  invitee voting, or its deadline closing it: the organizer, with the best slot.

Each email goes out once per change and recipient (``shared/calendar/sent.py``); failed records are
reported (partial batch response) and retried."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.events import batches
from functions.observability import tracer
from shared.calendar import mailing, sent
from shared.calendar.appointments import Appointment
from shared.calendar.people import Person
from shared.calendar.polls import Poll
from shared.clock import now

logger = Logger(service="deskos-calendar")


def _entity(image: dict[str, Any] | None) -> str | None:
    return ((image or {}).get("entity") or {}).get("S")


def record_handler(record: DynamoDBRecord, metrics: EphemeralMetrics) -> None:
    change = record.raw_event.get("dynamodb", {})
    new, old = change.get("NewImage"), change.get("OldImage")
    if new is None:
        return  # a removal: nobody to tell
    kind = _entity(new)
    if kind == "appointment":
        count = _appointment(Appointment.from_raw_data(new), Appointment.from_raw_data(old) if old else None)
        if count:
            metrics.add_metric("CalendarInvitationsSent", MetricUnit.Count, count)
    elif kind == "meeting_poll":
        count = _poll(Poll.from_raw_data(new), Poll.from_raw_data(old) if old else None)
        if count:
            metrics.add_metric("MeetingPollEmailsSent", MetricUnit.Count, count)


def _each(tenant_id: str, change: str, people: list[Person], send: Any) -> int:
    """Send to each person once for ``change``; how many were sent now."""
    return sum(sent.once(tenant_id, f"{change}#{p.email.lower()}", partial(send, [p])) for p in people)


def _appointment(new: Appointment, old: Appointment | None) -> int:
    change = f"APPT#{new.id}#{int(new.sequence)}"
    stamp = now()
    if new.status == "cancelled":
        if old is None or old.status == "cancelled":
            return 0
        people = mailing.everyone(old)
        return _each(new.tenant_id, change, people, lambda p: mailing.invite(new, "CANCEL", p, stamp, old.people()))
    if new.status != "scheduled" or (old is not None and int(old.sequence) == int(new.sequence)):
        return 0
    count = 0
    if old is not None:
        kept = {p.email.lower() for p in mailing.everyone(new)}
        dropped = [p for p in mailing.everyone(old) if p.email.lower() not in kept]
        cancel = partial(_cancel_for, old, new, stamp, dropped)
        count += _each(new.tenant_id, change + "#CANCEL", dropped, cancel)
    people = mailing.everyone(new)
    count += _each(new.tenant_id, change, people, lambda p: mailing.invite(new, "REQUEST", p, stamp, new.people()))
    logger.info("appointment invitations", extra={"tenant_id": new.tenant_id, "appointment": new.id, "sent": count})
    return count


def _cancel_for(old: Appointment, new: Appointment, stamp: Any, dropped: list[Person], people: list[Person]) -> None:
    """METHOD:CANCEL, at the new SEQUENCE, to people an update dropped: their calendars remove the event."""
    old.sequence = new.sequence
    mailing.invite(old, "CANCEL", people, stamp, dropped)


def _poll(new: Poll, old: Poll | None) -> int:
    t, change = new.tenant_id, f"MPOLL#{new.id}"
    if old is None:
        invite = partial(mailing.send_to_invitee, new, kind="invite")
        return sum(sent.once(t, f"{change}#INVITE#{i['key']}", partial(invite, i)) for i in new.invitees)
    count = 0
    if new.reminded_at is not None and old.reminded_at is None:
        remind = partial(mailing.send_to_invitee, new, kind="remind")
        count += sum(sent.once(t, f"{change}#REMIND#{i['key']}", partial(remind, i)) for i in new.non_voters())
    everyone = len(new.invitees)
    if len(new.voters or ()) == everyone and len(old.voters or ()) < everyone:
        count += sent.once(t, f"{change}#ALLVOTED", partial(mailing.tell_organizer, new, "all_voted"))
    if new.status == "closed" and old.status == "open" and new.closed_by == "deadline":
        count += sent.once(t, f"{change}#CLOSED", partial(mailing.tell_organizer, new, "closed"))
    return count


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    metrics = EphemeralMetrics(namespace="DeskOS", service="deskos")
    record = partial(record_handler, metrics=metrics)
    return batches.deliver(event, context, BatchProcessor(event_type=EventType.DynamoDBStreams), record, metrics)
