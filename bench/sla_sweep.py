"""The SLA sweep reads what is due, not what exists: DynamoDB items read with 1,000 and 100,000
open tickets when 10 are due.

Runs against moto in-process (``mock_aws``). Tickets with a running SLA clock (in the sweep's DUE index)
are written straight into moto's table (not through the API, to keep 100,000 quick); all but 10 have
their next deadline spread over the coming week, 10 are a few minutes overdue. The sweep's cursor
stands where the every-minute schedule would have left it. Then the scheduled handler runs once
(sweep + mail), counting every DynamoDB call and the items each returned. Prints figures; exits 0.

    .venv/bin/python -m bench.sla_sweep            # 5-10 minutes, mostly moto storing 200,000 items
    BENCH_SIZES=1000,10000 .venv/bin/python -m bench.sla_sweep   # a quicker look
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.client import BaseClient

SIZES = tuple(int(s) for s in os.environ.get("BENCH_SIZES", "1000,100000").split(","))
DUE = 10
TENANTS = 20
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

os.environ.update(
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    AWS_REGION="eu-west-1",
    AWS_DEFAULT_REGION="eu-west-1",
    DESKOS_TABLE="deskos-sla-bench",
    DESKOS_BUCKET="deskos-sla-bench-uploads",
    DESKOS_CURSOR_SECRET="bench-only-cursor-secret",
    POWERTOOLS_METRICS_DISABLED="true",
    POWERTOOLS_LOG_LEVEL="ERROR",
)
os.environ.pop("AWS_ENDPOINT_URL", None)


class Reads:
    """Counts DynamoDB calls and the items they return, through every botocore client."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items = 0
        self._original = BaseClient._make_api_call

    def __enter__(self) -> Reads:
        original, reads = self._original, self

        def counting(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            response = original(client, operation, params)
            if client.meta.service_model.service_name == "dynamodb":
                reads.calls[operation] += 1
                reads.items += _items_in(operation, response)
            return response

        BaseClient._make_api_call = counting
        return self

    def __exit__(self, *_: object) -> None:
        BaseClient._make_api_call = self._original


def _items_in(operation: str, response: dict[str, Any]) -> int:
    if operation in ("Query", "Scan"):
        return response.get("Count", 0)
    if operation == "GetItem":
        return 1 if "Item" in response else 0
    if operation == "BatchGetItem":
        return sum(len(items) for items in response.get("Responses", {}).values())
    return 0


def seed(total: int) -> None:
    import boto3

    from infra.resources import table_definition
    from shared.caller import Role
    from shared.directory import save_profile
    from shared.support import sla
    from shared.support.sla_sweep import SweepCursor
    from shared.support.tickets import Ticket

    dynamodb = boto3.client("dynamodb")
    definition = table_definition(os.environ["DESKOS_TABLE"])
    definition.pop("StreamSpecification")  # nothing consumes it here; moto would keep 200,000 records
    dynamodb.create_table(**definition)
    for t in range(TENANTS):
        save_profile(
            f"tenant-{t}", user_id="agent", username="agent", email=f"agent@tenant-{t}.example",
            name="Agent", role=Role.STAFF, client_id=None, actor="bench",
        )  # fmt: skip
    # Straight into moto's table (as a bulk import would): its request emulation costs ~2 ms an item.
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_REGION"]].get_table(os.environ["DESKOS_TABLE"])
    for n in range(total):
        tenant = f"tenant-{n % TENANTS}"
        overdue = n < DUE
        deadline = NOW - timedelta(minutes=2) if overdue else NOW + timedelta(minutes=5 + n % (7 * 24 * 60))
        ticket = _ticket(Ticket, tenant, f"{n:026d}", deadline, sla)
        table.put_item(ticket.serialize())  # ticket.index() put it in the DUE index too
    swept = (NOW - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M")  # the every-minute run before this one
    SweepCursor(*SweepCursor.KEY, tenant_id="_system", swept_through=swept).save()


def _ticket(model: Any, tenant: str, ticket_id: str, deadline: datetime, sla: Any) -> Any:
    created = deadline - timedelta(minutes=30)
    clock = sla.MetricClock(30, "running", created, created, due_at=deadline, warn_at=deadline)
    state = sla.SlaState("POLICY", 1, "normal", "running", {"first_response": clock}, next_check_at=deadline)
    ticket = model(
        *model.key(tenant, ticket_id), tenant_id=tenant, id=ticket_id, number=f"TK-{ticket_id[-6:]}",
        subject="Bench ticket", channel="api", assignee_id="agent", sla=state.to_json(), created_by="bench",
        created_at=created, updated_at=created, version=1,
    )  # fmt: skip
    ticket.index()
    return ticket


@contextmanager
def fresh_moto() -> Iterator[None]:
    """moto in-process (its transactions as the local cloud installs them), with the product's cached settings,
    SES client and table connections forgotten, and the mail sender verified."""
    from moto import mock_aws

    from infra.local import moto_transactions
    from shared import aws
    from shared.settings import settings

    moto_transactions.install()  # as the local cloud does: no whole-table copy per transaction
    with mock_aws():
        settings.cache_clear()
        aws.forget()  # clients, the SES client and table connections made before
        import boto3

        boto3.client("ses").verify_email_identity(EmailAddress=settings().mail_sender)
        yield


def measure(total: int) -> tuple[Reads, dict[str, int], float, float]:
    from functions.schedules import sla_sweep as job
    from infra.local.lambda_context import LambdaContext

    with fresh_moto():
        started = time.perf_counter()
        seed(total)
        seeded = time.perf_counter() - started
        job.now = lambda: NOW
        with Reads() as reads:
            started = time.perf_counter()
            result = job.handler({}, LambdaContext("SlaSweep"))  # the Logger's context injection reads it
            swept = time.perf_counter() - started
    return reads, result, seeded, swept


def main() -> None:
    print(f"SLA sweep: DynamoDB reads with {DUE} tickets due, across {TENANTS} tenants")
    print(f"{'open tickets':>12} {'due':>4} {'items read':>10} {'read calls':>10}  calls by operation"
          f"{'':<44} {'breaches':>8} {'seed s':>7} {'sweep s':>7}")  # fmt: skip
    rows, scans = [], 0
    for total in SIZES:
        reads, result, seeded, swept = measure(total)
        rows.append(reads.items)
        scans += reads.calls["Scan"]
        ops = ", ".join(f"{op} {n}" for op, n in sorted(reads.calls.items()))
        read_calls = sum(n for op, n in reads.calls.items() if op in ("GetItem", "Query", "BatchGetItem", "Scan"))
        print(f"{total:>12,} {DUE:>4} {reads.items:>10} {read_calls:>10}  {ops:<62} {result['breaches']:>8} "
              f"{seeded:>7.1f} {swept:>7.2f}")  # fmt: skip
    print(f"Scan calls: {scans}")
    print("same items read at every size: " + ("yes" if len(set(rows)) == 1 else f"NO ({rows})"))


if __name__ == "__main__":
    main()
