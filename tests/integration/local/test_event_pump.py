"""The event pump delivers the table's stream to consumers as Lambda would, and fires schedules."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any

import pytest

from infra.local.pump import Pump
from infra.resources import Queue, Schedule, StreamConsumer
from shared.caller import Role, TenantContext
from shared.crm import clients
from shared.crm.clients import NewClient
from shared.settings import settings


class FakeConsumer:
    """Records every batch; reports the records whose PK is in ``poison`` (or ``flaky``, once) as failed."""

    def __init__(self, *, poison: set[str] = frozenset(), flaky: set[str] = frozenset(), raises: bool = False):
        self.batches: list[list[dict[str, Any]]] = []
        self.poison, self.flaky, self.raises = set(poison), set(flaky), raises

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.batches.append(event["Records"])
        if self.raises:
            raise RuntimeError("consumer bug")
        failed = []
        for record in event["Records"]:
            pk = record["dynamodb"]["Keys"]["PK"]["S"]
            if pk in self.poison or pk in self.flaky:
                self.flaky.discard(pk)
                failed.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
        return {"batchItemFailures": failed}

    @property
    def deliveries(self) -> Counter[str]:
        return Counter(r["dynamodb"]["Keys"]["PK"]["S"] for batch in self.batches for r in batch)


def put(cloud, *pks: str) -> None:
    for pk in pks:
        cloud.client("dynamodb").put_item(TableName=settings().table_name, Item={"PK": {"S": pk}, "SK": {"S": "X"}})


def pump_for(cloud, handlers: dict[str, Any], **kwargs: Any) -> Pump:
    consumers = kwargs.pop("consumers", [StreamConsumer(name=n, handler=n) for n in handlers])
    queues = [Queue(name=f"{c.name}-dlq", dead_letter_for=c.name) for c in consumers]
    for queue in queues:
        cloud.client("sqs").create_queue(QueueName=queue.name)
    return Pump(
        cloud.server.url,
        cloud.region,
        settings().table_name,
        consumers=consumers,
        queues=queues,
        schedules=kwargs.pop("schedules", ()),
        load=lambda name: handlers[name],
        **kwargs,
    )


def drain(pump: Pump) -> None:
    while pump.poll():
        pass


def dead_letters(cloud, consumer: str) -> list[dict[str, Any]]:
    sqs = cloud.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{consumer}-dlq")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_each_record_reaches_each_consumer_once_in_lambda_shape(cloud):
    first, second = FakeConsumer(), FakeConsumer()
    pump = pump_for(cloud, {"First": first, "Second": second})
    put(cloud, "a", "b", "c")

    drain(pump)
    drain(pump)

    for consumer in (first, second):
        assert consumer.deliveries == {"a": 1, "b": 1, "c": 1}
    record = first.batches[0][0]
    assert record["eventName"] == "INSERT"
    assert record["awsRegion"] == cloud.region
    assert record["eventSourceARN"].startswith(f"arn:aws:dynamodb:{cloud.region}:")
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    assert record["dynamodb"]["NewImage"]["PK"] == {"S": "a"}


def test_a_restarted_pump_resumes_after_its_checkpoint(cloud):
    consumer = FakeConsumer()
    put(cloud, "a", "b")
    drain(pump_for(cloud, {"Audit": consumer}))
    put(cloud, "c")

    drain(pump_for(cloud, {"Audit": consumer}))

    assert consumer.deliveries == {"a": 1, "b": 1, "c": 1}


def test_batch_size_is_honoured(cloud):
    consumer = FakeConsumer()
    pump = pump_for(cloud, {"Small": consumer}, consumers=[StreamConsumer(name="Small", handler="Small", batch_size=2)])
    put(cloud, "a", "b", "c", "d", "e")

    drain(pump)

    assert [len(batch) for batch in consumer.batches] == [2, 2, 1]


def test_reported_failures_are_retried_and_poison_records_dead_lettered(cloud):
    consumer = FakeConsumer(poison={"poison"}, flaky={"flaky"})
    pump = pump_for(
        cloud, {"Picky": consumer}, consumers=[StreamConsumer(name="Picky", handler="Picky", max_retries=2)]
    )
    put(cloud, "good", "flaky", "poison")

    drain(pump)

    assert consumer.deliveries == {"good": 1, "flaky": 2, "poison": 3}
    [letter] = dead_letters(cloud, "Picky")
    assert letter["consumer"] == "Picky"
    assert letter["attempts"] == 3
    assert letter["record"]["dynamodb"]["Keys"]["PK"] == {"S": "poison"}
    assert letter["record"]["eventSourceARN"]


def test_pumping_goes_on_after_a_consumer_raises(cloud):
    broken, healthy = FakeConsumer(raises=True), FakeConsumer()
    consumers = [
        StreamConsumer(name="Broken", handler="Broken", max_retries=1),
        StreamConsumer(name="Healthy", handler="Healthy"),
    ]
    pump = pump_for(cloud, {"Broken": broken, "Healthy": healthy}, consumers=consumers, poll_seconds=0.05).start()
    try:
        put(cloud, "a")
        wait_for(lambda: healthy.deliveries["a"] == 1 and len(dead_letters_seen(cloud, "Broken")) == 1)
        put(cloud, "b")
        wait_for(lambda: healthy.deliveries["b"] == 1 and len(dead_letters_seen(cloud, "Broken")) == 2)
    finally:
        pump.stop()

    assert broken.deliveries == {"a": 2, "b": 2}  # the first delivery and one retry each


def test_an_idle_pump_waits_ever_longer_up_to_its_idle_wait_and_still_delivers_what_comes(cloud):
    healthy = FakeConsumer()
    pump = pump_for(cloud, {"Healthy": healthy}, poll_seconds=0.05, idle_seconds=0.4)
    assert [pump.idle_wait(rounds) for rounds in (0, 1, 2, 3, 4, 5000)] == [0.05, 0.1, 0.2, 0.4, 0.4, 0.4]
    rounds, poll = Counter(), pump.poll
    pump.poll = lambda: rounds.update(["poll"]) or poll()
    pump.start()
    try:
        wait_for(lambda: rounds["poll"] >= 5)  # four empty rounds in a row: waiting its longest now
        put(cloud, "late")
        wait_for(lambda: healthy.deliveries["late"] == 1)
    finally:
        pump.stop()


def test_a_stopping_pump_finishes_its_batch_starts_no_other_and_loses_nothing(cloud):
    """`deskos up` stops its pump on SIGTERM: waiting for every consumer's batch of a round would hold
    the stop for as long as the whole backlog takes (a scan, a sweep); the rest is delivered after a restart."""
    first, second = FakeConsumer(), FakeConsumer()
    handlers: dict[str, Any] = {"Second": second}
    consumers = [StreamConsumer(name=n, handler=n) for n in ("First", "Second")]
    pump = pump_for(cloud, handlers, consumers=consumers, queue_consumers=())

    def first_stops_the_pump(event: dict[str, Any], context: Any) -> dict[str, Any]:
        threading.Thread(target=pump.stop).start()  # SIGTERM while this batch is in hand
        wait_for(pump._stop.is_set)
        return first(event, context)

    handlers["First"] = first_stops_the_pump
    put(cloud, "a")
    pump.start()
    wait_for(lambda: first.deliveries["a"] == 1)
    pump.stop()

    assert second.deliveries == {}
    handlers["First"] = first
    drain(pump_for(cloud, handlers, consumers=consumers, queue_consumers=()))
    assert first.deliveries == {"a": 1} and second.deliveries == {"a": 1}


_seen: dict[str, list[dict[str, Any]]] = {}


def dead_letters_seen(cloud, consumer: str) -> list[dict[str, Any]]:
    _seen.setdefault(consumer, []).extend(dead_letters(cloud, consumer))
    return _seen[consumer]


def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for the pump")
        time.sleep(0.05)


def test_schedules_fire_at_their_rate_and_on_demand(cloud):
    events: list[dict[str, Any]] = []
    now = [0.0]
    pump = pump_for(
        cloud,
        {"jobs.tick": lambda event, context: events.append(event)},
        consumers=[],
        schedules=[Schedule(name="Tick", handler="jobs.tick", rate_minutes=5)],
        clock=lambda: now[0],
    )

    pump.poll()
    now[0] = 5 * 60
    pump.poll()
    pump.poll()
    pump.fire("Tick")

    assert len(events) == 2
    assert events[0]["detail-type"] == "Scheduled Event"
    assert events[0]["source"] == "aws.events"
    assert events[0]["resources"][0].endswith(":rule/deskos-Tick")


def test_the_audit_consumer_records_a_created_client(cloud):
    ctx = TenantContext("acme", "user-1", "maya", frozenset({Role.MANAGERS, Role.STAFF}))
    client = clients.create(ctx, NewClient(name="Globex"))

    drain(Pump(cloud.server.url, cloud.region, settings().table_name))

    entries = cloud.client("dynamodb").query(
        TableName=settings().table_name,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "T#acme#AUDIT"}},
    )["Items"]
    assert [(e["entity_type"]["S"], e["entity_id"]["S"], e["action"]["S"]) for e in entries] == [
        ("client", client.id, "create")
    ]
