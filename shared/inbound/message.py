"""One inbound email, parsed with the standard library (``email``, ``policy.default``): who sent it, what it
answers, its text, its files, and whether a machine wrote it.

What the parser copes with: multipart (mixed, alternative, related, nested), HTML-only mail (its text is derived),
RFC 2047 encoded headers and RFC 2231 file names, any charset Python knows (Latin-1, Shift-JIS, …; an unknown
charset is read as UTF-8 with replacement characters, never an error). What it refuses (``Refused``): bytes
that are no message (no From address) and multiparts whose boundaries are broken."""

from __future__ import annotations

import email
import hashlib
import re
from dataclasses import dataclass
from email import errors as mime_errors
from email.message import EmailMessage
from email.policy import default
from email.utils import getaddresses, parseaddr

from shared.html_text import html_to_text

# structural defects after which the parts cannot be trusted to be what the sender wrote
_BROKEN = (
    mime_errors.NoBoundaryInMultipartDefect,
    mime_errors.StartBoundaryNotFoundDefect,
    mime_errors.MultipartInvariantViolationDefect,
)
_BULK = frozenset({"bulk", "junk", "list"})
_DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon"})
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


class Refused(Exception):
    """The message is not taken; ``str()`` is the reason logged and counted."""


@dataclass(frozen=True)
class Part:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Mail:
    message_id: str  # as sent (<…>), or a digest of the bytes when the sender gave none
    sender: str  # the From address, lowercased
    sender_name: str
    subject: str
    addresses: tuple[str, ...]  # To, Cc and Delivered-To, as sent
    references: tuple[str, ...]  # In-Reply-To and References ids
    text: str
    attachments: tuple[Part, ...]
    automatic: str | None  # why a machine wrote it (auto-reply, bulk, bounce), else None


def parse(raw: bytes) -> Mail:
    message = email.message_from_bytes(raw, policy=default)
    if not isinstance(message, EmailMessage):
        raise Refused("malformed: not a MIME message")
    broken = [d for part in message.walk() for d in part.defects if isinstance(d, _BROKEN)]
    if broken:
        raise Refused(f"malformed MIME: {type(broken[0]).__name__}")
    try:
        name, sender = parseaddr(str(message.get("From", "")))
        if "@" not in sender:
            raise Refused("malformed: no From address")
        addresses = tuple(
            address for _, address in getaddresses([str(v) for h in ("To", "Cc") for v in message.get_all(h, [])])
        )
        referenced = " ".join(str(v) for h in ("In-Reply-To", "References") for v in message.get_all(h, []))
        subject = " ".join(str(message.get("Subject", "")).split())
        message_id = _MESSAGE_ID.search(str(message.get("Message-ID", "")))
    except (ValueError, TypeError, IndexError, AttributeError, mime_errors.HeaderParseError) as error:
        raise Refused(f"malformed headers: {type(error).__name__}") from None
    return Mail(
        message_id=message_id.group(0) if message_id else f"<sha256.{hashlib.sha256(raw).hexdigest()}@deskos>",
        sender=sender.lower(),
        sender_name=name,
        subject=subject,
        addresses=addresses,
        references=tuple(_MESSAGE_ID.findall(referenced)),
        text=_text(message),
        attachments=tuple(_attachments(message)),
        automatic=_automatic(message, sender.lower()),
    )


def _decoded(part: EmailMessage) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError, AssertionError):  # an unknown or lying charset
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    text = _decoded(body)
    return html_to_text(text) if body.get_content_type() == "text/html" else text


def _attachments(message: EmailMessage) -> list[Part]:
    body = message.get_body(preferencelist=("plain", "html"))
    found = []
    for part in message.walk():
        if part.is_multipart() or part is body:
            continue
        filename = part.get_filename()
        kind = part.get_content_type()
        if kind == "text/calendar" and not filename:
            filename = "invite.ics"
        disposition = part.get_content_disposition()
        if not filename and disposition != "attachment":
            continue  # an alternative body (the HTML of a text mail), not a file
        data = part.get_payload(decode=True) or b""
        found.append(Part(filename or "attachment", kind, data))
    return found


def _automatic(message: EmailMessage, sender: str) -> str | None:
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    if auto and auto != "no":
        return f"auto-submitted: {auto}"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence in _BULK:
        return f"precedence: {precedence}"
    if message.get("X-Autoreply") or message.get("X-Autorespond"):
        return "auto-reply"
    if message.get_content_type() == "multipart/report" or sender.partition("@")[0] in _DAEMONS:
        return "bounce"
    return None
