"""The attachment record, its keys and indexes, and what the API does with it.

Access patterns (see README): by id (GetItem ``T#t#ATTACHMENT#<id>``, so a download needs only the
token's tenant and the id); an owner's attachments, newest first (GSI1), and only its public ones
(GSI2, what portal users list). The scan function moves the status on (``pipeline``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints
from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from shared.attachments import storage
from shared.attachments.types import Category, classify
from shared.caller import TenantContext
from shared.clock import iso, now
from shared.db.errors import storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import Item, get_or_none, tkey
from shared.errors import Conflict, NotFound
from shared.ids import new_id
from shared.schemas import Out, Strict
from shared.tenants import DEFAULT_ATTACHMENT_LIMIT, MAX_ATTACHMENT_LIMIT, Tenant

OwnerKind = Literal["ticket", "onboarding_document", "knowledge_item"]
# scan_failed: the scan could not run after every attempt (status_reason says why); a replay re-judges it
Status = Literal["pending_scan", "clean", "infected", "rejected", "scan_failed"]
# A record still pending_scan after this (the upload never came, or its scan kept failing) expires (table TTL),
# as its object does (the bucket's lifecycle expires uploads still tagged pending).
PENDING_TTL = storage.ABANDONED_AFTER


class Attachment(Item, discriminator="attachment"):
    id = UnicodeAttribute()
    owner_kind = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    client_id = UnicodeAttribute(null=True)  # the client account whose portal users may see it (if public)
    original_filename = UnicodeAttribute()
    s3_key = UnicodeAttribute()
    declared_type = UnicodeAttribute()
    declared_size = NumberAttribute()
    limit_bytes = NumberAttribute()
    extension = UnicodeAttribute()
    category = UnicodeAttribute()
    mime_type = UnicodeAttribute(null=True)
    size = NumberAttribute(null=True)
    sha256 = UnicodeAttribute(null=True)
    etag = UnicodeAttribute(null=True)  # of the object that was scanned
    is_public = BooleanAttribute(default=False)
    status = UnicodeAttribute(default="pending_scan")
    status_reason = UnicodeAttribute(null=True)
    scan_result = JSONAttribute(null=True)  # {"engine", "signature", "scanned_at"}
    thumbnail_key = UnicodeAttribute(null=True)
    notified_at = UTCDateTimeAttribute(null=True)  # infected, scan_failed: when staff were emailed (None: owed)
    download_count = NumberAttribute(default=0)
    last_downloaded_at = UTCDateTimeAttribute(null=True)
    uploaded_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()

    @staticmethod
    def key(tenant_id: str, attachment_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "ATTACHMENT", attachment_id), "ATTACHMENT"

    @staticmethod
    def owner_key(tenant_id: str, kind: str, owner_id: str, *, public: bool = False) -> str:
        return tkey(tenant_id, "OWNER", kind, owner_id, "ATTACHMENTS", *(("PUBLIC",) if public else ()))

    def index(self) -> None:
        order = f"{iso(self.created_at)}#{self.id}"
        self.GSI1PK, self.GSI1SK = self.owner_key(self.tenant_id, self.owner_kind, self.owner_id), order
        self.GSI2PK, self.GSI2SK = (
            (self.owner_key(self.tenant_id, self.owner_kind, self.owner_id, public=True), order)
            if self.is_public
            else (None, None)
        )

    @property
    def thumbnail_available(self) -> bool:
        return self.thumbnail_key is not None


class Owner(BaseModel):
    """What an attachment belongs to, as resolved (and access-checked) by the owner's own module."""

    kind: OwnerKind
    id: str
    client_id: str | None = None


class NewAttachment(Strict):
    original_filename: Annotated[str, StringConstraints(min_length=1, max_length=1024)]
    content_type: Annotated[str, StringConstraints(min_length=3, max_length=255, pattern=r"^[\w.+-]+/[\w.+-]+")]
    size: int = Field(ge=0, le=MAX_ATTACHMENT_LIMIT * 2, description="Bytes; checked against the tenant's limit.")
    is_public: bool = Field(default=False, description="Visible to the client's portal users (portal uploads are).")


class ScanResult(BaseModel):
    engine: str
    signature: str | None
    scanned_at: datetime


class AttachmentOut(Out):
    id: str
    owner_kind: OwnerKind
    owner_id: str
    original_filename: str
    declared_type: str
    mime_type: str | None
    category: Category
    size: int | None
    sha256: str | None
    is_public: bool
    status: Status
    status_reason: str | None
    scan_result: ScanResult | None
    thumbnail_available: bool
    download_count: int
    last_downloaded_at: datetime | None
    uploaded_by: str
    created_at: datetime
    updated_at: datetime


class PresignedPost(BaseModel):
    url: str
    fields: dict[str, str]
    expires_at: datetime
    max_bytes: int


class UploadOut(BaseModel):
    attachment: AttachmentOut
    upload: PresignedPost


class LinkOut(BaseModel):
    url: str
    expires_at: datetime
    filename: str


# ---- create ------------------------------------------------------------------------------------


def attachment_limit(tenant_id: str) -> int:
    with storage_errors():
        tenant = get_or_none(Tenant, Tenant.key(tenant_id))
    limit = int(tenant.attachment_limit_bytes) if tenant else DEFAULT_ATTACHMENT_LIMIT
    return min(limit, MAX_ATTACHMENT_LIMIT)


