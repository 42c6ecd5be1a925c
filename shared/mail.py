"""Outgoing email through SES. Only event consumers and scheduled jobs send mail, so no request
waits on it; locally moto's SES keeps every message (see ``deskos outbox``).

Every message goes out as raw MIME (``SendRawEmail``), so one path carries what some mail needs: an HTML
alternative, a Reply-To, extra headers (``List-Unsubscribe``), attachments (an ``.ics`` invitation)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from functools import cache
from typing import Any

from shared import aws
from shared.settings import ses_configuration_set, settings


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # may carry parameters: "text/calendar; method=REQUEST"
    data: bytes


@cache
def _ses() -> Any:
    return aws.client("ses")


aws.on_forget(_ses.cache_clear)


def compose(
    to: Sequence[str],
    subject: str,
    body: str,
    *,
    sender: str,
    html: str | None = None,
    reply_to: str | None = None,
    headers: Mapping[str, str] | None = None,
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    """The MIME message ``send`` hands to SES (text, then HTML as its alternative, then attachments)."""
    message = EmailMessage(policy=SMTP)
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = " ".join(subject.split())[:200]
    message["Date"] = formatdate(usegmt=True)
    headers = dict(headers or {})
    # a caller may choose the Message-ID (a reply address rides in it, for the References of replies)
    message["Message-ID"] = headers.pop("Message-ID", None) or make_msgid(domain=sender.rpartition("@")[2] or None)
    if reply_to:
        message["Reply-To"] = reply_to
    for name, value in headers.items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for attachment in attachments:
        maintype, _, rest = attachment.content_type.partition("/")
        subtype, *params = (part.strip() for part in rest.split(";"))
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=dict(p.split("=", 1) for p in params if "=" in p),
        )
    return message


def send(
    to: Sequence[str],
    subject: str,
    body: str,
    *,
    sender: str | None = None,
    html: str | None = None,
    reply_to: str | None = None,
    headers: Mapping[str, str] | None = None,
    attachments: Sequence[Attachment] = (),
    tags: Mapping[str, str] | None = None,
) -> str:
    """Send one email (a text body, optionally an HTML alternative and attachments); returns SES's message id.
    ``tags`` ride on SES's events about the email (bounces, complaints, deliveries: ``shared.marketing.feedback``),
    published through the configuration set ``DESKOS_SES_CONFIGURATION_SET`` when one is set."""
    if not to:
        raise ValueError("an email needs at least one recipient")
    source = sender or settings().mail_sender
    message = compose(
        to, subject, body, sender=source, html=html, reply_to=reply_to, headers=headers, attachments=attachments
    )
    extra: dict[str, Any] = {}
    if tags:
        extra["Tags"] = [{"Name": name, "Value": value} for name, value in tags.items()]
    if configuration_set := ses_configuration_set():
        extra["ConfigurationSetName"] = configuration_set
    response = _ses().send_raw_email(
        Source=source, Destinations=list(to), RawMessage={"Data": message.as_bytes()}, **extra
    )
    return response["MessageId"]
