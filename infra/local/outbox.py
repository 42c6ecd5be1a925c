"""The emails the local cloud "sent": moto's SES keeps every message, readable over its API."""

from __future__ import annotations

import email
import json
import urllib.request
from email.policy import default
from typing import Any


def _parsed(raw: dict[str, Any]) -> dict[str, Any]:
    """A raw MIME message as the outbox shows every message: subject, text body, HTML, headers, attachments."""
    message = email.message_from_string(raw["raw_data"], policy=default)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return {
        "id": raw.get("id"),
        "source": raw.get("source"),
        "destinations": {"ToAddresses": list(dict.fromkeys(raw.get("destinations") or []))},  # moto adds To: again
        "subject": str(message.get("Subject", "")),
        "body": text.get_content() if text is not None else "",
        "html": html.get_content() if html is not None else None,
        "headers": {name: str(value) for name, value in message.items()},
        "attachments": [
            {
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "content": part.get_payload(decode=True).decode("utf-8", "replace"),
            }
            for part in message.iter_attachments()
        ],
        "raw": raw["raw_data"],
    }


def messages(aws_endpoint_url: str) -> list[dict[str, Any]]:
    """Every email sent through the local SES, oldest first: id, source, destinations, subject, body (and, for
    raw MIME mail, html, headers and attachments)."""
    with urllib.request.urlopen(f"{aws_endpoint_url}/moto-api/data.json", timeout=10) as response:
        data = json.load(response)
    ses = data.get("ses", {})
    # shared.mail sends raw MIME; plain messages are from states saved before it did
    return [*ses.get("Message", []), *(_parsed(m) for m in ses.get("RawMessage", []))]


def render(message: dict[str, Any]) -> str:
    to = ", ".join(message.get("destinations", {}).get("ToAddresses", []))
    return f"From: {message.get('source')}\nTo: {to}\nSubject: {message.get('subject')}\n\n{message.get('body')}\n"
