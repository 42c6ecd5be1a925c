"""Business hours as clients write them: an IANA time zone and weekly windows (SLA policy calendars, a
technician's working hours, a tenant's default hours), validated and turned into a ``BusinessCalendar``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from shared.business_time import BusinessCalendar, Window
from shared.schemas import Date, Strict

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Clock = Annotated[str, StringConstraints(max_length=5, pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]


def _known_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown IANA time zone") from None
    return value


TimeZone = Annotated[
    str, Field(max_length=64, description="IANA time zone, e.g. Europe/Berlin."), AfterValidator(_known_zone)
]


class BusinessHours(Strict):
    day: Day
    start: Clock = Field(description="Local time, HH:MM.")
    end: Clock = Field(description="Local time, HH:MM; 24:00 is midnight at the end of the day.")

    @model_validator(mode="after")
    def _ordered(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


Windows = Annotated[list[BusinessHours], Field(max_length=70, description="Several per day allowed.")]


class BusinessCalendarIn(Strict):
    time_zone: TimeZone = "UTC"
    always_open: bool = Field(default=False, description="24x7: every minute counts; windows and holidays unused.")
    windows: Windows = Field(default_factory=list)
    holidays: list[Date] = Field(default_factory=list, max_length=400, description="Whole local days off.")

    @model_validator(mode="after")
    def _some_hours(self) -> BusinessCalendarIn:
        if not self.always_open and not self.windows:
            raise ValueError("give business-hours windows, or always_open for 24x7")
        return self

    def calendar(self) -> BusinessCalendar:
        if self.always_open:
            return BusinessCalendar.twenty_four_seven()
        windows = tuple(sorted(Window(DAYS.index(w.day), _minutes(w.start), _minutes(w.end)) for w in self.windows))
        return BusinessCalendar(zone=self.time_zone, windows=windows, holidays=frozenset(self.holidays))


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)
