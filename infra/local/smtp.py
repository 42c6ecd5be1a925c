"""The local cloud's SMTP listener: plays SES's receipt rule for every tenant's inbound subdomain.

A real SMTP server (aiosmtpd) on loopback takes each message (``smtplib``, ``swaks`` or a mail client can send
one), stores it raw in the bucket under the inbound prefix, as the rule's S3 action does, and calls the inbound
function with the event SES's Lambda action would send (``functions/events/inbound_email.py``): one code path
for both clouds. It answers 250 once the function has taken the message (refusals included: SES accepts and
the function decides, so senders learn nothing about addresses); a failure of the function (storage down) is a
451, so the sender retries, as SES's retries of its invocation would. Messages up to SES's 40 MB are accepted;
the function refuses what is over 10 MB."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

from infra.local.lambda_context import MOTO_ACCOUNT_ID, LambdaContext
from infra.resources import INBOUND_MAIL

logger = logging.getLogger(__name__)
SES_MAX_BYTES = 40 * 1024 * 1024
Deliver = Callable[[bytes, list[str], str], Any]


def ses_event(message_id: str, recipients: list[str], sender: str, region: str) -> dict[str, Any]:
    """The event SES's Lambda action sends once the S3 action stored the message (the parts DeskOS reads)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {
        "Records": [
            {
                "eventSource": "aws:ses",
                "eventVersion": "1.0",
                "ses": {
                    "mail": {"timestamp": stamp, "source": sender, "messageId": message_id, "destination": recipients},
                    "receipt": {
                        "timestamp": stamp,
                        "recipients": recipients,
                        "spamVerdict": {"status": "PASS"},
                        "virusVerdict": {"status": "PASS"},
                        "action": {
                            "type": "Lambda",
                            "functionArn": f"arn:aws:lambda:{region}:{MOTO_ACCOUNT_ID}:function:{INBOUND_MAIL.name}",
                            "invocationType": "Event",
                        },
                    },
                },
            }
        ]
    }


def deliver_to_function(s3: Any, bucket: str, region: str, handler: Callable[..., Any]) -> Deliver:
    """Store the message as SES's S3 action does, then invoke the inbound function as its Lambda action does."""

    def deliver(raw: bytes, recipients: list[str], sender: str) -> Any:
        message_id = uuid.uuid4().hex
        s3.put_object(Bucket=bucket, Key=f"{INBOUND_MAIL.s3_prefix}{message_id}", Body=raw)
        return handler(ses_event(message_id, recipients, sender, region), LambdaContext(INBOUND_MAIL.name))

    return deliver


class _Handler:
    def __init__(self, deliver: Deliver) -> None:
        self.deliver = deliver

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode()
        recipients = [str(r) for r in envelope.rcpt_tos]
        try:
            await asyncio.get_running_loop().run_in_executor(
                None, self.deliver, raw, recipients, str(envelope.mail_from or "")
            )
        except Exception:  # the function failed (not the message): the sender retries, as SES would retry
            logger.exception("the inbound function failed a message for %s", recipients)
            return "451 4.3.0 Temporary failure; try again later"
        return "250 2.0.0 Message accepted"


class _Listener(Controller):
    """aiosmtpd's controller, on a port the system picks when asked for port 0."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpListener:
    def __init__(self, host: str, port: int, deliver: Deliver) -> None:
        self._controller = _Listener(
            _Handler(deliver), hostname=host, port=port, data_size_limit=SES_MAX_BYTES, ready_timeout=10.0
        )

    @property
    def port(self) -> int:
        return self._controller.port

    def start(self) -> SmtpListener:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