def create(ctx: TenantContext, owner: Owner, body: NewAttachment, *, attachment_id: str | None = None) -> UploadOut:
    """Validate what the client declares, record it ``pending_scan`` and sign an upload for exactly it.
    ``attachment_id``: chosen by the caller (email-to-ticket derives it, so a redelivered message finds it)."""
    limit = attachment_limit(ctx.tenant_id)
    kind = classify(body.original_filename, body.content_type, body.size, limit)
    attachment_id = attachment_id or new_id()
    key = str(storage.UploadKey(ctx.tenant_id, owner.kind, owner.id, attachment_id))
    moment = now()
    attachment = Attachment(
        *Attachment.key(ctx.tenant_id, attachment_id),
        tenant_id=ctx.tenant_id,
        id=attachment_id,
        owner_kind=owner.kind,
        owner_id=owner.id,
        client_id=owner.client_id,
        original_filename=body.original_filename,
        s3_key=key,
        declared_type=body.content_type,
        declared_size=body.size,
        limit_bytes=limit,
        extension=kind.extension,
        category=kind.category,
        is_public=True if ctx.is_portal else body.is_public,
        uploaded_by=ctx.user_id,
        created_at=moment,
        updated_at=moment,
        updated_by=ctx.user_id,
        expiration=int((moment + PENDING_TTL).timestamp()),
    )
    attachment.index()
    with storage_errors():
        attachment.save(condition=Attachment.PK.does_not_exist())
    post, expires = storage.presigned_post(key, body.content_type, body.size)
    return UploadOut(
        attachment=AttachmentOut.model_validate(attachment),
        upload=PresignedPost(url=post["url"], fields=post["fields"], expires_at=expires, max_bytes=body.size),
    )


# ---- reads -------------------------------------------------------------------------------------


def page(ctx: TenantContext, owner: Owner, *, limit: int, cursor: str | None) -> Page[Attachment]:
    public_only = ctx.is_portal
    index = Attachment.gsi2 if public_only else Attachment.gsi1
    return query_page(
        index,
        Attachment.owner_key(ctx.tenant_id, owner.kind, owner.id, public=public_only),
        ctx.tenant_id,
        f"attachments:{owner.kind}:{owner.id}:{'public' if public_only else 'all'}",
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )


def get(ctx: TenantContext, attachment_id: str) -> Attachment:
    """Another tenant's attachment never loads (the key holds the tenant); portal users see their client's
    public ones only (and public ones of published public knowledge items). Everything else is the same 404 as
    a missing id."""
    with storage_errors():
        attachment = get_or_none(Attachment, Attachment.key(ctx.tenant_id, attachment_id))
    if attachment is None or (ctx.is_portal and not _portal_may_see(ctx, attachment)):
        raise NotFound("No such attachment.")
    return attachment


def _portal_may_see(ctx: TenantContext, attachment: Attachment) -> bool:
    """A public attachment of the portal user's client; of a knowledge item, while the item is published and
    public (for every client of the tenant)."""
    if not attachment.is_public:
        return False
    if attachment.owner_kind == "knowledge_item":
        from shared.knowledge.items import is_live_public  # imported here: only these attachments need it

        return is_live_public(ctx.tenant_id, attachment.owner_id)
    return attachment.client_id == ctx.client_id


def _require_clean(attachment: Attachment) -> None:
    if attachment.status != "clean":
        raise Conflict(
            f"The file is {attachment.status} and cannot be downloaded.",
            attachment_status=attachment.status,
            status_reason=attachment.status_reason,
        )


def download(ctx: TenantContext, attachment_id: str) -> LinkOut:
    """A short-lived link to the file; counts the download in the same conditional update that checks it
    is (still) clean, so a file quarantined meanwhile is neither counted nor served."""
    attachment = get(ctx, attachment_id)
    _require_clean(attachment)
    with storage_errors("The file was deleted or quarantined meanwhile; reload it."):
        attachment.update(
            actions=[
                Attachment.download_count.add(1),
                Attachment.last_downloaded_at.set(now()),
                Attachment.updated_by.set(ctx.user_id),
            ],
            condition=Attachment.status == "clean",
        )
    url, expires = storage.presigned_get(attachment.s3_key, attachment.original_filename, _served_type(attachment))
    return LinkOut(url=url, expires_at=expires, filename=attachment.original_filename)


def thumbnail(ctx: TenantContext, attachment_id: str) -> LinkOut:
    attachment = get(ctx, attachment_id)
    _require_clean(attachment)
    if attachment.thumbnail_key is None:
        raise NotFound("This attachment has no thumbnail.")
    name = f"{attachment.original_filename.rpartition('.')[0] or attachment.original_filename}-thumbnail.webp"
    url, expires = storage.presigned_get(attachment.thumbnail_key, name, "image/webp")
    return LinkOut(url=url, expires_at=expires, filename=name)


def _served_type(attachment: Attachment) -> str:
    # SVG is markup that can run script: never served as an image, always as a download.
    mime = attachment.mime_type or "application/octet-stream"
    return "application/octet-stream" if mime == "image/svg+xml" else mime


# ---- delete ------------------------------------------------------------------------------------


def delete(ctx: TenantContext, attachment_id: str) -> None:
    """The record first (so it is never shown without its file), then every object it may have."""
    attachment = get(ctx, attachment_id)
    with storage_errors():
        attachment.delete()
    keys = [attachment.s3_key, storage.quarantine_key(attachment.s3_key)]
    if attachment.thumbnail_key:
        keys.append(attachment.thumbnail_key)
    storage.delete(*keys)
