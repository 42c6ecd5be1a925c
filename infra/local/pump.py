"""The event pump: locally plays Lambda's event source mappings and EventBridge's schedules.

Stream consumers: each consumer reads the table's stream through the ``dynamodbstreams`` API from
its own position, in batches of its ``batch_size``, and gets Lambda-shaped events. Records it
reports in ``batchItemFailures`` (or the whole batch, if it raises) are redelivered up to
``max_retries`` times, then sent to the consumer's dead-letter queue with what is needed to replay
them. Only then does the position move past the batch, so a record is delivered again only if it
failed. Positions are checkpoints kept in a table of the local cloud itself (as the Kinesis Client
Library keeps its leases), so they are saved in the same snapshot as the stream they point into.

Schedules: each handler gets an EventBridge "Scheduled Event" every ``rate_minutes``.

Queue consumers (S3 -> SQS -> Lambda, ``UPLOAD_CONSUMERS``): each poll receives up to a batch of the
consumer's queue with short polling (WaitTimeSeconds=0, see moto_server) and hands the handler the
``{"Records": [...]}`` Lambda would. Messages it did not report failed are deleted; failed ones are made
visible again at once (Lambda would wait for the visibility timeout), and the queue's redrive policy
moves a message that keeps failing to the consumer's DLQ.
"""

from __future__ import annotations

import base64
import importlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from infra.local.lambda_context import MOTO_ACCOUNT_ID, LambdaContext
from infra.local.provision import schedule_rule_name
from infra.resources import (
    QUEUES,
    SCHEDULES,
    STREAM_CONSUMERS,
    UPLOAD_CONSUMERS,
    Queue,
    QueueConsumer,
    Schedule,
    StreamConsumer,
)

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.25
# An idle pump waits twice as long after each empty round, up to this, and polls at once again after one that
# delivered: each round costs a few dozen calls to moto (a sixth of a core at four rounds a second, for nobody),
# and a chain of events (ticket, work order, email) still flows at the short wait once it has started.
IDLE_SECONDS = 2.0
Handler = Callable[[dict[str, Any], Any], Any]


def load_handler(dotted: str) -> Handler:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


class Checkpoints:
    """Per consumer and shard: the sequence number of the last record it is done with."""

    def __init__(self, dynamodb, table_name: str):
        self.dynamodb = dynamodb
        self.table_name = table_name

    def ensure_table(self) -> None:
        try:
            self.dynamodb.describe_table(TableName=self.table_name)
        except self.dynamodb.exceptions.ResourceNotFoundException:
            self.dynamodb.create_table(
                TableName=self.table_name,
                BillingMode="PAY_PER_REQUEST",
                KeySchema=[
                    {"AttributeName": "consumer", "KeyType": "HASH"},
                    {"AttributeName": "shard", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "consumer", "AttributeType": "S"},
                    {"AttributeName": "shard", "AttributeType": "S"},
                ],
            )

    def get(self, consumer: str, shard: str) -> str | None:
        item = self.dynamodb.get_item(
            TableName=self.table_name, Key={"consumer": {"S": consumer}, "shard": {"S": shard}}, ConsistentRead=True
        ).get("Item")
        return item["sequence_number"]["S"] if item else None

    def put(self, consumer: str, shard: str, sequence_number: str) -> None:
        self.dynamodb.put_item(
            TableName=self.table_name,
            Item={"consumer": {"S": consumer}, "shard": {"S": shard}, "sequence_number": {"S": sequence_number}},
        )


def lambda_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it: epoch timestamps, base64 binaries, the source ARN."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    for image in ("Keys", "NewImage", "OldImage"):
        if image in change:
            change[image] = {name: _wire_value(value) for name, value in change[image].items()}
    return {**record, "awsRegion": region, "dynamodb": change, "eventSourceARN": stream_arn}


