"""Meeting polls: an organizer offers up to 50 slots in one zone to up to 100 invitees, who vote ``yes``,
``if_need_be`` or ``no`` per slot until the deadline; the best slot is booked as an appointment, once.

Keys: the poll ``T#<t>#MPOLL#<id>`` / ``MPOLL`` and, in its partition, one ballot per invitee who voted
(``BALLOT#<invitee key>``: a revote overwrites it), so the poll and its results are one Query. Lists: all,
newest first, GSI1 ``T#<t>#MPOLLS``; of a client GSI2 ``T#<t>#CLIENT#<client>#MPOLLS``. A portal user sees
exactly the polls that invite them — whatever the poll's client — through the invitation index written with
the poll (shared/calendar/invitations.py); any other poll reads as missing. An open poll sits in the DUE
index (``POLLDUE#<shard>``) at its next moment: the reminder (24 hours before the deadline, if the poll was
made before then, while someone has not voted), then the deadline, where the sweep closes it and records the best slot.

A vote writes its ballot and adds its invitee to the poll's ``voters`` in one transaction conditioned on
the poll being open, so a vote never lands on a closed poll; once anyone has voted, the slots, their
length and the zone are locked (a change is conditioned on ``voters`` being absent). Booking moves the
poll to ``booked`` and inserts the appointment in one transaction conditioned on the version read: two
concurrent bookings make one appointment, the other gets 409."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import TransactWriteError

from shared.calendar import appointments, invitations, people, times
from shared.calendar import due as schedule
from shared.calendar.appointments import Appointment, Place, Text, Type, Url
from shared.calendar.people import PersonIn, PersonOut
from shared.caller import TenantContext
from shared.clock import now
from shared.db.due import DueIndex
from shared.db.entities import Entity, Requires, expect_version, require_state, save, touch
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import Item, tkey, transaction
from shared.errors import Conflict, Forbidden, NotFound, Unprocessable
from shared.hours import TimeZone
from shared.schemas import Audited, Id, Name, Strict, Versioned

Status = Literal["open", "closed", "booked"]
Choice = Literal["yes", "if_need_be", "no"]
MAX_SLOTS, MAX_INVITEES = 50, 100
REMIND_BEFORE = timedelta(hours=24)
LOCKED = "The slots, their length and the time zone are locked once anyone has voted."
SlotId = Annotated[str, Field(min_length=2, max_length=3, pattern=r"^S[0-9]{1,2}$")]

VOTE_PURPOSE = "poll-vote"  # the purpose voting links are signed for (shared/calendar/mailing.py signs them)


class Poll(Entity, discriminator="meeting_poll"):
    noun, prefix = "meeting poll", "MPOLL"
    title = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    organizer_id = UnicodeAttribute()
    organizer = JSONAttribute()
    duration_minutes = NumberAttribute()
    time_zone = UnicodeAttribute()
    slots = JSONAttribute()  # [{"id": "S1", "start": iso, "end": iso}]
    invitees = JSONAttribute()  # stored Persons, each with its "key"
    deadline = UTCDateTimeAttribute()
    client_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="open")
    voters = UnicodeSetAttribute(null=True)  # invitee keys
    reminded_at = UTCDateTimeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)
    closed_by = UnicodeAttribute(null=True)  # "organizer" or "deadline"
    best_slot_id = UnicodeAttribute(null=True)  # recorded when the deadline closes it
    appointment_id = UnicodeAttribute(null=True)
    DUEPK = UnicodeAttribute(null=True)
    DUESK = UnicodeAttribute(null=True)
    due = DueIndex()

    @staticmethod
    def partition_of_all(tenant_id: str) -> str:
        return tkey(tenant_id, "MPOLLS")

    @staticmethod
    def partition_of_client(tenant_id: str, client_id: str) -> str:
        return tkey(tenant_id, "CLIENT", client_id, "MPOLLS")

    def index(self) -> None:
        order = self.time_order
        self.GSI1PK, self.GSI1SK = self.partition_of_all(self.tenant_id), order
        client = self.partition_of_client(self.tenant_id, self.client_id) if self.client_id else None
        self.GSI2PK, self.GSI2SK = (client, order) if client else (None, None)
        self.DUEPK, self.DUESK = schedule.keys("POLLDUE", self, self.next_due())

    def visible_to(self, ctx: TenantContext) -> bool:
        """Staff see every poll; a portal user the polls that invite them (the rule their list follows)."""
        return not ctx.is_portal or any(i.get("login") == invitations.login_of(ctx) for i in self.invitees)

    # ---- what is due ------------------------------------------------------------------------------

    @property
    def remind_at(self) -> datetime | None:
        """24 hours before the deadline, for a poll made before then."""
        moment = self.deadline - REMIND_BEFORE
        return moment if moment > self.created_at else None

    def non_voters(self) -> list[dict]:
        voted = self.voters or set()
        return [i for i in self.invitees if i["key"] not in voted]

    def reminder_due(self, at: datetime) -> bool:
        remind = self.remind_at
        return self.reminded_at is None and remind is not None and remind <= at and bool(self.non_voters())

    def next_due(self) -> datetime | None:
        if self.status != "open":
            return None
        remind = self.remind_at
        if self.reminded_at is None and remind is not None and self.non_voters():
            return remind
        return self.deadline

    def slot(self, slot_id: str) -> dict | None:
        return next((s for s in self.slots if s["id"] == slot_id), None)

    def invitee(self, key: str) -> dict | None:
        return next((i for i in self.invitees if i["key"] == key), None)


class Ballot(Item, discriminator="meeting_poll_ballot"):
    """One invitee's votes on a poll; a revote overwrites it."""

    poll_id = UnicodeAttribute()
    invitee = UnicodeAttribute()  # the invitee's key
    choices = JSONAttribute()  # slot id -> choice
    voted_at = UTCDateTimeAttribute()
    via = UnicodeAttribute()  # "link" or "signed_in"

    @staticmethod
    def key(tenant_id: str, poll_id: str, invitee: str) -> tuple[str, str]:
        return tkey(tenant_id, Poll.prefix, poll_id), f"BALLOT#{invitee}"


