"""The emails the local cloud "sent": moto's SES keeps every message, readable over its API."""

from __future__ import annotations

import json
import urllib.request
from typing import Any


def messages(aws_endpoint_url: str) -> list[dict[str, Any]]:
    """Every email sent through the local SES, oldest first: id, source, destinations, subject, body."""
    with urllib.request.urlopen(f"{aws_endpoint_url}/moto-api/data.json", timeout=10) as response:
        data = json.load(response)
    return list(data.get("ses", {}).get("Message", []))


def render(message: dict[str, Any]) -> str:
    to = ", ".join(message.get("destinations", {}).get("ToAddresses", []))
    return f"From: {message.get('source')}\nTo: {to}\nSubject: {message.get('subject')}\n\n{message.get('body')}\n"
