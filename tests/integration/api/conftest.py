"""Fixtures of the API suites: one moto server per test module, and tenants with unique ids, so tests
share the server and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from functions.events import audit_trail, calendar_mail, meeting_workflows
from infra.local import outbox
from infra.local.lambda_context import LambdaContext
from infra.local.pump import Pump, lambda_record, load_handler
from infra.resources import StreamConsumer
from shared import mail
from shared.settings import settings
from tests.integration.api.harness import Tenant


@pytest.fixture
def new_tenant(module_cloud) -> Callable[[], Tenant]:
    """Makes tenants with unique ids in the module's cloud: tests share its table, never a tenant."""
    return Tenant


@pytest.fixture
def tenant(new_tenant) -> Tenant:
    return new_tenant()


class AuditTap:
    """Reads the table's stream through the ``dynamodbstreams`` API, from where it last stopped, and
    hands the records of the given tenants to the audit trail consumer (or other stream consumers) in a
    Lambda-shaped event.

    Only those tenants' records are delivered: the module's stream holds every test's changes, and
    a test waits only for its own (each test has its own tenants, so none is skipped that matters)."""

    def __init__(self, cloud, consumers: tuple[Any, ...] = (audit_trail,)):
        self.cloud = cloud
        self.consumers = consumers
        self.streams = cloud.client("dynamodbstreams")
        self.after: dict[tuple[str, str], str] = {}  # (stream, shard) -> last sequence number read
        self.start: dict[tuple[str, str], str] = {}  # (stream, shard) -> where to start reading it, if not its start

    def from_now(self) -> AuditTap:
        """Skips what the streams hold so far: for a tap made late in a module, whose stream holds every
        earlier test's changes (reading them all costs in proportion to the module's work)."""
        for arn, shard in self._shards():
            latest = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")
            self.start[(arn, shard)] = latest["ShardIterator"]
        return self

    def __call__(self, *tenants: Tenant) -> int:
        prefixes = tuple(f"T#{t.id}#" for t in tenants)
        batch = [
            lambda_record(record, arn, self.cloud.region)
            for arn, shard in self._shards()
            for record in self._read(arn, shard)
            if record["dynamodb"]["Keys"]["PK"]["S"].startswith(prefixes)
        ]
        for consumer in self.consumers if batch else ():
            response = consumer.handler({"Records": batch}, LambdaContext(consumer.__name__))
            assert not response["batchItemFailures"], response
        return len(batch)

    def _shards(self) -> list[tuple[str, str]]:
        table = self.cloud.resources.table_name
        arns = [s["StreamArn"] for s in self.streams.list_streams(TableName=table)["Streams"]]
        return [
            (arn, shard["ShardId"])
            for arn in arns
            for shard in self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        ]

    def _read(self, arn: str, shard: str) -> list[dict[str, Any]]:
        last = self.after.get((arn, shard))
        if last is None and (arn, shard) in self.start:
            iterator = self.start[(arn, shard)]
        else:
            start = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last}
                if last
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            iterator = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, **start)["ShardIterator"]
        records: list[dict[str, Any]] = []
        while iterator:
            page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            records += page["Records"]
            iterator = page.get("NextShardIterator")
        if records:
            self.after[(arn, shard)] = records[-1]["dynamodb"]["SequenceNumber"]
        return records


@pytest.fixture(scope="module")
def audit_tap(module_cloud) -> AuditTap:
    return AuditTap(module_cloud)


@pytest.fixture(scope="module")
def calendar_tap(module_cloud) -> AuditTap:
    """``calendar_tap(tenant, ...)``: the calendar's consumers (workflow planning, then its emails) get those
    tenants' changes so far."""
    return AuditTap(module_cloud, (meeting_workflows, calendar_mail))


@pytest.fixture
def sent_mail(module_cloud, monkeypatch):
    """The outbox of the module's moto, as a function returning the messages sent since the test began."""
    monkeypatch.setenv("DESKOS_MAIL_SENDER", module_cloud.resources.sender)
    settings.cache_clear()
    mail._ses.cache_clear()
    before = len(outbox.messages(module_cloud.server.url))
    yield lambda: outbox.messages(module_cloud.server.url)[before:]
    settings.cache_clear()
    mail._ses.cache_clear()


@pytest.fixture
def stream_to_audit(audit_tap: AuditTap) -> AuditTap:
    """``stream_to_audit(tenant, ...)``: the audit trail consumer gets those tenants' changes so far."""
    return audit_tap


@pytest.fixture(scope="module")
def _pump(module_cloud) -> Pump:
    return Pump(module_cloud.server.url, module_cloud.region, module_cloud.resources.table_name, schedules=())


@pytest.fixture
def pump_stream(module_cloud, _pump: Pump) -> Callable[..., int]:
    """Delivers what the local cloud's event sources hold (the table's stream, the uploads queue) to
    their consumers, as Lambda's event source mappings would; returns how many records went. A consumer that
    gives up on a batch (it raised on every retry: a bug) fails the test, unless the test names it in
    ``giving_up``."""

    def drain(*, giving_up: tuple[str, ...] = ()) -> int:
        delivered, before = 0, len(_pump.gave_up)
        while batch := _pump.poll():
            delivered += batch
        failed = _pump.gave_up[before:]
        assert tuple(consumer for consumer, _ in failed) == giving_up, f"stream consumers gave up: {failed}"
        return delivered

    return drain


class ConsumerStream:
    """One stream consumer fed from the table's stream, as Lambda's event source mapping would feed it; it
    remembers the events it delivered, so a test can deliver them again (a redelivery)."""

    def __init__(self, cloud, consumer: StreamConsumer):
        self.consumer = consumer
        self.delivered: list[dict[str, Any]] = []

        def load(dotted: str):
            handler = load_handler(dotted)

            def recording(event, context):
                self.delivered.append(event)
                return handler(event, context)

            return recording

        table = cloud.resources.table_name
        self.pump = Pump(
            cloud.server.url, cloud.region, table, consumers=(consumer,), schedules=(), queue_consumers=(), load=load
        )

    def drain(self) -> None:
        while self.pump.poll():
            pass

    def redeliver(self) -> None:
        assert self.delivered, "nothing was delivered to deliver again"
        handler = load_handler(self.consumer.handler)
        for event in list(self.delivered):
            result = handler(event, LambdaContext(self.consumer.name))
            assert result == {"batchItemFailures": []}, result
