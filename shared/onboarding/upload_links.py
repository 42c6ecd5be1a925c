"""The emailed link that lets a client answer one document request without signing in (``/app/upload?token=``).

The token (``shared.links``, its own purpose) names the tenant and the document, nothing else: the routes behind it
act as a portal user of the document's client who can reach that one document — read what it asks for and the
files already sent, and start an upload through the same attachments pipeline as the signed-in ``upload`` (owner
kind, limits, scan, quarantine; the document becomes ``uploaded`` only when the file is clean). A link for another
document, process or tenant finds nothing (404); an altered or expired one is refused (422).

A link lives until ``GRACE`` after the document's due date (or after today, for one already late), and never longer
than ``LONGEST`` from when it was sent: each reminder sends a fresh one."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from shared import links
from shared.attachments import service as attachments
from shared.attachments.service import Owner, Status
from shared.caller import Role, TenantContext
from shared.clock import now
from shared.db.errors import storage_errors
from shared.db.table import Item
from shared.errors import NotFound
from shared.onboarding import documents
from shared.onboarding.documents import Asked
from shared.onboarding.model import Document, Process, split_id
from shared.schemas import Out

PURPOSE = "onboarding-document-upload"
GRACE = timedelta(days=30)
LONGEST = timedelta(days=90)
FILES_SHOWN = 20


class LinkedFile(Out):
    id: str
    original_filename: str
    size: int | None
    status: Status
    status_reason: str | None
    created_at: datetime


class DocumentRequest(Asked):
    """What an upload link is for: the request, whether it still takes files, and the files sent so far."""

    id: str
    accepting: bool  # an upload would be taken (the document is not approved and its process is open)
    files: list[LinkedFile]


def token(document: Document, at: datetime | None = None) -> str:
    sent = at or now()
    due = datetime.combine(max(date.fromisoformat(document.due_date), sent.date()), time.max, UTC)
    expires = min(due + GRACE, sent + LONGEST)
    return links.sign(PURPOSE, document.tenant_id, document.id, expires, client=document.client_id)


def url(document: Document) -> str:
    return links.page_url("upload", token(document))


def read(raw_token: str, document_id: str) -> TenantContext:
    """The verified link as a caller: a portal user of the document's client who reaches that document only (a
    link made for another one: 404). 422 for an altered or expired link. Then ``act_for`` its tenant."""
    grant = links.read(PURPOSE, raw_token, now(), what="upload link")
    if grant.subject != document_id:
        raise NotFound(f"No such {Document.noun}.")
    client_id = str(grant.extra.get("client", ""))
    return TenantContext(grant.tenant_id, f"link:{document_id}", "upload link", frozenset({Role.PORTAL}), client_id)


def request(ctx: TenantContext, document_id: str) -> DocumentRequest:
    """One BatchGetItem (the document and its process, whose id the document's names) + one Query (its files)."""
    process_id, _, _ = split_id(document_id)
    keys = [Document.key(ctx.tenant_id, document_id), Process.key(ctx.tenant_id, process_id)]
    with storage_errors():
        found = {type(item): item for item in Item.batch_get(keys)}
    document = Document.visible(ctx, found.get(Document))
    process = found.get(Process)
    owner = Owner(kind=documents.OWNER_KIND, id=document.id)
    files = attachments.page(ctx, owner, limit=FILES_SHOWN, cursor=None).items
    return DocumentRequest(
        **Asked.of(document).model_dump(),
        id=document.id,
        accepting=documents.accepts(document, process),
        files=[LinkedFile.of(f) for f in files],
    )
