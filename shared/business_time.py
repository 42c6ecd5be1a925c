"""Business time: when a team (or a technician) works, and clock arithmetic that counts only that time.

A ``BusinessCalendar`` is an IANA time zone, weekly windows (several per day allowed), holidays
(whole local days off) — or 24x7. Pure functions, no I/O:

- ``add_business_time(start, duration)``: the instant at which ``duration`` of business time has
  elapsed after ``start`` (a due time). It always lies inside a window (the end of a window counts:
  a 30-minute target from 16:30 on a day that closes at 17:00 is due at 17:00).
- ``business_time_between(a, b)``: how much business time lies between two instants.
- ``next_open(instant)``: the instant itself when open, else the start of the next window.
- ``add_business_minutes`` / ``business_minutes_between``: the same, in (possibly fractional) minutes.

Windows are local wall-clock times; they are turned into UTC day by day, so daylight-saving
transitions are handled by what really elapses: a 09:00-17:00 window is 8 hours on every day, and
a 01:00-04:00 window is 2 hours on the spring-forward night and 4 on the fall-back night (a
non-existent local time is read with the offset before the transition, an ambiguous one as its
first occurrence). All instants are timezone-aware; results are in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

DAY_MINUTES = 24 * 60
# With at least one weekly window, an open interval exists within a week plus the holidays; a
# calendar that finds none within this many days is a bug in its data, not a slow search.
MAX_SEARCH_DAYS = 3 * 366


@dataclass(frozen=True, order=True)
class Window:
    """Open on ``weekday`` (0 = Monday) from ``start`` to ``end``, minutes after local midnight (end ≤ 1440)."""

    weekday: int
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday must be 0 (Monday) … 6 (Sunday)")
        if not 0 <= self.start < self.end <= DAY_MINUTES:
            raise ValueError("a window needs 0 <= start < end <= 1440 minutes")


@dataclass(frozen=True)
class BusinessCalendar:
    zone: str = "UTC"
    windows: tuple[Window, ...] = ()
    holidays: frozenset[date] = field(default_factory=frozenset)
    always_open: bool = False

    def __post_init__(self) -> None:
        ZoneInfo(self.zone)  # raises for an unknown zone
        if not self.always_open and not self.windows:
            raise ValueError("a business calendar needs at least one weekly window (or always_open)")

    @classmethod
    def twenty_four_seven(cls) -> BusinessCalendar:
        return cls(always_open=True)

    @classmethod
    def weekly(
        cls, zone: str, hours: dict[int, Iterable[tuple[str, str]]], holidays: Iterable[date] = ()
    ) -> BusinessCalendar:
        """``weekly("Europe/Berlin", {0: [("09:00", "17:00")], ...})``; "24:00" ends a window at midnight."""
        windows = tuple(
            sorted(Window(day, _minutes(start), _minutes(end)) for day, spans in hours.items() for start, end in spans)
        )
        return cls(zone=zone, windows=windows, holidays=frozenset(holidays))

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @cached_property
    def _by_weekday(self) -> dict[int, list[Window]]:
        days: dict[int, list[Window]] = {d: [] for d in range(7)}
        for window in sorted(self.windows):
            days[window.weekday].append(window)
        return days

    def open_intervals(self, after: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals ``[start, end)`` in UTC, in order, merged, from the one holding ``after`` on."""
        _check_aware(after)
        if self.always_open:
            yield after.astimezone(UTC), datetime.max.replace(tzinfo=UTC)
            return
        day = after.astimezone(self.tz).date() - timedelta(days=1)
        pending: tuple[datetime, datetime] | None = None
        empty_days = 0
        while empty_days <= MAX_SEARCH_DAYS:
            found = False
            for start, end in self._day_intervals(day):
                if end <= after:
                    continue
                found = True
                if pending is not None and start <= pending[1]:
                    pending = (pending[0], max(pending[1], end))
                    continue
                if pending is not None:
                    yield pending
                pending = (start, end)
            empty_days = 0 if found else empty_days + 1
            day += timedelta(days=1)
        if pending is not None:
            yield pending
        raise ValueError(f"the calendar has no business time within {MAX_SEARCH_DAYS} days of {after.isoformat()}")

    def _day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.holidays:
            return []
        intervals = []
        for window in self._by_weekday[day.weekday()]:
            start = self._local(day, window.start)
            end = self._local(day, window.end)
            if end > start:  # a window wholly inside a spring-forward gap has no length
                intervals.append((start, end))
        return intervals

    def _local(self, day: date, minutes: int) -> datetime:
        if minutes == DAY_MINUTES:
            day, minutes = day + timedelta(days=1), 0
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.tz)
        return local.astimezone(UTC)


def next_open(calendar: BusinessCalendar, instant: datetime) -> datetime:
    """``instant`` if the calendar is open then, else the start of the next window."""
    start, _end = next(calendar.open_intervals(instant))
    return max(start, instant.astimezone(UTC))


def add_business_time(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The instant at which ``duration`` of business time has elapsed since ``start``."""
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    start = start.astimezone(UTC)
    remaining = duration
    for opens, closes in calendar.open_intervals(start):
        opens = max(opens, start)
        available = closes - opens
        if remaining <= available:
            return opens + remaining
        remaining -= available
    raise AssertionError("open_intervals never ends")  # pragma: no cover


def business_time_between(calendar: BusinessCalendar, a: datetime, b: datetime) -> timedelta:
    """Business time within ``[a, b)``; zero when ``b`` is not after ``a``."""
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    total = timedelta(0)
    if b <= a:
        return total
    for opens, closes in calendar.open_intervals(a):
        if opens >= b:
            break
        total += min(closes, b) - max(opens, a)
    return total


def add_business_minutes(calendar: BusinessCalendar, start: datetime, minutes: float) -> datetime:
    return add_business_time(calendar, start, timedelta(minutes=minutes))


def business_minutes_between(calendar: BusinessCalendar, a: datetime, b: datetime) -> float:
    return business_time_between(calendar, a, b) / timedelta(minutes=1)


def _minutes(clock: str) -> int:
    hours, _, minutes = clock.partition(":")
    return int(hours) * 60 + int(minutes or 0)


def _check_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instants must be timezone-aware")