def _wire_value(value: dict[str, Any]) -> dict[str, Any]:
    # boto3 decodes binary attributes to bytes; the Lambda event carries them base64-encoded.
    kind, inner = next(iter(value.items()))
    if kind == "B":
        return {kind: base64.b64encode(inner).decode()}
    if kind == "BS":
        return {kind: [base64.b64encode(b).decode() for b in inner]}
    if kind == "M":
        return {kind: {k: _wire_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {kind: [_wire_value(v) for v in inner]}
    return value


def scheduled_event(schedule: Schedule, region: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": MOTO_ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{MOTO_ACCOUNT_ID}:rule/{schedule_rule_name(schedule)}"],
        "detail": {},
    }


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """A ReceiveMessage message as Lambda's SQS event source delivers it."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": message.get("MessageAttributes", {}),
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


class Pump:
    """Call ``poll()`` to deliver what is pending once, or ``start()`` to keep pumping in a thread."""

    def __init__(
        self,
        endpoint_url: str,
        region: str,
        table_name: str,
        *,
        consumers: Sequence[StreamConsumer] = STREAM_CONSUMERS,
        schedules: Sequence[Schedule] = SCHEDULES,
        queues: Sequence[Queue] = QUEUES,
        queue_consumers: Sequence[QueueConsumer] = UPLOAD_CONSUMERS,
        poll_seconds: float = POLL_SECONDS,
        idle_seconds: float = IDLE_SECONDS,
        load: Callable[[str], Handler] = load_handler,
        clock: Callable[[], float] = time.monotonic,
    ):
        # Failures are retried by the pump's next poll, not by the client.
        config = Config(region_name=region, retries={"mode": "standard", "max_attempts": 2})
        self._streams = boto3.client("dynamodbstreams", endpoint_url=endpoint_url, config=config)
        self._sqs = boto3.client("sqs", endpoint_url=endpoint_url, config=config)
        self.checkpoints = Checkpoints(
            boto3.client("dynamodb", endpoint_url=endpoint_url, config=config), f"{table_name}-pump-checkpoints"
        )
        self.region = region
        self.table_name = table_name
        self.consumers = tuple(consumers)
        self.queue_consumers = tuple(queue_consumers)
        self._queues: dict[str, tuple[str, str]] = {}
        self.schedules = tuple(schedules)
        self.dead_letter_queues = {q.dead_letter_for: q.name for q in queues if q.dead_letter_for}
        self.gave_up: list[tuple[str, str]] = []  # (consumer, error) of each batch given up on: tests watch it
        self.poll_seconds = poll_seconds
        self.idle_seconds = max(idle_seconds, poll_seconds)
        self._load = load
        self._clock = clock
        self._iterators: dict[tuple[str, str], str] = {}
        self._due = {s.name: clock() + s.rate_minutes * 60 for s in self.schedules}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.checkpoints.ensure_table()

    # -- running -------------------------------------------------------------------------------

    def start(self) -> Pump:
        self._thread = threading.Thread(target=self._run, name="event-pump", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        idle_rounds = 0
        while not self._stop.is_set():
            try:
                delivered = self.poll()
            except (ClientError, BotoCoreError):
                logger.exception("the event pump could not talk to the local cloud; retrying")
                delivered = 0
            if delivered:
                idle_rounds = 0
            else:
                self._stop.wait(self.idle_wait(idle_rounds))
                idle_rounds += 1

    def idle_wait(self, rounds: int) -> float:
        """The wait after an empty round that follows ``rounds`` empty ones: the poll interval, doubled for each."""
        return min(self.poll_seconds * 2 ** min(rounds, 16), self.idle_seconds)

    def poll(self) -> int:
        """One round: every consumer reads one batch per shard; due schedules fire. Records delivered.
        Once ``stop()`` is called the batch in hand is finished and no other is started: the rest stays in
        its stream (behind the checkpoint) or queue, and a due schedule fires after the next start."""
        shards = self._shards()
        batches = [partial(self._pump_shard, c, arn, shard) for c in self.consumers for arn, shard in shards]
        batches += [partial(self._pump_queue, c) for c in self.queue_consumers]
        delivered = 0
        for batch in batches:
            if self._stop.is_set():
                return delivered
            delivered += batch()
        now = self._clock()
        for schedule in self.schedules:
            if now >= self._due[schedule.name] and not self._stop.is_set():
                self._due[schedule.name] = now + schedule.rate_minutes * 60
                self.fire(schedule.name)
        return delivered

    # -- schedules -----------------------------------------------------------------------------

    def fire(self, name: str) -> Any:
        """Run a schedule's handler now, as EventBridge would at its rate; its exception is logged."""
        schedule = next(s for s in self.schedules if s.name == name)
        try:
            return self._load(schedule.handler)(scheduled_event(schedule, self.region), LambdaContext(schedule.name))
        except Exception:  # a failing job must not stop the pump; Lambda would log it too
            logger.exception("schedule %s failed", schedule.name)
            return None

    # -- queues --------------------------------------------------------------------------------

    def _queue(self, name: str) -> tuple[str, str]:
        if name not in self._queues:
            url = self._sqs.get_queue_url(QueueName=name)["QueueUrl"]
            arn = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self._queues[name] = (url, arn)
        return self._queues[name]

    def _pump_queue(self, consumer: QueueConsumer) -> int:
        url, arn = self._queue(consumer.queue)
        messages = self._sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(consumer.batch_size, 10),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        batch = [sqs_record(m, arn, self.region) for m in messages]
        try:
            response = self._load(consumer.handler)({"Records": batch}, LambdaContext(consumer.name))
            failed = {f.get("itemIdentifier") for f in (response or {}).get("batchItemFailures", [])}
        except Exception:  # Lambda counts a raising handler as a failed batch; keep pumping
            logger.exception("queue consumer %s failed a batch of %d", consumer.name, len(batch))
            failed = {m["MessageId"] for m in messages}
        for message in messages:
            if message["MessageId"] in failed:
                self._sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self._sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(messages)

    # -- streams -------------------------------------------------------------------------------

    def _shards(self) -> list[tuple[str, str]]:
        streams = self._streams.list_streams(TableName=self.table_name)["Streams"]
        return [
            (stream["StreamArn"], shard["ShardId"])
            for stream in streams
            for shard in self._streams.describe_stream(StreamArn=stream["StreamArn"])["StreamDescription"]["Shards"]
        ]

    def _pump_shard(self, consumer: StreamConsumer, stream_arn: str, shard_id: str) -> int:
        position = f"{stream_arn}|{shard_id}"
        key = (consumer.name, position)
        records, next_iterator = self._read(consumer, stream_arn, shard_id, self._iterators.pop(key, None))
        if records:
            self._deliver(consumer, [lambda_record(r, stream_arn, self.region) for r in records])
            self.checkpoints.put(consumer.name, position, records[-1]["dynamodb"]["SequenceNumber"])
        # Only now is the batch done with: if anything above failed, the next poll rereads it.
        self._iterators[key] = next_iterator
        return len(records)

    def _read(
        self, consumer: StreamConsumer, stream_arn: str, shard_id: str, iterator: str | None
    ) -> tuple[list[dict[str, Any]], str]:
        if iterator is None:
            after = self.checkpoints.get(consumer.name, f"{stream_arn}|{shard_id}")
            start = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
                if after
                else {"ShardIteratorType": "TRIM_HORIZON"}
            )
            shard = {"StreamArn": stream_arn, "ShardId": shard_id}
            iterator = self._streams.get_shard_iterator(**shard, **start)["ShardIterator"]
        # If this fails (an expired iterator), the next poll starts again from the checkpoint.
        page = self._streams.get_records(ShardIterator=iterator, Limit=consumer.batch_size)
        return page["Records"], page["NextShardIterator"]

    def _deliver(self, consumer: StreamConsumer, batch: list[dict[str, Any]]) -> None:
        pending, attempts, error = batch, 0, ""
        while pending and attempts <= consumer.max_retries:
            attempts += 1
            pending, error = self._invoke(consumer, pending)
        if pending:
            self._dead_letter(consumer, pending, attempts, error)

    def _invoke(self, consumer: StreamConsumer, batch: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
        """Deliver one batch; returns the records to retry and why they failed."""
        try:
            response = self._load(consumer.handler)({"Records": batch}, LambdaContext(consumer.name))
        except Exception as error:  # Lambda counts a raising handler as a failed batch; keep pumping
            logger.exception("stream consumer %s failed a batch of %d", consumer.name, len(batch))
            return batch, f"{type(error).__name__}: {error}"
        reported = {f.get("itemIdentifier") for f in (response or {}).get("batchItemFailures", [])}
        if not reported:
            return [], ""
        by_sequence = {r["dynamodb"]["SequenceNumber"]: r for r in batch}
        if not reported <= by_sequence.keys():
            # Lambda treats an identifier it cannot match as a failure of the whole batch.
            return batch, f"unknown itemIdentifier in batchItemFailures: {sorted(map(str, reported))}"
        return [r for seq, r in by_sequence.items() if seq in reported], "reported in batchItemFailures"

    def _dead_letter(self, consumer: StreamConsumer, records: list[dict[str, Any]], attempts: int, error: str) -> None:
        self.gave_up.append((consumer.name, error))
        queue = self.dead_letter_queues.get(consumer.name)
        if queue is None:
            logger.error(
                "stream consumer %s has no dead-letter queue; dropping %d records", consumer.name, len(records)
            )
            return
        url = self._sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        for record in records:
            message = {
                "consumer": consumer.name,
                "handler": consumer.handler,
                "attempts": attempts,
                "error": error,
                "failed_at": datetime.now(UTC).isoformat(),
                "record": record,
            }
            self._sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message, default=str))
        logger.warning("stream consumer %s: %d records sent to %s", consumer.name, len(records), queue)
