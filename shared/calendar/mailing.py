"""The calendar's emails, sent by the CalendarMail stream consumer from the changes it sees: invitations
(with the .ics), voting links, reminders to those who have not voted, and notes to the organizer. Each
recipient reads the times in their own zone (default: the meeting's)."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared import links, mail
from shared.calendar import ics, times
from shared.calendar.appointments import Appointment
from shared.calendar.people import Person
from shared.calendar.polls import VOTE_PURPOSE, Poll, tally, with_ballots

LINK_GRACE = timedelta(days=30)  # a link outlives the deadline: a late vote hears "closed" (409), not "invalid"


# ---- appointments ---------------------------------------------------------------------------------


def invite(
    appointment: Appointment, method: ics.Method, people: list[Person], stamp: datetime, listed: list[Person]
) -> list[str]:
    """Email each of ``people`` the appointment's .ics (REQUEST or CANCEL) naming ``listed`` as its attendees
    (all of them; in the CANCEL of people dropped, those); the addresses mailed."""
    if not people:
        return []
    data = ics.invitation(appointment, method, listed, stamp)
    content_type = f"text/calendar; method={method}"
    verb = "Cancelled" if method == "CANCEL" else ("Updated" if int(appointment.sequence) else "Invitation")
    sent = []
    for person in people:
        zone = person.time_zone or appointment.time_zone
        when = times.spoken_span(appointment.start, appointment.end, zone)
        lines = [
            f"{appointment.title}",
            f"When: {when}",
            *([f"Where: {appointment.location}"] if appointment.location else []),
            *([f"Join: {appointment.meeting_url}"] if appointment.meeting_url else []),
            f"Organizer: {Person(**appointment.organizer).name}",
            "",
            "This meeting has been cancelled." if method == "CANCEL" else "The invitation is attached (invite.ics).",
        ]
        mail.send(
            [person.email],
            f"{verb}: {appointment.title} — {times.spoken(appointment.start, zone)}",
            "\n".join(lines) + "\n",
            attachments=[mail.Attachment("invite.ics", content_type, data)],
        )
        sent.append(person.email)
    return sent


def everyone(appointment: Appointment) -> list[Person]:
    """The attendees and the organizer (whose calendar holds the event too), each once."""
    organizer = Person(**appointment.organizer)
    attendees = [p for p in appointment.people() if p.email.lower() != organizer.email.lower()]
    return [*attendees, organizer]


# ---- polls ----------------------------------------------------------------------------------------


def vote_token(poll: Poll, invitee_key: str) -> str:
    return links.sign(VOTE_PURPOSE, poll.tenant_id, poll.id, poll.deadline + LINK_GRACE, invitee=invitee_key)


def vote_link(poll: Poll, invitee_key: str) -> str:
    """The voting page (the web app's), with the poll's id beside the token: the page reads the poll with
    ``GET …/{poll_id}/ballot?token=`` and votes with ``POST …/{poll_id}/vote``."""
    return f"{links.page_url('vote', vote_token(poll, invitee_key))}&poll={poll.id}"


def _slot_lines(poll: Poll, zone: str) -> list[str]:
    return [
        f"  {s['id']}: {times.spoken_span(datetime.fromisoformat(s['start']), datetime.fromisoformat(s['end']), zone)}"
        for s in poll.slots
    ]


def send_to_invitee(poll: Poll, invitee: dict, kind: str) -> str:
    """An invitee's voting link: the invitation (``invite``) or the reminder to one who has not voted
    (``remind``), with the slots in the invitee's zone."""
    person = Person(**{k: v for k, v in invitee.items() if k != "key"})
    zone = person.time_zone or poll.time_zone
    if kind == "remind":
        subject = f"Reminder: when can you meet? {poll.title}"
        intro = f"A reminder: voting on {poll.title} closes within a day, and we have not heard from you yet."
    else:
        subject = f"When can you meet? {poll.title}"
        organizer = Person(**poll.organizer)
        intro = f"{organizer.name} asks when you can meet for {poll.title} ({int(poll.duration_minutes)} minutes)."
    lines = [
        intro,
        "",
        *_slot_lines(poll, zone),
        "",
        f"Vote by {times.spoken(poll.deadline, zone)}:",
        vote_link(poll, invitee["key"]),
    ]
    mail.send([person.email], subject, "\n".join(lines) + "\n")
    return person.email


def tell_organizer(poll: Poll, why: str) -> list[str]:
    """``all_voted`` or ``closed``: the organizer hears, with the best slots."""
    organizer = Person(**poll.organizer)
    zone = organizer.time_zone or poll.time_zone
    _, ballots = with_ballots(poll.tenant_id, poll.id)
    ranked = tally(poll, ballots).slots
    if why == "all_voted":
        subject, intro = f"Everyone has voted: {poll.title}", f"All {len(poll.invitees)} invitees have voted."
    else:
        subject, intro = f"Voting closed: {poll.title}", "The deadline has passed and the poll has closed."
    best = next((r for r in ranked if r.slot_id == poll.best_slot_id), ranked[0] if ranked else None)
    lines = [intro]
    if best is not None and (best.yes or best.if_need_be):
        when = times.spoken_span(best.start, best.end, zone)
        lines += ["", f"Best slot: {best.slot_id}, {when} — {best.yes} yes, {best.if_need_be} if need be."]
    else:
        lines += ["", "No slot suits anyone yet."]
    lines += ["", "Results:"] + [f"  {r.slot_id}: {r.yes} yes, {r.if_need_be} if need be, {r.no} no" for r in ranked]
    mail.send([organizer.email], subject, "\n".join(lines) + "\n")
    return [organizer.email]
