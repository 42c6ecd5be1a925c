"""Meeting time maths without a cloud: wall clocks across both DST changes, instants, spans, how emails say
when, the DUE keys, the ranking of poll results and when a workflow fires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from shared.calendar import due, times
from shared.calendar.polls import Ballot, Poll, tally
from shared.calendar.workflows import Workflow
from shared.errors import Unprocessable

BERLIN, NEW_YORK = "Europe/Berlin", "America/New_York"


@pytest.mark.parametrize(
    ("wall", "zone", "instant"),
    [
        (datetime(2030, 3, 30, 10, 0), BERLIN, datetime(2030, 3, 30, 9, 0, tzinfo=UTC)),  # the day before spring
        (datetime(2030, 3, 31, 10, 0), BERLIN, datetime(2030, 3, 31, 8, 0, tzinfo=UTC)),  # the day of it
        (datetime(2030, 10, 26, 10, 0), BERLIN, datetime(2030, 10, 26, 8, 0, tzinfo=UTC)),  # the day before autumn
        (datetime(2030, 10, 27, 10, 0), BERLIN, datetime(2030, 10, 27, 9, 0, tzinfo=UTC)),  # the day of it
        (datetime(2030, 3, 10, 10, 0), NEW_YORK, datetime(2030, 3, 10, 14, 0, tzinfo=UTC)),  # America's spring
    ],
)
def test_a_wall_clock_time_is_read_with_the_rules_of_its_day(wall, zone, instant):
    assert times.instant(wall, zone, "start") == instant
    assert times.local(instant, zone).replace(tzinfo=None) == wall


def test_a_time_the_clocks_skip_is_refused_and_a_doubled_one_is_its_first_passing():
    with pytest.raises(Unprocessable) as refused:
        times.instant(datetime(2030, 3, 31, 2, 30), BERLIN, "start")
    assert refused.value.problem()["errors"][0]["field"] == "start"
    assert times.instant(datetime(2030, 10, 27, 2, 30), BERLIN, "start") == datetime(2030, 10, 27, 0, 30, tzinfo=UTC)


def test_an_instant_is_kept_and_a_span_must_run_forward_within_a_month():
    moment = datetime(2030, 4, 2, 8, 0, tzinfo=UTC)
    assert times.instant(moment, NEW_YORK, "start") == moment
    with pytest.raises(Unprocessable):
        times.span(moment, moment, BERLIN)
    with pytest.raises(Unprocessable):
        times.span(moment, moment + timedelta(days=32), BERLIN)


def test_emails_say_when_in_the_readers_zone():
    start = datetime(2030, 4, 2, 8, 0, tzinfo=UTC)
    assert times.spoken(start, BERLIN) == "Tuesday 02 April 2030, 10:00 CEST (Europe/Berlin)"
    assert times.spoken_span(start, start + timedelta(hours=1), NEW_YORK).endswith(
        "04:00 EDT (America/New_York) - 05:00"
    )


def test_due_keys_spread_over_shards_and_sort_by_instant():
    item = SimpleNamespace(id="01ABC", tenant_id="acme")
    pk, sk = due.keys("MWDUE", item, datetime(2030, 4, 2, 8, 0, tzinfo=UTC))
    assert pk.startswith("MWDUE#") and int(pk.split("#")[1]) in range(due.SHARDS)
    assert sk == "2030-04-02T08:00:00.000Z#acme#01ABC"
    assert due.keys("MWDUE", item, None) == (None, None)


def _poll(**fields) -> Poll:
    base = {
        "slots": [
            {"id": f"S{n}", "start": f"2030-04-0{n}T08:00:00+00:00", "end": f"2030-04-0{n}T09:00:00+00:00"}
            for n in (1, 2, 3)
        ],
        "invitees": [{"key": "001", "name": "Ann"}, {"key": "002", "name": "Bob"}, {"key": "003", "name": "Cy"}],
        "created_at": datetime(2030, 3, 1, tzinfo=UTC),
        "deadline": datetime(2030, 3, 30, tzinfo=UTC),
        "status": "open",
    }
    return Poll("pk", "sk", tenant_id="acme", id="P", **{**base, **fields})


def test_results_rank_by_available_then_yes_then_time():
    ballots = [
        Ballot("pk", "b1", invitee="001", choices={"S1": "if_need_be", "S2": "yes", "S3": "yes"}),
        Ballot("pk", "b2", invitee="002", choices={"S1": "if_need_be", "S2": "no", "S3": "yes"}),
    ]
    ranked = tally(_poll(), ballots).slots
    assert [(r.slot_id, r.yes, r.if_need_be) for r in ranked] == [("S3", 2, 0), ("S1", 0, 2), ("S2", 1, 0)]
    assert ranked[1].if_need_be_by == ["Ann", "Bob"]


def test_a_poll_is_due_at_its_reminder_while_someone_has_not_voted_then_at_its_deadline():
    poll = _poll()
    assert poll.next_due() == datetime(2030, 3, 29, tzinfo=UTC)
    poll.voters = {"001", "002", "003"}
    assert poll.next_due() == poll.deadline
    late = _poll(created_at=datetime(2030, 3, 29, 12, tzinfo=UTC))  # made within the last day: no reminder
    assert late.remind_at is None and late.next_due() == late.deadline
    assert _poll(status="closed").next_due() is None


def test_a_workflow_fires_relative_to_the_appointment_and_keeps_to_its_filter():
    meeting = SimpleNamespace(
        start=datetime(2030, 4, 2, 8, tzinfo=UTC), end=datetime(2030, 4, 2, 9, tzinfo=UTC), type="demo", client_id="C"
    )
    before = Workflow(trigger={"kind": "before_start", "minutes": 1440}, filter={"appointment_types": ["demo"]})
    after = Workflow(trigger={"kind": "after_end", "minutes": 30}, filter={"client_ids": ["D"]})
    assert before.fires_at(meeting) == datetime(2030, 4, 1, 8, tzinfo=UTC) and before.applies_to(meeting)
    assert after.fires_at(meeting) == datetime(2030, 4, 2, 9, 30, tzinfo=UTC) and not after.applies_to(meeting)
    assert Workflow(trigger={"kind": "booked"}, filter={}).fires_at(meeting) is None