# ---- requests and answers -------------------------------------------------------------------------


class SlotIn(Strict):
    start: times.Wall
    end: times.Wall | None = Field(default=None, description="Default: start plus the poll's duration.")


Slots = Annotated[list[SlotIn], Field(min_length=1, max_length=MAX_SLOTS)]
Duration = Annotated[int, Field(ge=5, le=24 * 60, description="Minutes.")]


class NewPoll(Strict):
    title: Name
    description: Text | None = None
    organizer_id: Id | None = Field(default=None, description="A staff user; default: you.")
    duration_minutes: Duration = 30
    time_zone: TimeZone
    slots: Slots
    invitees: Annotated[list[PersonIn], Field(min_length=1, max_length=MAX_INVITEES)]
    deadline: times.Wall = Field(description="When voting closes (local to time_zone unless it has an offset).")
    client_id: Id | None = None


class PollPatch(Versioned):
    title: Name | None = None
    description: Text | None = None
    duration_minutes: Duration | None = None
    time_zone: TimeZone | None = None
    slots: Slots | None = None
    deadline: times.Wall | None = None


class Vote(Strict):
    choices: Annotated[dict[SlotId, Choice], Field(max_length=MAX_SLOTS)] = Field(
        description="Per slot id: yes, if_need_be or no; a slot left out is no."
    )


class TokenVote(Vote):
    token: str | None = Field(default=None, max_length=1024, description="From the emailed voting link.")


class Booking(Strict):
    slot: SlotId = Field(description="The id of the slot to book (S1, S2…).")
    title: Name | None = Field(default=None, description="Default: the poll's title.")
    location: Place | None = None
    meeting_url: Url | None = None
    type: Type = "meeting"


class SlotOut(BaseModel):
    id: str
    start: datetime
    end: datetime
    start_local: datetime


