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

Moto also ignores a POST's ``tagging`` field (S3 tags the new object with the XML tag set it holds;
DeskOS tags every upload pending that way). ``PostPolicy`` checks the field is a well-formed tag set
and ``PostTagging``, inside the server's one-request-at-a-time lock, applies it to the object moto
just stored, with an ordinary PutObjectTagging request to moto: no other client sees the object untagged.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from werkzeug.formparser import parse_form_data

# Fields S3 never asks the policy to cover.
EXEMPT = frozenset({"policy", "x-amz-signature", "signature", "awsaccesskeyid", "file", "bucket"})
# environ: (bucket, key, tagging XML, signer's credential) of a checked POST upload, for PostTagging
TAGGING = "deskos.post_tagging"
FORM = "deskos.post_form"  # environ: the fields of a POST form upload (lower-cased names), for the tenant guard
ANONYMOUS = "local/20000101/us-east-1/s3/aws4_request"  # moto's credential scope for a POST signed without SigV4


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


def check_tagging(document: str) -> None:
    """A POST's ``tagging`` field must be a well-formed S3 tag set, as S3 requires."""
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError:
        root = None
    tags = [] if root is None else [t for t in root.iter() if t.tag.rpartition("}")[2] == "Tag"]
    if root is None or root.tag.rpartition("}")[2] != "Tagging" or not all(_tag_key(t) for t in tags):
        raise PolicyViolation(400, "MalformedXML", "The XML you provided was not well-formed or did not validate.")


def _tag_key(tag: ElementTree.Element) -> str | None:
    return next((c.text for c in tag if c.tag.rpartition("}")[2] == "Key"), None)


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
        environ[FORM] = fields
        if "policy" in fields:
            upload = files.get("file")
            size = len(upload.read()) if upload is not None else 0
            bucket = environ.get("PATH_INFO", "/").strip("/").split("/")[0]
            try:
                check(fields["policy"], bucket, fields, size, self.clock())
                if "tagging" in fields:
                    check_tagging(fields["tagging"])
                    credential = fields.get("x-amz-credential", ANONYMOUS)
                    environ[TAGGING] = (bucket, fields.get("key", ""), fields["tagging"], credential)
            except PolicyViolation as violation:
                document = error_document(violation)
                status = {400: "400 Bad Request", 403: "403 Forbidden"}[violation.status]
                start_response(status, [("Content-Type", "application/xml"), ("Content-Length", str(len(document)))])
                return [document]
        return self.app(environ, start_response)


class PostTagging:
    """WSGI middleware (under the server's lock): tags the object a checked POST upload just stored."""

    def __init__(self, app: Callable[..., Iterable[bytes]]):
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if TAGGING not in environ:
            return self.app(environ, start_response)
        status, headers, body = _run(self.app, environ)
        if status.startswith("2"):
            self._put_tagging(environ, *environ[TAGGING])
        start_response(status, headers)
        return [body]

    def _put_tagging(self, environ: dict[str, Any], bucket: str, key: str, tagging: str, credential: str) -> None:
        """PutObjectTagging as the upload's signer (moto reads the account and the service from the credential
        scope and checks no signature)."""
        path, document = f"/{bucket}/{key}", tagging.encode()
        request = {
            name: value for name, value in environ.items() if not name.startswith(("HTTP_", "CONTENT_", "deskos."))
        }
        request.update(
            REQUEST_METHOD="PUT",
            PATH_INFO=path,
            RAW_URI=f"{quote(path)}?tagging",
            REQUEST_URI=f"{quote(path)}?tagging",
            QUERY_STRING="tagging",
            CONTENT_TYPE="application/xml",
            CONTENT_LENGTH=str(len(document)),
            HTTP_HOST=environ.get("HTTP_HOST", ""),
            HTTP_AUTHORIZATION=f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=0",
        )
        request["wsgi.input"] = io.BytesIO(document)
        status, _headers, reply = _run(self.app, request)
        if not status.startswith("2"):
            raise RuntimeError(f"local S3 could not tag {path}: {status} {reply[:500]!r}")


def _run(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Call a WSGI app to the end: its status, headers and whole body."""
    started: list[tuple[str, list[tuple[str, str]]]] = []
    response = app(environ, lambda status, headers, *_: started.append((status, headers)))
    try:
        body = b"".join(response)
    finally:
        getattr(response, "close", lambda: None)()
    status, headers = started[-1]
    return status, headers, body
