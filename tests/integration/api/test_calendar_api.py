"""Appointments and their invitations through the handlers and the CalendarMail consumer: the .ics read back
with icalendar (one UID, SEQUENCE raised per change, REQUEST then CANCEL), times in UTC with their zone and
the wall clock kept across both DST changes, portal users seeing only their client's, bad input refused."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
import pytest

from tests.integration.api.calendar_helpers import appointment
from tests.integration.api.harness import Tenant, call

APPOINTMENT = "/calendar/appointments/{appointment_id}"


def invitations_to(messages: list[dict], address: str) -> list[icalendar.Calendar]:
    found = []
    for message in messages:
        if address in message["destinations"]["ToAddresses"]:
            for part in message["attachments"]:
                if part["filename"] == "invite.ics":
                    found.append(icalendar.Calendar.from_ical(part["content"]))
    return found


def event_of(calendar: icalendar.Calendar) -> icalendar.Event:
    [event] = calendar.events
    return event


def attendees_of(event: icalendar.Event) -> set[str]:
    value = event.get("attendee")
    return {str(a).removeprefix("mailto:") for a in (value if isinstance(value, list) else [value])}


# ---- making, reading, listing -------------------------------------------------------------------


def test_an_appointment_keeps_utc_with_its_zone_and_the_wall_clock(tenant: Tenant):
    # When an agent books 10:00 Berlin time on a summer day, and on a winter day
    summer = appointment(tenant, start="2030-07-02T10:00", end="2030-07-02T11:00")
    winter = appointment(tenant, start="2030-12-03T10:00", end="2030-12-03T11:00")

    # Then each is stored as its UTC instant (summer +02:00, winter +01:00) and reads 10:00 locally
    assert summer["start"].startswith("2030-07-02T08:00:00") and winter["start"].startswith("2030-12-03T09:00:00")
    assert summer["start_local"] == "2030-07-02T10:00:00+02:00" and winter["start_local"] == "2030-12-03T10:00:00+01:00"
    assert summer["organizer_id"] == tenant.agent.user_id and summer["status"] == "scheduled"


def test_an_instant_with_an_offset_is_taken_as_it_is(tenant: Tenant):
    made = appointment(tenant, start="2030-03-31T08:00:00Z", end="2030-03-31T09:00:00Z")
    assert made["start_local"] == "2030-03-31T10:00:00+02:00"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"start": "2030-03-31T02:30", "end": "2030-03-31T03:30"}, "start"),  # the hour the clocks skip
        ({"end": "2030-04-02T09:00"}, "end"),  # before its start
        ({"end": "2030-06-02T09:00"}, "end"),  # longer than a month
        ({"attendees": [{"contact_id": "01NOSUCHCONTACT0000000000"}]}, "attendees[0]"),
        ({"attendees": [{"user_id": "u", "email": "a@b.test"}]}, "attendees.0"),
        ({"client_id": "01NOSUCHCLIENT00000000000"}, "client_id"),
        ({"organizer_id": "nobody"}, "organizer_id"),
        ({"start": "1554000000"}, "start"),
    ],
)
def test_bad_appointments_are_refused_with_the_field(tenant: Tenant, fields, field):
    body = {"title": "X", "start": "2030-04-02T10:00", "end": "2030-04-02T11:00", "time_zone": "Europe/Berlin"}
    reply = call(tenant.agent, "POST", "/calendar/appointments", body={**body, **fields})
    errors = reply.field_errors()
    assert any(name.startswith(field) for name in errors), errors


def test_the_autumn_change_takes_the_first_of_the_doubled_hour(tenant: Tenant):
    made = appointment(tenant, start="2030-10-27T02:30", end="2030-10-27T03:30")
    assert made["start"].startswith("2030-10-27T00:30:00") and made["start_local"] == "2030-10-27T02:30:00+02:00"


def test_lists_by_range_organizer_and_client_and_the_portal_sees_its_clients_only(tenant: Tenant):
    # Given appointments of two clients, one organized by the manager
    mine, theirs = tenant.client("Initech")["id"], tenant.client("Globex")["id"]
    early = appointment(tenant, start="2030-04-01T09:00", end="2030-04-01T10:00", client_id=mine)
    late = appointment(tenant, start="2030-04-09T09:00", end="2030-04-09T10:00", client_id=mine)
    other = appointment(tenant, client_id=theirs, organizer_id=None, by=tenant.manager)

    def ids(user, **query) -> list[str]:
        reply = call(user, "GET", "/calendar/appointments", query={k: str(v) for k, v in query.items()})
        assert reply.status == 200, reply.text
        return [a["id"] for a in reply.json["items"]]

    # Then lists come by start, narrowed by range, organizer and client
    assert ids(tenant.agent) == [early["id"], other["id"], late["id"]]
    assert ids(tenant.agent, start_from="2030-04-02T00:00:00Z") == [other["id"], late["id"]]
    assert ids(tenant.agent, organizer_id=tenant.manager.user_id) == [other["id"]]
    assert ids(tenant.agent, client_id=mine, start_to="2030-04-05T00:00:00Z") == [early["id"]]
    # and a portal user sees only their client's, in lists and by id
    portal = tenant.portal_user(mine)
    assert ids(portal) == [early["id"], late["id"]]
    call(portal, "GET", APPOINTMENT, {"appointment_id": other["id"]}).problem(404)
    assert call(portal, "GET", APPOINTMENT, {"appointment_id": early["id"]}).status == 200
    call(portal, "POST", "/calendar/appointments", body={}).problem(403)


# ---- invitations --------------------------------------------------------------------------------


def test_attendees_get_one_event_requested_updated_and_cancelled(tenant: Tenant, calendar_tap, sent_mail):
    # Given an appointment for a contact, a staff user and a plain address
    client = tenant.client("Initech")["id"]
    contact = tenant.contact(client, "Peter Gibbons", email="peter@initech.test")
    colleague = tenant.user("milton", "staff")
    made = appointment(
        tenant,
        client_id=client,
        location="Room 1",
        attendees=[
            {"contact_id": contact["id"], "time_zone": "America/New_York"},
            {"user_id": colleague.user_id},
            {"email": "bob@example.test", "name": "Bob"},
        ],
    )
    calendar_tap(tenant)
    calendar_tap(tenant)  # a redelivered batch sends nothing again

    # Then each attendee (and the organizer) got one REQUEST with the same UID, SEQUENCE 0 and the times
    first = invitations_to(sent_mail(), "peter@initech.test")
    assert len(first) == 1
    event = event_of(first[0])
    assert str(first[0]["method"]) == "REQUEST"
    assert str(event["uid"]) == f"{made['id']}@{tenant.id}.deskos" and int(event["sequence"]) == 0
    assert event.decoded("dtstart") == datetime(2030, 4, 2, 8, 0, tzinfo=UTC)
    assert str(event["dtstart"].params["TZID"]) == "Europe/Berlin"
    assert attendees_of(event) == {"peter@initech.test", colleague.email, "bob@example.test"}
    assert len(invitations_to(sent_mail(), colleague.email)) == 1
    assert len(invitations_to(sent_mail(), tenant.agent.email)) == 1  # the organizer's calendar too
    [peter] = [m for m in sent_mail() if "peter@initech.test" in m["destinations"]["ToAddresses"]]
    assert "04:00 EDT (America/New_York)" in peter["body"]  # written in the recipient's zone

    # When it is rescheduled, Bob dropped; then cancelled
    reply = call(
        tenant.agent,
        "PATCH",
        APPOINTMENT,
        {"appointment_id": made["id"]},
        body={
            "version": 1,
            "start": "2030-04-03T15:00",
            "end": "2030-04-03T16:00",
            "attendees": [{"contact_id": contact["id"]}, {"user_id": colleague.user_id}],
        },
    )
    assert reply.status == 200 and reply.json["sequence"] == 1, reply.text
    calendar_tap(tenant)
    cancelled = call(tenant.agent, "POST", f"{APPOINTMENT}/cancel", {"appointment_id": made["id"]})
    assert cancelled.status == 200 and cancelled.json["status"] == "cancelled", cancelled.text
    calendar_tap(tenant)

    # Then Peter's calendar got the update (SEQUENCE 1, new time) and the cancel (SEQUENCE 2) for the same UID
    methods = [
        (str(c["method"]), int(event_of(c)["sequence"])) for c in invitations_to(sent_mail(), "peter@initech.test")
    ]
    assert methods == [("REQUEST", 0), ("REQUEST", 1), ("CANCEL", 2)]
    update = event_of(invitations_to(sent_mail(), "peter@initech.test")[1])
    assert update.decoded("dtstart") == datetime(2030, 4, 3, 13, 0, tzinfo=UTC)
    assert {str(event_of(c)["uid"]) for c in invitations_to(sent_mail(), "peter@initech.test")} == {str(event["uid"])}
    # and Bob, dropped by the update, got a CANCEL then and nothing more
    assert [str(c["method"]) for c in invitations_to(sent_mail(), "bob@example.test")] == ["REQUEST", "CANCEL"]
    # and a cancelled appointment cannot change again
    call(tenant.agent, "POST", f"{APPOINTMENT}/cancel", {"appointment_id": made["id"]}).problem(409)


def test_a_stale_version_is_refused_and_a_title_only_change_is_not_resent(tenant: Tenant, calendar_tap, sent_mail):
    made = appointment(tenant, attendees=[{"email": "eve@example.test"}])
    path = {"appointment_id": made["id"]}
    call(tenant.agent, "PATCH", APPOINTMENT, path, body={"version": 9, "title": "Late"}).problem(409)
    call(tenant.agent, "PATCH", APPOINTMENT, path, body={"title": "Late"}).problem(422)
    reply = call(tenant.agent, "PATCH", APPOINTMENT, path, body={"type": "demo"}, headers={"If-Match": '"1"'})
    assert reply.status == 200 and reply.json["sequence"] == 0 and reply.json["type"] == "demo", reply.text
    calendar_tap(tenant)
    assert len(invitations_to(sent_mail(), "eve@example.test")) == 1


def test_a_reschedule_across_a_dst_change_keeps_the_wall_clock(tenant: Tenant):
    # Given a 09:30 Berlin meeting in winter, moved (by its start only) into summer
    made = appointment(tenant, start="2030-03-25T09:30", end="2030-03-25T10:00")
    reply = call(
        tenant.agent,
        "PATCH",
        APPOINTMENT,
        {"appointment_id": made["id"]},
        body={"version": 1, "start": "2030-04-01T09:30", "end": "2030-04-01T10:00"},
    )
    # Then it is 09:30 summer time, an hour earlier in UTC
    assert reply.status == 200, reply.text
    assert made["start"].startswith("2030-03-25T08:30") and reply.json["start"].startswith("2030-04-01T07:30")
    assert reply.json["start_local"] == "2030-04-01T09:30:00+02:00"
