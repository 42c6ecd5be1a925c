"""DynamoDB stream consumer: a ticket that moves into ``resolved`` earns its requester a survey
invitation email, so no request waits on SES.

Idempotent: the invitation's id is derived from the ticket and its resolution time, so a redelivered
record finds the invitation already sent. Failures are reported per record (partial batch response).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from functions.events import batches
from functions.observability import tracer
from shared.support.surveys import invitations
from shared.support.tickets import Ticket

logger = Logger(service="deskos-surveys")
metrics = Metrics(namespace="DeskOS", service="deskos-surveys")
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _status(image: dict[str, Any] | None) -> str | None:
    return ((image or {}).get("status") or {}).get("S")


def record_handler(record: DynamoDBRecord) -> None:
    change = record.raw_event.get("dynamodb", {})
    new, old = change.get("NewImage"), change.get("OldImage")
    if record.raw_event.get("eventName") != "MODIFY" or (new.get("entity") or {}).get("S") != "ticket":
        return
    if _status(new) != "resolved" or _status(old) == "resolved":
        return
    ticket = Ticket.from_raw_data(new)
    invitation = invitations.invite(ticket)
    if invitation is not None:
        logger.info("survey invitation sent", tenant_id=ticket.tenant_id, invitation_id=invitation.id)
        metrics.add_metric("SurveyInvitationsSent", MetricUnit.Count, 1)


@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return batches.deliver(event, context, processor, record_handler, metrics)
