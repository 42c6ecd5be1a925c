"""The uploads bucket: presigned POSTs and GETs, and moving objects between prefixes.

Key layout (every object of a tenant under ``t/<tenant>/``, so IAM can confine a tenant's credentials to it):
uploads ``t/<tenant>/<owner-kind>/<owner-id>/<id>``; quarantine ``t/<tenant>/quarantine/<owner-kind>/<owner-id>/<id>``;
thumbnails ``t/<tenant>/thumbnails/<owner-kind>/<owner-id>/<id>.webp``. Only uploads arrive by POST, so the
scan is notified of ``ObjectCreated:Post`` alone, never of the objects it derives.

Abandoned uploads: S3 itself tags every upload ``deskos-status=pending`` (the presigned POST's policy
pins the ``tagging`` field, so a client can neither drop nor change it). The scan re-tags an object it
judged clean and moves the others to quarantine, tagged ``quarantined``. The bucket's lifecycle expires
what is still tagged pending after ``ABANDONED_AFTER`` (a scan that never completed), the same time after
which the table expires a record still ``pending_scan``, and what is tagged quarantined after a while."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import quote

from shared import aws, credentials
from shared.clock import now
from shared.settings import settings

UPLOADS_PREFIX = "t/"
QUARANTINE, THUMBNAILS = "quarantine", "thumbnails"  # folders of derived objects in a tenant's t/<tenant>/
UPLOAD_EVENT = "s3:ObjectCreated:Post"  # how an upload arrives; derived objects are Put or Copy
UPLOAD_EXPIRY = timedelta(minutes=15)
DOWNLOAD_EXPIRY = timedelta(minutes=5)
ABANDONED_AFTER = timedelta(days=2)  # an upload still unjudged by then is expired: record (TTL) and object (lifecycle)
STATUS_TAG = "deskos-status"
PENDING, CLEAN, QUARANTINED = "pending", "clean", "quarantined"
# The S3 tagging document of a new upload, as the POST form's ``tagging`` field carries it.
PENDING_TAGGING = f"<Tagging><TagSet><Tag><Key>{STATUS_TAG}</Key><Value>{PENDING}</Value></Tag></TagSet></Tagging>"


def s3() -> Any:
    """Inside a request, the caller's tenant's client (presigned URLs are signed with its credentials);
    elsewhere (consumers, the scan function) the process's own."""
    return credentials.client("s3", _default_s3, config=_config())


@cache
def _default_s3() -> Any:
    return aws.client("s3", config=_config())


aws.on_forget(_default_s3.cache_clear)


def _config() -> Any:
    from botocore.config import Config

    # SigV4 for presigned POSTs; path-style so the local cloud's single endpoint serves every bucket.
    return Config(signature_version="s3v4", s3={"addressing_style": "path"}, region_name=settings().region)


@dataclass(frozen=True)
class UploadKey:
    tenant_id: str
    owner_kind: str
    owner_id: str
    attachment_id: str

    def __str__(self) -> str:
        return f"{UPLOADS_PREFIX}{self.tenant_id}/{self.owner_kind}/{self.owner_id}/{self.attachment_id}"

    @classmethod
    def parse(cls, key: str) -> UploadKey | None:
        if not key.startswith(UPLOADS_PREFIX):
            return None
        parts = key[len(UPLOADS_PREFIX) :].split("/")
        if len(parts) != 4 or not all(parts):
            return None
        return cls(*parts)


def quarantine_key(key: str) -> str:
    return _derived(key, QUARANTINE)


def thumbnail_key(key: str) -> str:
    return _derived(key, THUMBNAILS) + ".webp"


def _derived(upload_key: str, folder: str) -> str:
    tenant, rest = upload_key.removeprefix(UPLOADS_PREFIX).split("/", 1)
    return f"{UPLOADS_PREFIX}{tenant}/{folder}/{rest}"


def presigned_post(key: str, content_type: str, size: int) -> tuple[dict[str, Any], datetime]:
    """A POST whose policy pins the key, the content type, the exact declared size (S3 refuses a larger or a
    smaller file) and the pending tag; valid for 15 minutes."""
    expires = now() + UPLOAD_EXPIRY
    post = s3().generate_presigned_post(
        Bucket=settings().bucket_name,
        Key=key,
        Fields={"Content-Type": content_type, "tagging": PENDING_TAGGING},
        Conditions=[
            {"Content-Type": content_type},
            {"tagging": PENDING_TAGGING},
            ["content-length-range", size, size],
        ],
        ExpiresIn=int(UPLOAD_EXPIRY.total_seconds()),
    )
    return post, expires


def presigned_get(key: str, filename: str, content_type: str) -> tuple[str, datetime]:
    """A short-lived GET that makes the browser save the file under its original name."""
    url = s3().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": settings().bucket_name,
            "Key": key,
            "ResponseContentDisposition": content_disposition(filename),
            "ResponseContentType": content_type,
        },
        ExpiresIn=int(DOWNLOAD_EXPIRY.total_seconds()),
    )
    return url, now() + DOWNLOAD_EXPIRY


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the exact UTF-8 name (RFC 6266 / RFC 5987)."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def mark_clean(key: str) -> None:
    """Judged clean: no longer pending, so the abandoned-uploads lifecycle rule leaves it alone."""
    s3().put_object_tagging(
        Bucket=settings().bucket_name, Key=key, Tagging={"TagSet": [{"Key": STATUS_TAG, "Value": CLEAN}]}
    )


def quarantine(key: str) -> None:
    """Move an upload to its quarantine key. Copy then delete: a retry after a crash between the two finds
    the object still in place. The copy is tagged quarantined instead of pending (it has its own expiry)."""
    bucket = settings().bucket_name
    s3().copy_object(
        Bucket=bucket,
        Key=quarantine_key(key),
        CopySource={"Bucket": bucket, "Key": key},
        TaggingDirective="REPLACE",
        Tagging=f"{STATUS_TAG}={QUARANTINED}",
    )
    s3().delete_object(Bucket=bucket, Key=key)


def delete(*keys: str) -> None:
    s3().delete_objects(Bucket=settings().bucket_name, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": True})
