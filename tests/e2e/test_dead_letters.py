"""No consumer gives up on a record during the e2e suite: the session's cloud is audited when it stops
(conftest.py, dead_letter_audit.py). Here: the cloud so far, and that the audit names what a consumer gave up on."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.e2e import dead_letter_audit, prefix_audit


def test_no_consumer_has_given_up_on_anything_so_far(cloud) -> None:
    dead_letter_audit.audit(cloud)


def test_the_audit_names_the_queue_the_consumer_and_its_error(cloud) -> None:
    sqs = prefix_audit.client(cloud, "sqs")
    url = sqs.get_queue_url(QueueName="AuditTrail-dlq")["QueueUrl"]
    error = f"KeyError: {uuid.uuid4().hex}"
    body = json.dumps({"consumer": "AuditTrail", "attempts": 3, "error": error, "record": {}})
    sqs.send_message(QueueUrl=url, MessageBody=body)
    try:
        assert f"AuditTrail: {error}" in dead_letter_audit.dead_letters(cloud)["AuditTrail-dlq"]
        with pytest.raises(AssertionError, match=error):
            dead_letter_audit.audit(cloud)
    finally:  # only this test's message: anything else there is for the session's audit to report
        held = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
        for message in held:
            if message["Body"] == body:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
