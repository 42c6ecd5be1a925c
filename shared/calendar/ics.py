"""RFC 5545 invitations of an appointment, written with the ``icalendar`` library (imported only by the
calendar mail consumer, which alone sends them).

One UID per appointment for life (``<id>@<tenant>.deskos``) and its ``sequence`` as SEQUENCE: Outlook,
Google and Apple calendars then update the one event on each METHOD:REQUEST and remove it on METHOD:CANCEL.
Times are written in the meeting's IANA zone (TZID with its VTIMEZONE), so a calendar keeps the wall-clock
time across DST changes as the organizer meant it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from icalendar import Calendar, Event, vCalAddress, vText

from shared.calendar import times
from shared.calendar.appointments import Appointment
from shared.calendar.people import Person

Method = Literal["REQUEST", "CANCEL"]
PRODID = "-//DeskOS//Calendar//EN"


def uid(appointment: Appointment) -> str:
    return f"{appointment.id}@{appointment.tenant_id}.deskos"


def _address(person: Person, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(person.name)
    for name, value in params.items():
        address.params[name] = vText(value)
    return address


def invitation(appointment: Appointment, method: Method, attendees: list[Person], stamp: datetime) -> bytes:
    """The .ics of ``method`` for ``attendees`` (all of them in a REQUEST; those uninvited in a CANCEL)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", uid(appointment))
    event.add("sequence", int(appointment.sequence))
    event.add("dtstamp", stamp)
    event.add("dtstart", times.local(appointment.start, appointment.time_zone))
    event.add("dtend", times.local(appointment.end, appointment.time_zone))
    event.add("summary", appointment.title)
    if appointment.description:
        event.add("description", appointment.description)
    if appointment.location or appointment.meeting_url:
        event.add("location", appointment.location or appointment.meeting_url)
    if appointment.meeting_url:
        event.add("url", appointment.meeting_url)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("organizer", _address(Person(**appointment.organizer)))
    for person in attendees:
        event.add(
            "attendee",
            _address(person, ROLE="REQ-PARTICIPANT", PARTSTAT="NEEDS-ACTION", RSVP="TRUE", CUTYPE="INDIVIDUAL"),
            encode=0,
        )
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
