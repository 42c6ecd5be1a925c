"""Browser-upload (presigned POST) policies, enforced in front of the local S3 as S3 enforces them.

Moto stores whatever a POST upload sends: it checks neither the policy's expiration nor its
conditions (content-length-range, the pinned key, the content type). AWS refuses such uploads, and
DeskOS relies on that (an oversize file must be refused by S3 itself, not only by the API). So this
WSGI middleware evaluates the policy of every POST form upload before moto sees it: expiration,
``{"field": value}`` and ``["eq"|"starts-with", "$field", value]`` conditions (``bucket`` from the
path), ``content-length-range`` against the file's size, and no form field left uncovered. It answers
with S3's own error documents (EntityTooLarge / EntityTooSmall 400, AccessDenied 403).

Not checked: the SigV4 signature. Moto accepts any credentials, so there is no secret to check it
against; the conditions, which are what the application relies on, are.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.formparser import parse_form_data

# Fields S3 never asks the policy to cover.
EXEMPT = frozenset({"policy", "x-amz-signature", "signature", "awsaccesskeyid", "file", "bucket"})


class PolicyViolation(Exception):
    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def check(policy_b64: str, bucket: str, fields: dict[str, str], size: int, at: datetime) -> None:
    """Raise PolicyViolation unless the upload satisfies the policy, as S3 decides it."""
    try:
        policy = json.loads(base64.b64decode(policy_b64, validate=True))
        expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
        conditions = policy["conditions"]
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise PolicyViolation(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from None
    if at >= expires:
        raise PolicyViolation(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    values = {**fields, "bucket": bucket}
    covered: set[str] = set()
    for condition in conditions:
        if isinstance(condition, dict):
            for name, expected in condition.items():
                _expect(name.lower(), "eq", expected, values, condition)
                covered.add(name.lower())
        elif isinstance(condition, list) and condition and condition[0] == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if size > high:
                raise PolicyViolation(
                    400,
                    "EntityTooLarge",
                    "Your proposed upload exceeds the maximum allowed size",
                    ProposedSize=size,
                    MaxSizeAllowed=high,
                )
            if size < low:
                raise PolicyViolation(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                    ProposedSize=size,
                    MinSizeAllowed=low,
                )
        elif isinstance(condition, list) and len(condition) == 3 and str(condition[1]).startswith("$"):
            name = str(condition[1])[1:].lower()
            _expect(name, str(condition[0]).lower(), condition[2], values, condition)
            covered.add(name)
        else:
            raise PolicyViolation(400, "InvalidPolicyDocument", f"Invalid Policy: Invalid condition {condition!r}.")
    extra = sorted(
        name for name in fields if name not in covered and name not in EXEMPT and not name.startswith("x-ignore-")
    )
    if extra:
        raise PolicyViolation(
            403, "AccessDenied", f"Invalid according to Policy: Extra input fields: {', '.join(extra)}"
        )


def _expect(name: str, operator: str, expected: Any, values: dict[str, str], condition: Any) -> None:
    actual = values.get(name)
    ok = actual is not None and (
        actual == str(expected) if operator == "eq" else operator == "starts-with" and actual.startswith(str(expected))
    )
    if not ok:
        raise PolicyViolation(
            403, "AccessDenied", f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}"
        )


def error_document(violation: PolicyViolation) -> bytes:
    extra = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in violation.extra.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{violation.code}</Code><Message>{escape(violation.message)}</Message>{extra}</Error>"
    ).encode()


class PostPolicy:
    """WSGI middleware: POST form uploads that carry a ``policy`` field must satisfy it."""

    def __init__(self, app: Callable[..., Iterable[bytes]], clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.app = app
        self.clock = clock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or not environ.get("CONTENT_TYPE", "").startswith(
            "multipart/form-data"
        ):
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        _stream, form, files = parse_form_data({**environ, "wsgi.input": io.BytesIO(body)})
        fields = {name.lower(): value for name, value in form.items()}
        if "policy" in fields:
            upload = files.get("file")
            size = len(upload.read()) if upload is not None else 0
            bucket = environ.get("PATH_INFO", "/").strip("/").split("/")[0]
            try:
                check(fields["policy"], bucket, fields, size, self.clock())
            except PolicyViolation as violation:
                document = error_document(violation)
                status = {400: "400 Bad Request", 403: "403 Forbidden"}[violation.status]
                start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(document)))])
                return [document]
        return self.app(environ, start_response)
