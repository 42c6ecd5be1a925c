"""Email-to-ticket: one inbound message becomes a ticket, a public comment, or nothing (with the reason why).

One code path for the cloud (SES stores the raw message in S3 and invokes ``functions/events/inbound_email.py``)
and the local cloud (``deskos up``'s SMTP listener calls the same function). The steps, each a reason to refuse:
size (over ``MAX_BYTES``), a DeskOS address among the envelope's recipients (the tenant), MIME that parses,
no auto-reply, bounce or bulk mail, not DeskOS's own mail (a loop), at most ``DESKOS_INBOUND_PER_MINUTE``
messages a minute from one sender (a counter item per sender and minute, one conditional UpdateItem).

Then: a reply tag (``shared.inbound.mailbox``) in the recipients, To, Cc or References names the ticket: the
sender must be its requester, or a contact or portal user of its client; the reply without its quote and
signature becomes a public comment. Otherwise the sender's contact (GSI3, by address) or portal user (GSI1)
gets a new ticket for its client, channel ``email``; an unknown sender gets a ticket without client or is
refused, as the tenant's mailbox says. Attachments are uploaded (a presigned POST, as any client uploads) as the
ticket's, so the scan pipeline judges them.

Exactly once per Message-ID: a marker item (``T#<t>#INBOUND#<digest>``) is claimed with a conditional put before
anything is made, holding the ids of what will be made (the ticket, the comment; the attachments' are derived
from it). A second delivery of a finished message is a duplicate; one that finds the marker unfinished (the
first died half-way) finishes what is missing, making nothing twice."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from shared import directory
from shared.attachments import service as attachments
from shared.attachments import storage
from shared.caller import Role, TenantContext
from shared.clock import now
from shared.crm import contacts
from shared.db.errors import storage_errors
from shared.db.table import Item, tkey
from shared.errors import Conflict, DomainError
from shared.ids import new_id
from shared.inbound import mailbox
from shared.inbound.message import Mail, Part, Refused, parse
from shared.inbound.quoting import reply_text, without_signature
from shared.settings import inbound_per_minute, settings
from shared.support import comments, tickets
from shared.support.comments import Comment, NewComment
from shared.support.tickets import NewTicket, Ticket

logger = logging.getLogger(__name__)
MAX_BYTES = 10 * 1024 * 1024
KEPT_FOR = timedelta(days=90)  # how long a Message-ID is remembered
ACTOR = "email"  # created_by / updated_by of what the mail makes (the audit trail's actor)
MAX_TEXT = 20_000
MAX_NAME = 200
_UNSAFE_NAME = re.compile(r'[/\\<>:"|?*\x00-\x1f]')
Action = Literal["ticket", "comment", "duplicate", "refused"]


@dataclass(frozen=True)
class Outcome:
    action: Action
    reason: str | None = None
    tenant_id: str | None = None
    ticket_id: str | None = None
    comment_id: str | None = None
    attachments: int = 0


@dataclass(frozen=True)
class Author:
    kind: str  # contact | portal_user | email
    id: str
    client_id: str | None


class InboundMessage(Item, discriminator="inbound_message"):
    """A message taken, by its Message-ID: what it makes, and whether that is finished."""

    message_id = UnicodeAttribute()
    sender = UnicodeAttribute()
    action = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    comment_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    done_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def key(tenant_id: str, message_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "INBOUND", hashlib.sha256(message_id.encode()).hexdigest()[:40]), "INBOUND"


class SenderRate(Item, discriminator="inbound_rate"):
    count = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str, sender: str, minute: str) -> tuple[str, str]:
        return tkey(tenant_id, "INBOUNDRATE", sender, minute), "RATE"


def receive(raw: bytes, recipients: list[str]) -> Outcome:
    """Take one message delivered to ``recipients`` (the envelope's). Never raises for what the message is;
    raises only when storage or S3 fails (the delivery is then retried)."""
    if (oversize := too_big(len(raw))) is not None:
        return oversize
    tenant_id = next((t for t in map(mailbox.tenant_of, recipients) if t), None)
    if tenant_id is None:
        return refuse(None, "no DeskOS mailbox among the recipients")
    try:
        mail = parse(raw)
    except Refused as refused:
        return refuse(tenant_id, str(refused))
    if mail.automatic:
        return refuse(tenant_id, f"automatic mail ({mail.automatic}) from {mail.sender}")
    if mail.sender == settings().mail_sender.lower() or mailbox.is_ours(mail.sender):
        return refuse(tenant_id, f"a loop: mail from DeskOS itself ({mail.sender})")
    if not _within_rate(tenant_id, mail.sender):
        return refuse(tenant_id, f"flood: more than {inbound_per_minute()} messages a minute from {mail.sender}")
    ticket_id = mailbox.replied_ticket(tenant_id, [*recipients, *mail.addresses, *mail.references])
    if ticket_id is not None:
        return _reply(tenant_id, ticket_id, mail)
    return _new_ticket(tenant_id, mail)


def too_big(size: int) -> Outcome | None:
    """The refusal of a message of ``size`` bytes, if it is over the limit (checked before it is read)."""
    return refuse(None, f"oversize: {size} bytes (at most {MAX_BYTES})") if size > MAX_BYTES else None


def refuse(tenant_id: str | None, reason: str) -> Outcome:
    logger.warning("inbound email refused: %s", reason, extra={"tenant_id": tenant_id})
    return Outcome("refused", reason, tenant_id)


def _within_rate(tenant_id: str, sender: str) -> bool:
    moment = now()
    rate = SenderRate(*SenderRate.key(tenant_id, sender, moment.strftime("%Y-%m-%dT%H:%M")))
    try:
        with storage_errors():
            rate.update(
                actions=[
                    SenderRate.count.add(1),
                    SenderRate.tenant_id.set(tenant_id),
                    SenderRate.entity.set(SenderRate),
                    SenderRate.expiration.set(int((moment + timedelta(minutes=10)).timestamp())),
                ],
                condition=SenderRate.count.does_not_exist() | (SenderRate.count < inbound_per_minute()),
            )
    except Conflict:
        return False
    return True


# ---- a reply -----------------------------------------------------------------------------------


def _reply(tenant_id: str, ticket_id: str, mail: Mail) -> Outcome:
    with storage_errors():
        ticket = Ticket.find(tenant_id, ticket_id)
    if ticket is None:
        return refuse(tenant_id, f"a reply to ticket {ticket_id}, which no longer exists")
    author = _author_of_reply(ticket, mail.sender)
    if author is None:
        return refuse(tenant_id, f"{mail.sender} may not reply to {ticket.number}: not its requester nor its client's")
    files = f"({len(mail.attachments)} attachments by email)" if mail.attachments else ""
    text = reply_text(mail.text)[:MAX_TEXT] or files
    if not comments.sanitise(text):
        return refuse(tenant_id, f"an empty reply to {ticket.number} from {mail.sender}")
    marker, resumed = _claim(tenant_id, mail, "comment", ticket.id)
    if marker is None:
        return Outcome("duplicate", f"{mail.message_id} was taken before", tenant_id, ticket.id)
    ctx = _as(tenant_id, author, ticket.client_id)
    exists = resumed and _comment_exists(tenant_id, ticket.id, marker.comment_id)
    if not exists:
        comments.add(
            ctx, ticket.id, NewComment(body=text, public=True), comment_id=marker.comment_id, author_kind=author.kind
        )
    stored = _attach(ctx, ticket, mail.attachments, marker)
    _finish(marker)
    logger.info("inbound email became a comment", extra={"tenant_id": tenant_id, "ticket_id": ticket.id})
    return Outcome("comment", None, tenant_id, ticket.id, marker.comment_id, stored)


def _author_of_reply(ticket: Ticket, sender: str) -> Author | None:
    """The requester, or a contact or portal user of the ticket's client; None for anyone else."""
    requester = ticket.requester or {}
    by_requester = requester.get("kind") in ("contact", "portal_user", "email")
    if by_requester and (tickets.requester_email(ticket.tenant_id, requester) or "").lower() == sender:
        return Author(requester["kind"], requester["id"], ticket.client_id)
    if ticket.client_id is None:
        return None
    author = _known_sender(ticket.tenant_id, sender, client_id=ticket.client_id)
    return author if author is not None and author.client_id == ticket.client_id else None


def _comment_exists(tenant_id: str, ticket_id: str, comment_id: str) -> bool:
    with storage_errors():
        try:
            Comment.get(*Comment.key(tenant_id, ticket_id, comment_id), consistent_read=True)
        except Comment.DoesNotExist:
            return False
    return True


# ---- a new ticket ------------------------------------------------------------------------------


def _new_ticket(tenant_id: str, mail: Mail) -> Outcome:
    author = _known_sender(tenant_id, mail.sender)
    if author is None:
        if mailbox.find(tenant_id).unknown_senders == "refuse":
            return refuse(tenant_id, f"unknown sender {mail.sender} (the mailbox refuses strangers)")
        author = Author("email", mail.sender, None)
    marker, resumed = _claim(tenant_id, mail, "ticket", None)
    if marker is None:
        return Outcome("duplicate", f"{mail.message_id} was taken before", tenant_id)
    with storage_errors():
        ticket = Ticket.find(tenant_id, marker.ticket_id) if resumed else None
    if ticket is None:
        body = NewTicket(
            subject=(mail.subject or "(no subject)")[:200],
            description=without_signature(mail.text)[:MAX_TEXT],
            channel="email",
            client_id=author.client_id,
            requester_contact_id=author.id if author.kind == "contact" else None,
        )
        staff = TenantContext(tenant_id, ACTOR, ACTOR, frozenset({Role.STAFF}))
        requester = None if author.kind == "contact" else {"kind": author.kind, "id": author.id}
        if author.kind == "email" and mail.sender_name:  # a stranger is greeted by the name the mail gave
            requester["name"] = mail.sender_name[:MAX_NAME]
        ticket = tickets.create(staff, body, ticket_id=marker.ticket_id, requester=requester)
    stored = _attach(_as(tenant_id, author, ticket.client_id), ticket, mail.attachments, marker)
    _finish(marker)
    logger.info("inbound email became a ticket", extra={"tenant_id": tenant_id, "ticket_id": ticket.id})
    return Outcome("ticket", None, tenant_id, ticket.id, None, stored)


def _known_sender(tenant_id: str, sender: str, *, client_id: str | None = None) -> Author | None:
    """The sender's contact (of ``client_id`` if several), else its portal user; None for a stranger."""
    found = contacts.by_email(tenant_id, sender)
    contact = next((c for c in found if c.client_id == client_id), found[0] if found else None)
    if contact is not None:
        return Author("contact", contact.id, contact.client_id)
    user = directory.by_email(tenant_id, sender)
    if user is not None and user.role == Role.PORTAL and user.client_id:
        return Author("portal_user", user.user_id, user.client_id)
    return None


def _as(tenant_id: str, author: Author, client_id: str | None) -> TenantContext:
    """The sender as a caller: a requester of the ticket's client (portal rules: public comments and files)."""
    return TenantContext(tenant_id, author.id, author.id, frozenset({Role.PORTAL}), client_id=client_id)


# ---- exactly once ------------------------------------------------------------------------------


def _claim(tenant_id: str, mail: Mail, action: str, ticket_id: str | None) -> tuple[InboundMessage | None, bool]:
    """The message's marker and whether an earlier delivery made it; (None, True) when that one finished."""
    moment = now()
    marker = InboundMessage(
        *InboundMessage.key(tenant_id, mail.message_id),
        tenant_id=tenant_id,
        message_id=mail.message_id[:998],
        sender=mail.sender,
        action=action,
        ticket_id=ticket_id or new_id(),
        comment_id=new_id() if action == "comment" else None,
        created_at=moment,
        updated_by=ACTOR,
        expiration=int((moment + KEPT_FOR).timestamp()),
    )
    try:
        with storage_errors():
            marker.save(condition=InboundMessage.PK.does_not_exist())
        return marker, False
    except Conflict:
        with storage_errors():
            marker = InboundMessage.get(*marker.key(tenant_id, mail.message_id), consistent_read=True)
    return (None, True) if marker.done_at is not None else (marker, True)


def _finish(marker: InboundMessage) -> None:
    with storage_errors():
        marker.update(actions=[InboundMessage.done_at.set(now())])


# ---- attachments -------------------------------------------------------------------------------


def _attach(ctx: TenantContext, ticket: Ticket, parts: tuple[Part, ...], marker: InboundMessage) -> int:
    """Upload each file as the ticket's attachment (public: the client sent it); the scan judges it. A file the
    upload rules refuse (type, size) is skipped and logged. Ids derive from the marker: a retry finds them."""
    owner = attachments.Owner(kind="ticket", id=ticket.id, client_id=ticket.client_id)
    stored = 0
    for index, part in enumerate(parts):
        digest = hashlib.sha256(f"{marker.PK}:{index}".encode()).digest()
        attachment_id = new_id(int(marker.created_at.timestamp() * 1000), random_bits=digest)
        body = attachments.NewAttachment(
            original_filename=_safe_name(part.filename),
            content_type=part.content_type,
            size=len(part.data),
            is_public=True,
        )
        try:
            upload = attachments.create(ctx, owner, body, attachment_id=attachment_id).upload
            post = {"url": upload.url, "fields": upload.fields}
        except Conflict:  # recorded by an earlier delivery: upload again only if the file never arrived
            with storage_errors():
                found = attachments.Attachment.get(*attachments.Attachment.key(ctx.tenant_id, attachment_id))
            if found.status != "pending_scan":
                stored += 1
                continue
            signed, _ = storage.presigned_post(found.s3_key, found.declared_type, int(found.declared_size))
            post = {"url": signed["url"], "fields": signed["fields"]}
        except DomainError as refused:
            logger.warning("attachment %r of an email not stored: %s", part.filename, refused.detail)
            continue
        _upload(post, part)
        stored += 1
    return stored


def _safe_name(filename: str) -> str:
    name = _UNSAFE_NAME.sub("_", filename).strip().strip(".") or "attachment"
    stem, dot, extension = name.rpartition(".")
    return (stem[: 250 - len(extension)] + dot + extension) if dot else name[:255]


def _upload(post: dict[str, Any], part: Part) -> None:
    import urllib3  # only this step needs it (botocore's own dependency)

    fields = {**post["fields"], "file": (part.filename, part.data, part.content_type)}
    response = urllib3.request("POST", post["url"], fields=fields, timeout=60.0, retries=2)
    if response.status >= 300:
        raise UploadFailed(f"S3 refused the upload of {part.filename!r}: {response.status}")


class UploadFailed(RuntimeError):
    """S3 did not take an attachment: the delivery is retried (the marker finds what was made)."""
