"""The dead-letter audit of a local cloud: no consumer gave up on anything while the e2e tests ran on it.

A consumer that raises on every retry sends its records to its dead-letter queue and the test that caused it may
still pass (what it asserts was done before the failing line). The session's `cloud` fixture (conftest.py) runs
this when the cloud stops, beside the prefix audit, so such a failure fails the suite naming the consumer and
its error. The clouds log at INFO, as deployed, so every log line runs here (the in-process tests log WARNING)."""

from __future__ import annotations

import json
from typing import Any

from infra.resources import QUEUES
from tests.e2e import prefix_audit

SHOWN = 5  # messages quoted per queue


def dead_letters(cloud) -> dict[str, list[str]]:
    """Per dead-letter queue holding messages: the first few messages' consumer and error (or body)."""
    sqs = prefix_audit.client(cloud, "sqs")
    found: dict[str, list[str]] = {}
    for queue in (q for q in QUEUES if q.dead_letter_for):
        url = sqs.get_queue_url(QueueName=queue.name)["QueueUrl"]
        held = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=SHOWN, VisibilityTimeout=0).get("Messages", [])
        if held:
            found[queue.name] = [_summary(m["Body"]) for m in held]
    return found


def _summary(body: str) -> str:
    try:
        message: Any = json.loads(body)
    except ValueError:
        return body[:500]
    if isinstance(message, dict) and "error" in message:
        return f"{message.get('consumer')}: {str(message['error'])[-500:]}"
    return body[:500]


def audit(cloud) -> None:
    """Fails naming each dead-letter queue that holds messages, and why they were given up on."""
    found = dead_letters(cloud)
    assert found == {}, "consumers gave up on records:\n" + json.dumps(found, indent=1)