class InviteeOut(PersonOut):
    email: str | None = Field(description="Null for a portal reader, but their own.")  # type: ignore[assignment]
    key: str
    voted: bool
    you: bool = Field(default=False, description="The signed-in caller is this invitee.")


class PollOut(Audited):
    id: str
    title: str
    description: str | None
    organizer_id: str
    organizer: PersonOut
    duration_minutes: int
    time_zone: str
    slots: list[SlotOut]
    invitees: list[InviteeOut]
    deadline: datetime
    client_id: str | None
    status: Status
    reminded_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    best_slot_id: str | None
    appointment_id: str | None

    @classmethod
    def of(cls, poll: Poll, viewer: TenantContext | None = None) -> PollOut:  # type: ignore[override]
        """The poll as ``viewer`` may read it: a portal user (invited, perhaps to another client's poll) reads
        the other invitees' names, not their addresses."""
        voted = poll.voters or set()
        fields = {name: getattr(poll, name) for name in cls.model_fields if hasattr(poll, name)}
        fields["slots"] = [
            {**s, "start_local": times.local(datetime.fromisoformat(s["start"]), poll.time_zone)} for s in poll.slots
        ]
        you = invitee_key(viewer, poll) if viewer is not None else None
        portal = viewer is not None and viewer.is_portal
        fields["invitees"] = [
            {
                **i,
                "voted": i["key"] in voted,
                "you": i["key"] == you,
                "email": i["email"] if not portal or i["key"] == you else None,
            }
            for i in poll.invitees
        ]
        return cls.model_validate(fields)


class BallotView(BaseModel):
    """What the voting page shows an invitee with a link: the poll, its slots in its zone, and their own votes."""

    poll_id: str
    title: str
    description: str | None
    organizer_name: str
    duration_minutes: int
    time_zone: str
    slots: list[SlotOut]
    deadline: datetime
    status: Status
    invitee_name: str
    choices: dict[str, Choice] | None = Field(description="The invitee's votes so far; null before the first.")


class SlotResult(BaseModel):
    slot_id: str
    start: datetime
    end: datetime
    yes: int
    if_need_be: int
    no: int
    yes_by: list[str] = Field(description="Invitee names.")
    if_need_be_by: list[str]


class Results(BaseModel):
    poll_id: str
    status: Status
    voters: int
    invitees: int
    slots: list[SlotResult] = Field(description="Best first: most available (yes or if need be), then most yes.")


# ---- writing --------------------------------------------------------------------------------------


def _slots(given: list[SlotIn], zone: str, minutes: int) -> list[dict]:
    made: list[dict] = []
    for i, slot in enumerate(given):
        start = times.instant(slot.start, zone, f"slots[{i}].start")
        end = start + timedelta(minutes=minutes) if slot.end is None else None
        if end is None:
            start, end = times.span(slot.start, slot.end, zone, (f"slots[{i}].start", f"slots[{i}].end"))
        if any(s["start"] == start.isoformat() and s["end"] == end.isoformat() for s in made):
            raise Unprocessable.field(f"slots[{i}]", "This slot is offered twice.")
        made.append({"id": f"S{i + 1}", "start": start.isoformat(), "end": end.isoformat()})
    return made


def _deadline(value: datetime, zone: str) -> datetime:
    moment = times.instant(value, zone, "deadline")
    if moment <= now():
        raise Unprocessable.field("deadline", "The deadline must be in the future.")
    return moment


def create(ctx: TenantContext, body: NewPoll) -> Poll:
    organizer = people.organizer(ctx, body.organizer_id)
    invitees = people.resolve(ctx.tenant_id, body.invitees, "invitees")
    poll = Poll.new(
        ctx,
        title=body.title,
        description=body.description,
        organizer_id=organizer.id,
        organizer=organizer.stored(),
        duration_minutes=body.duration_minutes,
        time_zone=body.time_zone,
        slots=_slots(body.slots, body.time_zone, body.duration_minutes),
        invitees=[{**p.stored(), "key": f"{n + 1:03d}"} for n, p in enumerate(invitees)],
        deadline=_deadline(body.deadline, body.time_zone),
        client_id=body.client_id,
    )
    return _insert(ctx, poll, body.client_id)


