"""What no route accepts: bodies too large, too deep or unreadable, refused before any parser sees them."""

from __future__ import annotations

import base64
import json
from typing import Any

from shared.errors import BadRequest, DomainError, PayloadTooLarge

MAX_BODY_BYTES = 256 * 1024  # far below API Gateway's 10 MB
MAX_JSON_DEPTH = 32  # DynamoDB's own limit on nested attributes
NOT_UTF8 = "The body is not valid UTF-8."


def body_refusal(event: dict[str, Any]) -> DomainError | None:
    """A body too large or too deeply nested for any route, refused before a parser or model sees it.

    Python's JSON parser gives up deep nesting with a RecursionError and very long numbers with a
    ValueError, neither of which is a JSONDecodeError: left to the resolver, both would be 500s."""
    body = event.get("body")
    if not body:
        return None
    if event.get("isBase64Encoded"):
        if len(body) * 3 // 4 - body[-2:].count("=") > MAX_BODY_BYTES:
            return PayloadTooLarge(f"Bodies are limited to {MAX_BODY_BYTES} bytes.", limit=MAX_BODY_BYTES)
        try:
            body = base64.b64decode(body).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return BadRequest(NOT_UTF8)
    elif len(body) > MAX_BODY_BYTES or (len(body) * 4 > MAX_BODY_BYTES and len(body.encode()) > MAX_BODY_BYTES):
        return PayloadTooLarge(f"Bodies are limited to {MAX_BODY_BYTES} bytes.", limit=MAX_BODY_BYTES)
    try:
        document = json.loads(body)
    except json.JSONDecodeError:
        return None  # the resolver reports invalid JSON (and a body sent as another media type) itself
    except RecursionError:
        return BadRequest(f"JSON may nest at most {MAX_JSON_DEPTH} levels deep.")
    except ValueError:
        return BadRequest("The body holds a number too long to read.")
    if _depth_exceeds(document, MAX_JSON_DEPTH):
        return BadRequest(f"JSON may nest at most {MAX_JSON_DEPTH} levels deep.")
    return None


def _depth_exceeds(document: Any, limit: int) -> bool:
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
