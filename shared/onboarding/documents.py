"""Document requests: the client (or staff for it) answers with an upload through the attachments pipeline; staff
approve or reject it.

A document becomes ``uploaded`` only when the scan finds its file clean (``scanned``, called by the onboarding
stream consumer when the attachment's status leaves ``pending_scan``); an infected or rejected file leaves the
document as it was, with the reason, and its process owner is emailed once per refused file. Every file uploaded
for a document stays listed (``files``); the document names the latest clean one."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from shared import mail
from shared.attachments import service as attachments
from shared.attachments.service import Attachment, NewAttachment, Owner, UploadOut
from shared.caller import TenantContext
from shared.clock import now
from shared.db.entities import changed_meanwhile, expect_version, require_state, touch
from shared.db.errors import storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import get_or_none, tkey
from shared.directory import UserProfile
from shared.errors import Conflict, NotFound
from shared.onboarding import changes
from shared.onboarding.model import OPEN_PROCESS, Document, DocumentStatus, Process
from shared.onboarding.tasks import of_process
from shared.schemas import Audited, Id, Out, Strict, Version

logger = logging.getLogger(__name__)
OWNER_KIND = "onboarding_document"
UPLOADABLE = ("requested", "rejected", "uploaded")
Note = Annotated[str, StringConstraints(max_length=2000)]


class DocumentFilters(Strict):
    process_id: Id | None = None
    client_id: Id | None = None
    status: DocumentStatus | None = None


class Review(Strict):
    note: Note | None = None
    version: Version = None


class Rejection(Strict):
    note: Annotated[str, StringConstraints(min_length=1, max_length=2000)] = Field(
        description="What is wrong, for the client."
    )
    version: Version = None


class Asked(Out):
    """What a document request asks of the client, as it stands (also what its upload link shows)."""

    name: str
    description: str
    required: bool
    due_date: date
    status: DocumentStatus
    status_reason: str | None


class DocumentOut(Audited, Asked):
    id: str
    process_id: str
    client_id: str
    attachment_id: str | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None
    position: int
    reminded_on: date | None


# ---- reading -----------------------------------------------------------------------------------


def page(ctx: TenantContext, filters: DocumentFilters, *, limit: int, cursor: str | None) -> Page[Document]:
    """By process (in its order), by client, by status or all, by due date; portal users: their client's only."""
    t = ctx.tenant_id
    client_id = ctx.client_id if ctx.is_portal else filters.client_id
    status = Document.status == filters.status if filters.status else None
    if filters.process_id:
        source, partition = Document, Process.partition(t, filters.process_id)
        range_condition, condition = Document.SK.startswith(Document.sort_prefix), status
    elif client_id:
        source, partition, range_condition, condition = (
            Document.gsi2,
            Document.partition_of_client(t, client_id),
            None,
            status,
        )
    elif filters.status:
        source, partition = Document.gsi1, tkey(t, "ONBDOCS", "STATUS", filters.status)
        range_condition = condition = None
    else:
        source, partition, range_condition, condition = Document.gsi3, tkey(t, "ONBDOCS"), None, None
    scope = filters.model_copy(update={"client_id": client_id})
    name = "onboarding-documents:" + scope.model_dump_json(exclude_none=True)
    found = query_page(
        source,
        partition,
        t,
        name,
        limit=limit,
        cursor=cursor,
        range_key_condition=range_condition,
        filter_condition=condition,
    )
    return of_process(ctx, filters.process_id, found, cursor)


def owner_of(ctx: TenantContext, document_id: str) -> tuple[Document, Owner]:
    """The document (404 if the caller may not see it) as the owner of its files."""
    document = Document.load(ctx, document_id)
    return document, Owner(kind=OWNER_KIND, id=document.id, client_id=document.client_id)


def files(ctx: TenantContext, document_id: str, *, limit: int, cursor: str | None) -> Page[Attachment]:
    """One Query when the document has files: they carry its client, which tells whether a portal caller may see
    them; the document is read only to tell no files from no document (or one the caller may not see)."""
    owner = Owner(kind=OWNER_KIND, id=document_id)
    found = attachments.page(ctx, owner, limit=limit, cursor=cursor)
    if any(ctx.is_portal and a.client_id != ctx.client_id for a in found.items):
        raise NotFound(f"No such {Document.noun}.")
    if not found.items and cursor is None:
        owner_of(ctx, document_id)  # no files: 404 unless the caller may see the document
    return found


