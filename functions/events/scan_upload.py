"""S3 ObjectCreated (through the uploads queue) → scan, classify, thumbnail: ``shared.attachments.pipeline``.

Fed by SQS in the cloud and locally (the event pump), with partial batch failures: a message whose
object could not be judged (the engine failed, S3 was unreachable) is retried and finally lands in
the consumer's dead-letter queue, while the rest of the batch completes. On its last attempt
(``scanner.ATTEMPTS``, the queue's max receives) the attachment is first marked ``scan_failed`` with the
reason and staff are told (``UploadsScanFailed`` alarms), so no upload waits in ``pending_scan`` unexplained;
a replay of the dead letter judges it once the cause is fixed."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from functions.events import batches
from functions.observability import tracer
from shared.attachments import pipeline, scanner

logger = Logger(service="deskos-scan")
metrics = Metrics(namespace="DeskOS", service="deskos-scan")
processor = BatchProcessor(event_type=EventType.SQS)
COUNTERS = {"infected": "UploadsInfected", "rejected": "UploadsRejected"}


class NoticeOwed(RuntimeError):
    """The staff email about an infected upload could not be sent: the message is retried for it."""


def record_handler(record: SQSRecord) -> None:
    notification = json.loads(record.body)
    if notification.get("Event") == "s3:TestEvent":  # S3 sends one when the notification is configured
        return
    for change in notification.get("Records", []):
        if not change.get("eventName", "").startswith("ObjectCreated"):
            continue
        s3 = change["s3"]
        key = unquote_plus(s3["object"]["key"])
        etag = s3["object"].get("eTag", "")
        try:
            outcome = pipeline.process(key, etag)
        except Exception as error:
            if int(record.attributes.approximate_receive_count or 0) >= scanner.ATTEMPTS:
                _give_up(key, etag, error)
            raise
        if outcome.status is not None:
            logger.info("scanned", extra={"key": key, "status": outcome.status, "reason": outcome.reason})
            metrics.add_metric("UploadsScanned", MetricUnit.Count, 1)
            metrics.add_metric("ScanDuration", MetricUnit.Milliseconds, round(outcome.seconds * 1000, 1))
            if outcome.status in COUNTERS:
                metrics.add_metric(COUNTERS[outcome.status], MetricUnit.Count, 1)
        if outcome.notice_owed:  # the verdict is recorded (and counted); the redelivery only sends the email
            raise NoticeOwed(f"staff not yet told of the infected upload {key}")


def _give_up(key: str, etag: str, error: Exception) -> None:
    """The last attempt failed too: record why on the attachment (the message still goes to the DLQ)."""
    detail = str(error) if isinstance(error, scanner.ScanError) else f"internal error ({type(error).__name__})"
    reason = f"The virus scan could not run ({scanner.ATTEMPTS} attempts): {detail}"[:500]
    metrics.add_metric("UploadsScanFailed", MetricUnit.Count, 1)
    try:
        if not pipeline.give_up(key, etag, reason):
            logger.warning("staff not yet told that %s could not be scanned", key)
    except Exception:  # the original error is what the DLQ must record; this one is only logged
        logger.exception("could not mark %s scan_failed", key)


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return batches.deliver(event, context, processor, record_handler, metrics)
