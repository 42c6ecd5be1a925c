"""Outgoing email through SES. Only event consumers and scheduled jobs send mail, so no request
waits on it; locally moto's SES keeps every message (see ``deskos outbox``)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from shared.settings import settings


@cache
def _ses() -> Any:
    import boto3

    return boto3.client("ses", region_name=settings().region)


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
