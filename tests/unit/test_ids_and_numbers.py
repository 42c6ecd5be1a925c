"""ULIDs and the ticket number format."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from shared.ids import is_ulid, new_id
from shared.support.numbering import SequenceFormat

MOMENT = datetime(2026, 3, 7, tzinfo=UTC)


def test_ulids_are_valid_and_sort_by_time():
    earlier, later = new_id(1_000), new_id(2_000)
    assert is_ulid(earlier) and is_ulid(later)
    assert earlier < later
    assert len({new_id() for _ in range(1000)}) == 1000


@pytest.mark.parametrize(
    ("fmt", "number"),
    [
        (SequenceFormat(), "TK-2026-00042"),
        (SequenceFormat(include_month=True, reset="monthly"), "TK-2026-03-00042"),
        (SequenceFormat(prefix="HD", include_year=False, padding=3, separator="_", reset="never"), "HD_042"),
        (SequenceFormat(separator=".", padding=1), "TK.2026.42"),
    ],
)
def test_numbers_render_as_configured(fmt, number):
    assert fmt.render(MOMENT, 42) == number


def test_periods_follow_the_reset():
    assert SequenceFormat(reset="never", include_year=False).period(MOMENT) == "all"
    assert SequenceFormat().period(MOMENT) == "2026"
    assert SequenceFormat(include_month=True, reset="monthly").period(MOMENT) == "2026-03"


@pytest.mark.parametrize(
    "fields",
    [
        {"reset": "yearly", "include_year": False},
        {"reset": "monthly"},
        {"include_month": True, "include_year": False, "reset": "never"},
        {"prefix": "T-K"},
        {"prefix": ""},
        {"padding": 0},
        {"separator": "/"},
    ],
)
def test_formats_that_could_repeat_numbers_or_are_malformed_are_refused(fields):
    with pytest.raises(ValidationError):
        SequenceFormat(**fields)