# ---- changing ----------------------------------------------------------------------------------


def upload(ctx: TenantContext, document_id: str, body: NewAttachment) -> UploadOut:
    """A presigned upload of a file for the document: visible to the client's portal users (the file is theirs)."""
    document, owner = owner_of(ctx, document_id)
    if document.status not in UPLOADABLE:
        raise Conflict(f"An {document.status} document takes no more files.", current_status=document.status)
    if not accepts(document, Process.find(ctx.tenant_id, document.process_id)):
        raise Conflict("The onboarding process is closed: its documents take no more files.")
    return attachments.create(ctx, owner, body.model_copy(update={"is_public": True}))


def accepts(document: Document, process: Process | None) -> bool:
    """Whether the document takes another file: not approved, and its process still open."""
    return document.status in UPLOADABLE and process is not None and process.status in OPEN_PROCESS


def approve(ctx: TenantContext, document_id: str, body: Review, if_match: int | None) -> Document:
    return _review(ctx, document_id, "approved", body.note, body.version, if_match)


def reject(ctx: TenantContext, document_id: str, body: Rejection, if_match: int | None) -> Document:
    return _review(ctx, document_id, "rejected", body.note, body.version, if_match)


def _review(ctx: TenantContext, document_id: str, status: str, note: str | None, *sent: int | None) -> Document:
    document = Document.load(ctx, document_id)
    expect_version(document, *sent, required=False)
    require_state(document, ("uploaded",), status)
    before = changes.counted(document)
    document.status, document.review_note = status, note
    document.reviewed_by, document.reviewed_at = ctx.user_id, now()
    if status == "rejected":  # chased again from tomorrow
        document.next_reminder_on = max(document.first_reminder(), now().date()).isoformat()
    else:
        document.next_reminder_on = None
    return changes.change(ctx, document, before)


# ---- what the scan decided ---------------------------------------------------------------------

SCANNER = "system:onboarding-scan"


def scanned(attachment: Attachment) -> str | None:
    """Apply the scan's verdict on a document's file: ``uploaded`` when clean, the reason when refused (the owner
    emailed once per file). Idempotent: a redelivered verdict finds its work done. What it did, or None."""
    document = Document.find(attachment.tenant_id, attachment.owner_id)
    if document is None:
        return None
    ctx = TenantContext(attachment.tenant_id, SCANNER, SCANNER, frozenset())
    if attachment.status == "clean":
        if document.attachment_id == attachment.id or document.status not in UPLOADABLE:
            return None  # done already, or approved meanwhile (the file stays listed)
        before = changes.counted(document)
        document.status, document.attachment_id, document.status_reason = "uploaded", attachment.id, None
        document.next_reminder_on = None
        try:
            changes.change(ctx, document, before)
        except Conflict:
            logger.info("document %s changed or its process closed meanwhile; the file stays listed", document.id)
            return None
        return "uploaded"
    if attachment.status in ("infected", "rejected"):
        if document.refused_attachment_id == attachment.id:
            return None
        # told first, then recorded: a crash in between tells the owner twice rather than never
        _tell_owner(document, attachment)
        document.status_reason = f"{attachment.original_filename} was refused: {attachment.status_reason}"
        document.refused_attachment_id, document.staged = attachment.id, False
        touch(ctx, document)
        with storage_errors(changed_meanwhile(document)):
            document.save()  # a Conflict (changed meanwhile): the record is retried, the owner perhaps told twice
        return "refused"
    return None


def _tell_owner(document: Document, attachment: Attachment) -> None:
    process = get_or_none(Process, Process.key(document.tenant_id, document.process_id))
    owner = process and get_or_none(UserProfile, UserProfile.key(document.tenant_id, process.owner_id))
    if owner is None or not owner.active:
        logger.warning("refused file for document %s: no active owner to tell", document.id)
        return
    mail.send(
        [owner.email],
        f"[DeskOS] Onboarding file refused: {document.name}",
        f'A file uploaded for the document request "{document.name}" of the onboarding process "{process.name}"'
        f" was refused and the document is still {document.status}.\n\n"
        f"File: {attachment.original_filename}\nReason: {attachment.status_reason}\n"
        f"Document: {document.id}\nProcess: {process.id}\n",
    )