def _insert(ctx: TenantContext, poll: Poll, client_id: str | None) -> Poll:
    """The poll, the client check and the invitation entries: one transaction (entries beyond what it holds
    are put first, and removed if it fails)."""
    poll.index()
    entries = invitations.entries(ctx.tenant_id, poll.id, poll.time_order, poll.invitees)
    staged, entries = entries[invitations.IN_TRANSACTION :], entries[: invitations.IN_TRANSACTION]
    client = appointments.client_exists(ctx.tenant_id, client_id) if client_id else None
    if staged:
        invitations.stage(staged)
    try:
        _write_new(poll, client, entries)
    except BaseException:
        if staged:
            invitations.unstage(staged)
        raise
    return poll


def _write_new(poll: Poll, client: Requires | None, entries: list[invitations.Invitation]) -> None:
    try:
        with storage_errors(), transaction() as tx:
            tx.save(poll, condition=Poll.PK.does_not_exist())
            if client is not None:
                tx.condition_check(client.model, *client.key, condition=client.condition)
            for entry in entries:
                tx.save(entry)
    except TransactWriteError as error:
        if client is not None and cancelled_by_condition(error, 1):
            raise client.error from None
        if cancelled_by_condition(error, 0):
            raise Conflict(f"This {Poll.noun} already exists.") from None
        raise


def update(ctx: TenantContext, poll_id: str, patch: PollPatch, if_match: int | None) -> Poll:
    poll = Poll.load(ctx, poll_id)
    expect_version(poll, patch.version, if_match)
    require_state(poll, ("open",), "changed")
    sent = patch.model_fields_set
    locked = bool(sent & {"slots", "time_zone", "duration_minutes"})
    if locked and poll.voters:
        raise Conflict(LOCKED)
    zone = patch.time_zone or poll.time_zone
    changes = patch.model_dump(exclude_unset=True, exclude={"version", "slots", "deadline"})
    if "slots" in sent or "time_zone" in sent or "duration_minutes" in sent:
        slots = patch.slots or [
            SlotIn(start=times.local(datetime.fromisoformat(s["start"]), poll.time_zone).replace(tzinfo=None))
            for s in poll.slots
        ]
        changes["slots"] = _slots(slots, zone, patch.duration_minutes or int(poll.duration_minutes))
    if "deadline" in sent:
        changes["deadline"] = _deadline(patch.deadline, zone) if patch.deadline else None
    for name, value in changes.items():
        if value is None and name != "description":
            raise Unprocessable.field(name, "May not be null.")
        setattr(poll, name, value)
    return save(ctx, poll, condition=Poll.voters.does_not_exist() if locked else None)


def close(ctx: TenantContext, poll_id: str, if_match: int | None) -> Poll:
    poll = Poll.load(ctx, poll_id)
    expect_version(poll, if_match, required=False)
    require_state(poll, ("open",), "closed")
    poll.status, poll.closed_at, poll.closed_by = "closed", now(), "organizer"
    return save(ctx, poll)


def book(ctx: TenantContext, poll_id: str, booking: Booking) -> tuple[Poll, Appointment]:
    """The appointment of the chosen slot with every invitee, and the poll ``booked``: one transaction."""
    poll = Poll.load(ctx, poll_id)
    if poll.status == "booked":
        raise Conflict("This meeting poll is already booked.", appointment_id=poll.appointment_id)
    slot = poll.slot(booking.slot)
    if slot is None:
        raise Unprocessable.field("slot", "No such slot in this poll.")
    appointment = appointments.build(
        ctx,
        title=booking.title or poll.title,
        start=datetime.fromisoformat(slot["start"]),
        end=datetime.fromisoformat(slot["end"]),
        time_zone=poll.time_zone,
        organizer=people.Person(**poll.organizer),
        attendees=[people.Person(**{k: v for k, v in i.items() if k != "key"}) for i in poll.invitees],
        description=poll.description,
        client_id=poll.client_id,
        location=booking.location,
        meeting_url=booking.meeting_url,
        type=booking.type,
        poll_id=poll.id,
    )
    poll.status, poll.appointment_id = "booked", appointment.id
    poll.closed_at = poll.closed_at or now()
    touch(ctx, poll)
    appointment.index()
    try:
        with storage_errors(), transaction() as tx:
            tx.save(poll, condition=Poll.status.is_in("open", "closed"))
            tx.save(appointment, condition=Appointment.PK.does_not_exist())
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            raise Conflict("This meeting poll is already booked or changed meanwhile; reload it.") from None
        raise
    return poll, appointment


