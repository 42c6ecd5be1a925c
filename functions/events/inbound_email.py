"""SES receipt rule → this function: one inbound email, stored raw in S3 by the rule's S3 action
(``inbound/<SES message id>``), becomes a ticket, a comment or nothing (``shared.inbound.intake``).

SES invokes it asynchronously once the message is stored, with the envelope's recipients and its spam and virus
verdicts; locally, ``deskos up``'s SMTP listener stores the message the same way and calls this handler with the
same event. A refusal (oversize, malformed, automatic, a loop, a flood, a stranger) is logged with its reason and
counted (``EmailsRejected``), never raised: only a failure of storage or S3 raises, so the invocation is retried
(and the Message-ID marker makes nothing twice)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from functions.observability import tracer
from shared.attachments import storage
from shared.inbound import INBOUND_PREFIX, intake
from shared.settings import require_settings, settings

logger = Logger(service="deskos-mail")
metrics = Metrics(namespace="DeskOS", service="deskos-mail")
FAILED_VERDICT = "FAIL"


def receive(ses: dict[str, Any]) -> intake.Outcome:
    """One SES notification (``Records[].ses``): read the stored message and take it."""
    mail, receipt = ses.get("mail", {}), ses.get("receipt", {})
    recipients = list(receipt.get("recipients") or mail.get("destination") or [])
    for verdict in ("virusVerdict", "spamVerdict", "dmarcVerdict"):  # DMARC FAIL: a forged From (a fake requester)
        if (receipt.get(verdict) or {}).get("status") == FAILED_VERDICT:
            return intake.refuse(None, f"SES {verdict}: {FAILED_VERDICT}")
    key = f"{INBOUND_PREFIX}{mail.get('messageId', '')}"
    stored = storage.s3().get_object(Bucket=settings().bucket_name, Key=key)
    oversize = intake.too_big(int(stored["ContentLength"]))
    if oversize is not None:  # never read into memory
        stored["Body"].close()
        return oversize
    return intake.receive(stored["Body"].read(), recipients)


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    require_settings()
    outcomes = []
    try:
        for record in event.get("Records", []):
            outcome = receive(record.get("ses", {}))
            metrics.add_metric("EmailsReceived", MetricUnit.Count, 1)
            if outcome.action == "refused":
                metrics.add_metric("EmailsRejected", MetricUnit.Count, 1)
            logger.info("inbound email", action=outcome.action, reason=outcome.reason, tenant_id=outcome.tenant_id)
            outcomes.append({"action": outcome.action, "reason": outcome.reason, "ticket_id": outcome.ticket_id})
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
    # SES's Lambda action (asynchronous) ignores the answer; "CONTINUE" is what a synchronous one expects
    return {"disposition": "CONTINUE", "outcomes": outcomes}
