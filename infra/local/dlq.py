"""Replaying dead letters: the event pump parks records a stream consumer kept failing in the
consumer's DLQ as ``{consumer, handler, attempts, error, failed_at, record}``; once the cause is
fixed, ``deskos dlq replay [--consumer NAME]`` hands each record to its consumer's handler again
(as a batch of one) and deletes the message only when the handler took it without a failure."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import boto3

from infra.local.pump import Handler, LambdaContext, load_handler
from infra.resources import QUEUES

logger = logging.getLogger(__name__)


@dataclass
class Replayed:
    replayed: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)  # {consumer, error, sequence}


def replay(endpoint_url: str, region: str, *, consumer: str | None = None, load=load_handler) -> Replayed:
    sqs = boto3.client("sqs", endpoint_url=endpoint_url, region_name=region)
    result = Replayed()
    for queue in QUEUES:
        if queue.dead_letter_for is None or (consumer and queue.dead_letter_for != consumer):
            continue
        url = sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]
        seen: set[str] = set()
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get(
                "Messages", []
            )
            fresh = [m for m in messages if m["MessageId"] not in seen]
            if not fresh:
                break
            for message in fresh:
                seen.add(message["MessageId"])
                letter = json.loads(message["Body"])
                error = _deliver(load(letter["handler"]), letter)
                if error is None:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                    result.replayed += 1
                else:
                    sqs.change_message_visibility(
                        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                    sequence = letter["record"].get("dynamodb", {}).get("SequenceNumber")
                    result.failed.append({"consumer": letter["consumer"], "error": error, "sequence": sequence})
    return result


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