# ---- voting -------------------------------------------------------------------------------------------


def vote(tenant_id: str, poll: Poll, invitee_key: str, body: Vote, via: str) -> Ballot:
    """Record (or replace) an invitee's votes; 409 once the poll is closed or its deadline has passed."""
    moment = now()
    if poll.status != "open" or moment >= poll.deadline:
        raise Conflict("Voting on this meeting poll has closed.", current_status=poll.status)
    if poll.invitee(invitee_key) is None:
        raise NotFound(f"No such {Poll.noun}.")
    unknown = [s for s in body.choices if poll.slot(s) is None]
    if unknown:
        raise Unprocessable.field(f"choices.{unknown[0]}", "No such slot in this poll.")
    ballot = Ballot(
        *Ballot.key(tenant_id, poll.id, invitee_key),
        tenant_id=tenant_id,
        poll_id=poll.id,
        invitee=invitee_key,
        choices={s["id"]: body.choices.get(s["id"], "no") for s in poll.slots},
        voted_at=moment,
        via=via,
        updated_by=f"invitee:{invitee_key}",
    )
    try:
        with storage_errors(), transaction() as tx:
            tx.update(
                poll,
                actions=[Poll.voters.add({invitee_key}), Poll.updated_at.set(moment)],
                condition=Poll.status == "open",
                add_version_condition=False,
            )
            tx.save(ballot)
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            raise Conflict("Voting on this meeting poll has closed.") from None
        raise
    return ballot


def invitee_key(ctx: TenantContext, poll: Poll) -> str | None:
    """The key of the signed-in caller among the invitees: by their user id, or (a portal user) the address
    they sign in with."""
    login = invitations.login_of(ctx) if ctx.is_portal else None
    for invitee in poll.invitees:
        if invitee.get("user_id") == ctx.user_id or (login is not None and invitee.get("login") == login):
            return invitee["key"]
    return None


def invitee_of(ctx: TenantContext, poll: Poll) -> str:
    """The key of the signed-in caller among the invitees; 403 if they are not one (a portal user who is not
    one never gets here: the poll is not theirs to see)."""
    key = invitee_key(ctx, poll)
    if key is None:
        raise Forbidden("You are not invited to this meeting poll.")
    return key


def poll_for_link(grant_tenant: str, poll_id: str, subject: str) -> Poll:
    """The poll a verified voting link names; 404 for a link made for another poll."""
    if subject != poll_id:
        raise NotFound(f"No such {Poll.noun}.")
    found = Poll.find(grant_tenant, poll_id)
    if found is None:
        raise NotFound(f"No such {Poll.noun}.")
    return found


def ballot_view(tenant_id: str, poll_id: str, subject: str, invitee_key: str) -> BallotView:
    """The poll as a voting link's invitee sees it, with their ballot: one Query (the poll's partition)."""
    poll, ballots = with_ballots(tenant_id, poll_id)
    invitee = poll.invitee(invitee_key) if poll is not None and subject == poll_id else None
    if invitee is None:
        raise NotFound(f"No such {Poll.noun}.")
    own = next((b for b in ballots if b.invitee == invitee_key), None)
    shown = PollOut.of(poll)
    return BallotView(
        poll_id=poll.id,
        title=poll.title,
        description=poll.description,
        organizer_name=poll.organizer["name"],
        duration_minutes=int(poll.duration_minutes),
        time_zone=poll.time_zone,
        slots=shown.slots,
        deadline=poll.deadline,
        status=poll.status,
        invitee_name=invitee["name"],
        choices=own.choices if own else None,
    )


