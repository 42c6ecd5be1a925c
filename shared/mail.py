"""Outgoing email through SES. Only event consumers and scheduled jobs send mail, so no request
waits on it; locally moto's SES keeps every message (see ``deskos outbox``)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from shared import aws
from shared.settings import settings


@cache
def _ses() -> Any:
    return aws.client("ses")


aws.on_forget(_ses.cache_clear)


def send(to: Sequence[str], subject: str, body: str, *, sender: str | None = None) -> str:
    """Send a plain-text email; returns the SES message id."""
    if not to:
        raise ValueError("an email needs at least one recipient")
    response = _ses().send_email(
        Source=sender or settings().mail_sender,
        Destination={"ToAddresses": list(to)},
        Message={
            "Subject": {"Data": subject[:200], "Charset": "UTF-8"},
            "Body": {"Text": {"Data": body, "Charset": "UTF-8"}},
        },
    )
    return response["MessageId"]
