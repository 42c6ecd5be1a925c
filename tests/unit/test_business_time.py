"""Business-time arithmetic: examples people check by hand, and properties checked by hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.business_time import (
    BusinessCalendar,
    Window,
    add_business_minutes,
    add_business_time,
    business_minutes_between,
    business_time_between,
    next_open,
)

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar.weekly("Europe/Berlin", {d: [("09:00", "17:00")] for d in range(5)})
SPLIT = BusinessCalendar.weekly(
    "America/New_York",
    {d: [("08:00", "12:00"), ("13:00", "17:30")] for d in range(5)} | {5: [("10:00", "14:00")]},
    holidays=[date(2026, 7, 3), date(2026, 12, 25)],
)
NIGHTS = BusinessCalendar.weekly("Europe/Berlin", {d: [("01:00", "04:00"), ("22:00", "24:00")] for d in range(7)})
CALENDARS = [OFFICE, SPLIT, NIGHTS, BusinessCalendar.twenty_four_seven()]


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


# ---- examples ----------------------------------------------------------------------------------


def test_thirty_minutes_from_friday_1650_is_monday_0920():
    assert add_business_minutes(OFFICE, berlin(2026, 1, 9, 16, 50), 30) == berlin(2026, 1, 12, 9, 20)


def test_a_target_that_ends_at_closing_time_is_due_at_closing_time():
    assert add_business_minutes(OFFICE, berlin(2026, 1, 9, 16, 30), 30) == berlin(2026, 1, 9, 17, 0)


def test_a_holiday_is_skipped_whole():
    hours = {d: [("09:00", "17:00")] for d in range(5)}
    calendar = BusinessCalendar.weekly("Europe/Berlin", hours, holidays=[date(2026, 1, 12)])
    assert add_business_minutes(calendar, berlin(2026, 1, 9, 16, 50), 30) == berlin(2026, 1, 13, 9, 20)


def test_several_windows_a_day_leave_the_lunch_break_out():
    ny = ZoneInfo("America/New_York")
    start = datetime(2026, 3, 2, 11, 30, tzinfo=ny)
    assert add_business_minutes(SPLIT, start, 60) == datetime(2026, 3, 2, 13, 30, tzinfo=ny)
    assert business_minutes_between(SPLIT, start, datetime(2026, 3, 2, 14, 0, tzinfo=ny)) == 90


def test_office_hours_last_eight_real_hours_across_daylight_saving_changes():
    # Spring forward (29 March 2026) and fall back (25 October 2026) both fall on a Sunday night.
    assert add_business_minutes(OFFICE, berlin(2026, 3, 27, 17, 0), 60) == berlin(2026, 3, 30, 10, 0)
    assert business_minutes_between(OFFICE, berlin(2026, 3, 27, 9, 0), berlin(2026, 3, 30, 17, 0)) == 16 * 60
    assert business_minutes_between(OFFICE, berlin(2026, 10, 23, 9, 0), berlin(2026, 10, 26, 17, 0)) == 16 * 60


def test_a_night_window_across_the_clock_change_counts_the_time_that_really_passes():
    # 01:00-04:00 local: two real hours on the spring-forward night, four on the fall-back night
    spring = business_minutes_between(NIGHTS, berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 29, 12, 0))
    autumn = business_minutes_between(NIGHTS, berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 25, 12, 0))
    assert (spring, autumn) == (120, 240)


def test_next_open_is_the_instant_itself_inside_a_window_and_the_next_start_outside():
    assert next_open(OFFICE, berlin(2026, 1, 7, 12, 0)) == berlin(2026, 1, 7, 12, 0)
    assert next_open(OFFICE, berlin(2026, 1, 9, 17, 0)) == berlin(2026, 1, 12, 9, 0)
    assert next_open(OFFICE, berlin(2026, 1, 10, 8, 0)) == berlin(2026, 1, 12, 9, 0)


def test_twenty_four_seven_counts_every_second():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    calendar = BusinessCalendar.twenty_four_seven()
    assert add_business_minutes(calendar, start, 0.05) == start + timedelta(seconds=3)
    assert business_minutes_between(calendar, start, start + timedelta(days=2)) == 2 * 24 * 60


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: BusinessCalendar(zone="Europe/Berlin"), "at least one weekly window"),
        (lambda: Window(0, 600, 540), "start < end"),
        (lambda: Window(7, 0, 60), "weekday"),
    ],
)
def test_a_calendar_that_can_never_open_is_refused(make, message: str):
    with pytest.raises(ValueError, match=message):
        make()


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        next_open(OFFICE, datetime(2026, 1, 9, 12, 0))


# ---- properties --------------------------------------------------------------------------------

instants = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)).map(
    lambda d: d.replace(microsecond=0)
)
durations = st.integers(min_value=0, max_value=60 * 24 * 30).map(lambda m: timedelta(minutes=m)) | st.integers(
    min_value=1, max_value=600
).map(lambda s: timedelta(seconds=s))
calendars = st.sampled_from(CALENDARS)


def inside_business_hours(calendar: BusinessCalendar, moment: datetime) -> bool:
    opens, closes = next(calendar.open_intervals(moment - timedelta(microseconds=1)))
    return opens <= moment <= closes


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, start=instants, duration=durations)
def test_adding_then_measuring_gives_back_the_same_business_time(calendar, start, duration):
    assert business_time_between(calendar, start, add_business_time(calendar, start, duration)) == duration


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, start=instants, duration=durations)
def test_a_due_time_never_falls_outside_business_hours(calendar, start, duration):
    assert inside_business_hours(calendar, add_business_time(calendar, start, duration))


@settings(max_examples=100, deadline=None)
@given(calendar=calendars, start=instants, first=durations, second=durations)
def test_adding_in_two_steps_is_adding_once(calendar, start, first, second):
    if first and second:  # a zero step from a closing time would first move to the next opening
        middle = add_business_time(calendar, start, first)
        assert add_business_time(calendar, middle, second) == add_business_time(calendar, start, first + second)


@settings(max_examples=100, deadline=None)
@given(calendar=calendars, a=instants, b=instants, c=instants)
def test_business_time_adds_up_over_consecutive_spans_and_never_exceeds_real_time(calendar, a, b, c):
    a, b, c = sorted((a, b, c))
    ab, bc = business_time_between(calendar, a, b), business_time_between(calendar, b, c)
    assert ab + bc == business_time_between(calendar, a, c)
    assert timedelta(0) <= ab <= b - a


@settings(max_examples=100, deadline=None)
@given(calendar=calendars, start=instants)
def test_next_open_is_open_and_no_business_time_is_skipped_to_reach_it(calendar, start):
    opened = next_open(calendar, start)
    assert opened >= start and inside_business_hours(calendar, opened)
    assert business_time_between(calendar, start, opened) == timedelta(0)
