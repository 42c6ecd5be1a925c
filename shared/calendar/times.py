"""Meeting times: what a client writes (a local wall-clock time in the meeting's IANA zone, or an instant),
what is stored (the UTC instant with its zone) and how a recipient reads it (in their own zone).

A wall-clock time is turned into an instant with the zone's rules for that day, so a meeting booked in
winter for 10:00 in summer is at 10:00 summer time, whatever the offset was when it was booked. A local
time the clocks skip (spring forward) is refused; one they pass twice (fall back) is its first passing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, Field

from shared.errors import Unprocessable
from shared.schemas import EARLIEST, LATEST, Iso

MAX_DURATION = timedelta(days=31)


def _plausible_wall(moment: datetime) -> datetime:
    naive = moment.replace(tzinfo=None) if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)
    if not EARLIEST.replace(tzinfo=None) + timedelta(days=1) <= naive < LATEST.replace(tzinfo=None):
        raise ValueError("must lie between 1970 and 8999")
    return moment


Wall = Annotated[
    datetime,
    Iso,
    AfterValidator(_plausible_wall),
    Field(
        description="A local time in the meeting's time zone (2027-03-30T10:00, kept at 10:00 across DST changes),"
        " or an instant with an offset (2027-03-30T08:00:00Z).",
    ),
]


def instant(value: datetime, zone: str, field: str) -> datetime:
    """The UTC instant of ``value``: a zone-less value is a wall-clock time in ``zone``; 422 on ``field`` for a
    local time that does not exist there (the hour the clocks skip)."""
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    tz = ZoneInfo(zone)
    local = value.replace(tzinfo=tz, fold=0)
    moment = local.astimezone(UTC)
    if moment.astimezone(tz).replace(tzinfo=None) != value:
        raise Unprocessable.field(
            field, f"{value:%Y-%m-%d %H:%M} does not exist in {zone}: the clocks go forward then."
        )
    return moment


def span(
    start: datetime, end: datetime, zone: str, fields: tuple[str, str] = ("start", "end")
) -> tuple[datetime, datetime]:
    """Start and end as UTC instants; 422 unless the end follows the start within ``MAX_DURATION``."""
    first, last = instant(start, zone, fields[0]), instant(end, zone, fields[1])
    if last <= first:
        raise Unprocessable.field(fields[1], f"{fields[1]} must be after {fields[0]}.")
    if last - first > MAX_DURATION:
        raise Unprocessable.field(fields[1], f"A meeting lasts at most {MAX_DURATION.days} days.")
    return first, last


def local(moment: datetime, zone: str) -> datetime:
    """The instant as a wall clock in ``zone`` shows it (with its offset)."""
    return moment.astimezone(ZoneInfo(zone))


def spoken(moment: datetime, zone: str) -> str:
    """How an email says when: ``Tuesday 30 March 2027, 10:00 CEST (Europe/Berlin)``."""
    shown = local(moment, zone)
    return f"{shown:%A %d %B %Y, %H:%M} {shown.tzname()} ({zone})"


def spoken_span(start: datetime, end: datetime, zone: str) -> str:
    finish = local(end, zone)
    same_day = local(start, zone).date() == finish.date()
    return f"{spoken(start, zone)} - {finish:%H:%M}" if same_day else f"{spoken(start, zone)} - {spoken(end, zone)}"
