"""Replaying dead letters: the event pump parks records a stream consumer kept failing in the
consumer's DLQ as ``{consumer, handler, attempts, error, failed_at, record}``; once the cause is
fixed, ``deskos dlq replay [--consumer NAME]`` hands each record to its consumer's handler again
(as a batch of one) and deletes the message only when the handler took it without a failure.

A queue consumer's DLQ (``UPLOAD_CONSUMERS``) holds what SQS's redrive policy moved there: the original
message (S3's notification), which is handed to the consumer's handler as the SQS record it was."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3

from infra.local.lambda_context import LambdaContext
from infra.local.pump import Handler, load_handler, sqs_record
from infra.resources import QUEUES, UPLOAD_CONSUMERS, QueueConsumer

logger = logging.getLogger(__name__)


@dataclass
class Replayed:
    replayed: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)  # {consumer, error, sequence}


def replay(endpoint_url: str, region: str, *, consumer: str | None = None, load=load_handler) -> Replayed:
    sqs = boto3.client("sqs", endpoint_url=endpoint_url, region_name=region)
    queue_consumers = {c.name: c for c in UPLOAD_CONSUMERS}
    result = Replayed()
    for queue in QUEUES:
        if queue.dead_letter_for is None or (consumer and queue.dead_letter_for != consumer):
            continue
        url = sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]
        source = queue_consumers.get(queue.dead_letter_for)
        deliver = _message_delivery(sqs, source, region, load) if source else _letter_delivery(load)
        seen: set[str] = set()
        while True:
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, AttributeNames=["All"]
            ).get("Messages", [])
            fresh = [m for m in messages if m["MessageId"] not in seen]
            if not fresh:  # only letters that failed again: visible at once for the next replay
                for message in messages:
                    sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                break
            for message in fresh:
                seen.add(message["MessageId"])
                error, where = deliver(message)
                if error is None:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    result.replayed += 1
                else:
                    sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                    result.failed.append({"consumer": queue.dead_letter_for, "error": error, **where})
    return result


Delivery = Callable[[dict[str, Any]], tuple[str | None, dict[str, Any]]]


def _letter_delivery(load: Callable[[str], Handler]) -> Delivery:
    """A stream record the pump parked, with its consumer's name and handler."""

    def deliver(message: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
        letter = json.loads(message["Body"])
        sequence = letter["record"].get("dynamodb", {}).get("SequenceNumber")
        return _deliver(load(letter["handler"]), letter), {"sequence": sequence}

    return deliver


def _message_delivery(sqs: Any, consumer: QueueConsumer, region: str, load: Callable[[str], Handler]) -> Delivery:
    """A message SQS moved from ``consumer``'s queue: delivered as if it came from that queue."""
    url = sqs.get_queue_url(QueueName=consumer.queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def deliver(message: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
        letter = {"consumer": consumer.name, "record": sqs_record(message, arn, region)}
        return _deliver(load(consumer.handler), letter), {"message_id": message["MessageId"]}

    return deliver


def _deliver(handler: Handler, letter: dict[str, Any]) -> str | None:
    """None when the handler took the record; else why not."""
    try:
        response = handler({"Records": [letter["record"]]}, LambdaContext(letter["consumer"]))
    except Exception as error:  # a replay that fails again stays in the queue; report it, go on
        logger.exception("replaying a %s record failed", letter["consumer"])
        return f"{type(error).__name__}: {error}"
    if (response or {}).get("batchItemFailures"):
        return "reported in batchItemFailures"
    return None
