"""The calendar sweep reads what is due, not what exists: DynamoDB items read with 1,000 and 100,000 pending
meeting-workflow executions (and as many open polls) when 10 executions and 10 polls are due.

Runs against moto in-process (``mock_aws``). Executions and polls are written straight into moto's table (not
through the API, to keep 100,000 quick), each in the DUE index at its next moment: all but 10 of each kind
spread over the coming weeks, 10 a minute overdue (their appointments, workflows and ballots written too).
Then the scheduled handler runs once at NOW (runs the due executions, which email, and reminds the due
polls), counting every DynamoDB call and the items each returned. Prints figures; exits 0.

    .venv/bin/python -m bench.calendar_sweep                   # several minutes, mostly moto storing items
    BENCH_SIZES=1000,10000 .venv/bin/python -m bench.calendar_sweep   # a quicker look
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

from bench.sla_sweep import Reads, fresh_moto

SIZES = tuple(int(s) for s in os.environ.get("BENCH_SIZES", "1000,100000").split(","))
DUE = 10
TENANTS = 20
NOW = datetime(2030, 3, 2, 10, 0, tzinfo=UTC)

# the SLA bench's environment (set when it was imported), with a table of its own
os.environ.update(DESKOS_TABLE="deskos-calendar-bench", DESKOS_BUCKET="deskos-calendar-bench-uploads")


def seed(total: int) -> None:
    import boto3
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from infra.resources import table_definition
    from shared.calendar.appointments import Appointment
    from shared.calendar.executions import Execution
    from shared.calendar.polls import Poll
    from shared.calendar.workflows import Workflow

    definition = table_definition(os.environ["DESKOS_TABLE"])
    definition.pop("StreamSpecification")  # nothing consumes it here
    boto3.client("dynamodb").create_table(**definition)
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_REGION"]].get_table(os.environ["DESKOS_TABLE"])
    person = {"kind": "email", "email": "ann@bench.example", "name": "Ann"}
    stamp = {"created_at": NOW - timedelta(days=30), "updated_at": NOW - timedelta(days=30), "version": 1}
    for n in range(total):
        tenant, ident = f"tenant-{n % TENANTS}", f"{n:026d}"
        due = n < DUE
        at = NOW - timedelta(minutes=1) if due else NOW + timedelta(minutes=5 + n % (30 * 24 * 60))
        start = at + timedelta(days=1)
        flow = Workflow(
            *Workflow.key(tenant, ident), tenant_id=tenant, id=ident, name="Agenda", active=True,
            trigger={"kind": "before_start", "minutes": 1440}, filter={},
            actions=[{"kind": "email", "to": "attendees", "subject": "Tomorrow", "text": "{{ appointment.when }}"}],
            **stamp,
        )  # fmt: skip
        meeting = Appointment(
            *Appointment.key(tenant, ident), tenant_id=tenant, id=ident, title="Review", start=start,
            end=start + timedelta(hours=1), time_zone="Europe/Berlin", organizer_id="agent",
            organizer={**person, "email": "agent@bench.example"}, attendees=[person], **stamp,
        )  # fmt: skip
        execution = Execution(
            *Execution.key(tenant, ident + ident), tenant_id=tenant, id=ident + ident, workflow_id=ident,
            workflow_name="Agenda", appointment_id=ident, trigger="before_start", trigger_at=at, due_at=at, **stamp,
        )  # fmt: skip
        poll = Poll(
            *Poll.key(tenant, ident), tenant_id=tenant, id=ident, title="Review", organizer_id="agent",
            organizer=meeting.organizer, duration_minutes=60, time_zone="Europe/Berlin",
            slots=[{"id": "S1", "start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}],
            invitees=[{**person, "key": "001"}], deadline=at + timedelta(hours=24), **stamp,
        )  # fmt: skip
        for item in (execution, poll, *((flow, meeting) if due else ())):
            item.index()
            table.put_item(item.serialize())


def measure(total: int) -> tuple[Reads, dict[str, int], float, float]:
    from functions.schedules import calendar_sweep as job
    from infra.local.lambda_context import LambdaContext

    with fresh_moto():
        started = time.perf_counter()
        seed(total)
        seeded = time.perf_counter() - started
        job.now = lambda: NOW
        with Reads() as reads:
            started = time.perf_counter()
            result = job.handler({"time": NOW.strftime("%Y-%m-%dT%H:%M:%SZ")}, LambdaContext("CalendarSweep"))
            swept = time.perf_counter() - started
    return reads, result, seeded, swept


def main() -> None:
    print(f"Calendar sweep: DynamoDB reads with {DUE} executions and {DUE} polls due, across {TENANTS} tenants")
    print(f"{'pending':>9} {'due':>4} {'items read':>10} {'read calls':>10}  calls by operation"
          f"{'':<48} {'done':>4} {'reminded':>8} {'seed s':>7} {'sweep s':>7}")  # fmt: skip
    rows, scans = [], 0
    for total in SIZES:
        reads, result, seeded, swept = measure(total)
        rows.append(reads.items)
        scans += reads.calls["Scan"]
        ops = ", ".join(f"{op} {n}" for op, n in sorted(reads.calls.items()))
        read_calls = sum(n for op, n in reads.calls.items() if op in ("GetItem", "Query", "BatchGetItem", "Scan"))
        print(f"{total:>9,} {DUE:>4} {reads.items:>10} {read_calls:>10}  {ops:<66} {result['executions_done']:>4} "
              f"{result['polls_reminded']:>8} {seeded:>7.1f} {swept:>7.2f}")  # fmt: skip
    print(f"Scan calls: {scans}")
    print("same items read at every size: " + ("yes" if len(set(rows)) == 1 else f"NO ({rows})"))


if __name__ == "__main__":
    main()