# ---- reading --------------------------------------------------------------------------------------


def with_ballots(tenant_id: str, poll_id: str) -> tuple[Poll | None, list[Ballot]]:
    """The poll and every ballot: one Query of its partition."""
    poll, ballots = None, []
    with storage_errors():
        for item in Item.query(tkey(tenant_id, Poll.prefix, poll_id), consistent_read=True):
            if isinstance(item, Poll):
                poll = item
            elif isinstance(item, Ballot):
                ballots.append(item)
    return poll, ballots


def results(ctx: TenantContext, poll_id: str) -> Results:
    poll, ballots = with_ballots(ctx.tenant_id, poll_id)
    poll = Poll.visible(ctx, poll)
    return tally(poll, ballots)


def tally(poll: Poll, ballots: list[Ballot]) -> Results:
    names = {i["key"]: i["name"] for i in poll.invitees}
    rows = []
    for slot in poll.slots:
        by: dict[str, list[str]] = {"yes": [], "if_need_be": [], "no": []}
        for ballot in ballots:
            by[ballot.choices.get(slot["id"], "no")].append(names.get(ballot.invitee, ballot.invitee))
        rows.append(
            SlotResult(
                slot_id=slot["id"],
                start=slot["start"],
                end=slot["end"],
                yes=len(by["yes"]),
                if_need_be=len(by["if_need_be"]),
                no=len(by["no"]),
                yes_by=by["yes"],
                if_need_be_by=by["if_need_be"],
            )
        )
    rows.sort(key=lambda r: (-(r.yes + r.if_need_be), -r.yes, r.start))
    return Results(poll_id=poll.id, status=poll.status, voters=len(ballots), invitees=len(poll.invitees), slots=rows)


def page(ctx: TenantContext, *, client_id: str | None, limit: int, cursor: str | None) -> Page[Poll]:
    """Newest first: of a client, else all (one Query); a portal user's: the polls that invite them, whatever
    their client (``client_id`` is not theirs to choose)."""
    if ctx.is_portal:
        return invitations.page(ctx, Poll, limit=limit, cursor=cursor)
    if client_id:
        partition = Poll.partition_of_client(ctx.tenant_id, client_id)
        return query_page(
            Poll.gsi2, partition, ctx.tenant_id, f"polls:{client_id}", limit=limit, cursor=cursor, newest_first=True
        )
    partition = Poll.partition_of_all(ctx.tenant_id)
    return query_page(Poll.gsi1, partition, ctx.tenant_id, "polls", limit=limit, cursor=cursor, newest_first=True)


# ---- the sweep's side -----------------------------------------------------------------------------


@dataclass
class PollSweep:
    reminded: int = 0
    closed: int = 0


def handle_due(poll_key: tuple[str, str], at: datetime, result: PollSweep) -> None:
    """Remind or close one due poll, once: the write is conditioned on the version read; the mail
    consumer tells people from the change."""
    _, tenant_id, _, poll_id = poll_key[0].split("#")  # T#<tenant>#MPOLL#<id>
    poll, ballots = with_ballots(tenant_id, poll_id)
    if poll is None or poll.status != "open":
        return
    if at >= poll.deadline:
        best = tally(poll, ballots).slots
        poll.status, poll.closed_at, poll.closed_by = "closed", at, "deadline"
        poll.best_slot_id = best[0].slot_id if best and (best[0].yes or best[0].if_need_be) else None
        kind = "closed"
    elif poll.reminder_due(at):
        poll.reminded_at, kind = at, "reminded"
    else:
        kind = None  # nothing due any more (everyone voted): the entry moves on to the deadline
    poll.updated_at, poll.updated_by = at, schedule.ACTOR
    poll.index()
    try:
        with storage_errors():
            poll.save()
    except Conflict:
        return  # changed meanwhile (a vote, a close): the next run sees it as it is now
    if kind == "closed":
        result.closed += 1
    elif kind == "reminded":
        result.reminded += 1
