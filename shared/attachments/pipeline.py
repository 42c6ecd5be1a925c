"""The scan step: what happens to an uploaded object once S3 says it exists.

Order: size → ClamAV → real type vs. allowed list and extension → (clean images) thumbnail → the
record, by a conditional update. Infected wins over rejected (an EICAR file named .pdf is reported
as the malware it is). Infected and rejected objects move to the quarantine prefix; a clean object loses
its ``pending`` tag (``storage``: what is still pending after two days is an abandoned upload and expires).

A scan that cannot run (the engine fails, S3 is unreachable) raises, and the event is retried; on the last
attempt (``scanner.ATTEMPTS``) the caller records ``scan_failed`` with the reason first (``give_up``). A
scan_failed object is judged afresh by a later event for it (a replay of the dead letter).

Idempotent: the record remembers the ETag of the object it judged. A redelivered event for the same
object changes nothing (it only finishes a move or a re-tag a crash interrupted); a new object under the same key
(the presigned POST is valid for 15 minutes) is judged afresh.

The staff email about an infected upload (or one that could not be scanned) is owed until ``notified_at``
is recorded, after SES accepted it: if sending fails, the outcome says so and the event is retried, and a
redelivered event sends only a notice still owed. So it is sent once, except if the function dies between SES
accepting it and the record (or a duplicate event arrives in those milliseconds): then twice rather than never."""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError
from pynamodb.exceptions import TransactWriteError

from shared import mail
from shared.attachments import scan_days, scanner, sniff, storage
from shared.attachments.service import Attachment
from shared.attachments.types import THUMBNAIL_EXTENSIONS
from shared.clock import iso, now
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.table import tkey, transaction
from shared.directory import UserProfile
from shared.errors import Conflict
from shared.settings import settings

logger = logging.getLogger(__name__)
MAIL_BATCH = 50  # SES recipients per message
CHUNK = 1024 * 1024
SCANNER = "scanner"  # updated_by of the scan's writes (the audit trail's actor)
UNJUDGED = ("pending_scan", "scan_failed")  # statuses an event for the object (still) has to judge
NOTIFIED = ("infected", "scan_failed")  # statuses the tenant's staff are emailed about, once


@dataclass
class Judgement:
    status: str
    reason: str | None
    size: int
    etag: str
    sha256: str | None = None
    mime_type: str | None = None
    engine: str = "size check"
    signature: str | None = None
    thumbnail: bytes | None = None


@dataclass(frozen=True)
class Outcome:
    """What the scan decided, for metrics and tests. ``status`` None: nothing to do (a redelivery).
    ``notice_owed``: the staff could not be emailed; the event must be retried."""

    status: str | None
    reason: str | None = None
    seconds: float = 0.0
    notice_owed: bool = False


def process(key: str, etag: str) -> Outcome:
    if storage.UploadKey.parse(key) is None:
        logger.warning("ignoring an object outside the uploads layout: %s", key)
        return Outcome(None)
    attachment = _attachment(key)
    if attachment is None:
        # Deleted meanwhile, or never created through the API: nothing may serve it; keep it aside.
        logger.warning("no attachment record for %s; quarantining the object", key)
        _if_present(storage.quarantine, key)
        return Outcome(None)
    if attachment.status not in UNJUDGED and attachment.etag == etag:
        _settle(key, attachment.status)  # finishes a move or re-tag interrupted after the record was written
        return Outcome(None, notice_owed=not _notify_staff_once(attachment))
    started = time.monotonic()
    judgement = _examine(attachment, key)
    if not _record(attachment, judgement):
        logger.info("%s was judged or deleted meanwhile; leaving it", key)
        return Outcome(None)
    _settle(key, judgement.status)
    told = _notify_staff_once(attachment)  # the record now holds the verdict
    return Outcome(judgement.status, judgement.reason, time.monotonic() - started, notice_owed=not told)


def give_up(key: str, etag: str, reason: str) -> bool:
    """The scan of this object could not run on its last attempt: its attachment becomes ``scan_failed`` with
    the reason, and the tenant's staff are emailed once. False: that email is still owed."""
    attachment = _attachment(key)
    if attachment is None or attachment.status not in UNJUDGED:
        return True  # deleted or judged meanwhile: nothing to explain
    if attachment.status == "pending_scan":
        try:
            with storage_errors():
                attachment.update(
                    actions=[
                        Attachment.status.set("scan_failed"),
                        Attachment.status_reason.set(reason),
                        Attachment.etag.set(etag),
                        Attachment.updated_at.set(now()),
                        Attachment.updated_by.set(SCANNER),
                    ],
                    condition=Attachment.status == "pending_scan",
                )
        except Conflict:
            return True  # judged or deleted meanwhile
    return _notify_staff_once(attachment)


def _attachment(key: str) -> Attachment | None:
    """The record of the upload at ``key``; None if there is none (or the key is not an upload's)."""
    where = storage.UploadKey.parse(key)
    if where is None:
        return None
    with storage_errors():
        try:
            attachment = Attachment.get(*Attachment.key(where.tenant_id, where.attachment_id), consistent_read=True)
        except Attachment.DoesNotExist:
            return None
    return attachment if attachment.s3_key == key else None


def _examine(attachment: Attachment, key: str) -> Judgement:
    bucket = settings().bucket_name
    response = storage.s3().get_object(Bucket=bucket, Key=key)
    etag, size = response["ETag"].strip('"'), int(response["ContentLength"])
    if size != attachment.declared_size:  # only if the POST policy was bypassed: do not even read it
        response["Body"].close()
        reason = f"The file is {size} bytes; {attachment.declared_size} were declared."
        return Judgement("rejected", reason, size, etag)
    with tempfile.TemporaryDirectory(prefix="deskos-scan-") as scratch:
        path = Path(scratch) / "upload"
        digest = hashlib.sha256()
        with path.open("wb") as out:
            for chunk in response["Body"].iter_chunks(CHUNK):
                digest.update(chunk)
                out.write(chunk)
        verdict = scanner.engine().inspect(path)
        with path.open("rb") as data:
            found = sniff.sniff(data.read(sniff.HEAD_BYTES))
        judgement = Judgement(
            "clean", None, size, etag, digest.hexdigest(), found.mime_type, verdict.engine, verdict.signature
        )
        extension = attachment.extension
        if verdict.infected:
            judgement.status, judgement.reason = "infected", f"ClamAV found {verdict.signature}."
        elif found in sniff.EXECUTABLES:
            judgement.status, judgement.reason = "rejected", f"The file is a {found.label}, not a .{extension} file."
        elif not found.extensions:
            judgement.status, judgement.reason = "rejected", f"The content ({found.label}) is not an accepted type."
        elif extension not in found.extensions:
            judgement.status, judgement.reason = "rejected", f"The content is {found.label}, not a .{extension} file."
        elif extension in THUMBNAIL_EXTENSIONS:
            from shared.attachments import thumbnails  # Pillow: imported by the scan function only

            judgement.thumbnail = thumbnails.make(path)
    return judgement


def _record(attachment: Attachment, judgement: Judgement) -> bool:
    """Write the verdict (and the thumbnail) if nobody judged this object first; False if somebody did."""
    bucket, key = settings().bucket_name, attachment.s3_key
    thumb_key = storage.thumbnail_key(key) if judgement.thumbnail else None
    if thumb_key:
        storage.s3().put_object(Bucket=bucket, Key=thumb_key, Body=judgement.thumbnail, ContentType="image/webp")
    # unjudged, or judged on another object than this one: never twice for the same object
    condition = (
        Attachment.status == attachment.status if attachment.status in UNJUDGED else Attachment.etag == attachment.etag
    )
    stale_thumbnail = attachment.thumbnail_key if attachment.thumbnail_key != thumb_key else None
    moment = now()
    verdict = {
        "status": judgement.status,
        "status_reason": judgement.reason,
        "mime_type": judgement.mime_type,
        "size": judgement.size,
        "sha256": judgement.sha256,
        "etag": judgement.etag,
        "scan_result": {"engine": judgement.engine, "signature": judgement.signature, "scanned_at": iso(moment)},
        "thumbnail_key": thumb_key,
        "updated_at": moment,
        "updated_by": SCANNER,
        "expiration": None,  # judged: no longer an abandoned upload
        "notified_at": None,  # a new verdict owes its own notice
    }
    actions = [
        getattr(Attachment, name).remove() if value is None else getattr(Attachment, name).set(value)
        for name, value in verdict.items()
    ]
    try:  # the verdict and the day's count of it (scan_days) together: a redelivery counts nothing
        with storage_errors(), transaction() as tx:
            tx.update(attachment, actions=actions, condition=condition)
            scan_days.count(tx, attachment.tenant_id, judgement.status, moment)
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            return False
        raise
    for name, value in verdict.items():
        setattr(attachment, name, value)
    if stale_thumbnail:
        storage.delete(stale_thumbnail)
    return True


def _settle(key: str, status: str) -> None:
    """Put the judged object where its verdict says: clean ones stay (no longer tagged pending), others move."""
    if status == "clean":
        _if_present(storage.mark_clean, key)
    else:
        _if_present(storage.quarantine, key)


def _if_present(operation: Callable[[str], None], key: str) -> None:
    """The object may have been deleted meanwhile (with its record): then there is nothing left to do."""
    try:
        operation(key)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchKey"):
            raise


def _notify_staff_once(attachment: Attachment) -> bool:
    """Every active staff user and manager of the tenant hears of an infected upload, or of one that could not
    be scanned, once. False: the email is still owed (SES refused it; the caller retries)."""
    if attachment.status not in NOTIFIED or attachment.notified_at is not None:
        return True
    recipients: list[str] = []
    with storage_errors():
        for profile in UserProfile.gsi1.query(tkey(attachment.tenant_id, "USERS")):
            if isinstance(profile, UserProfile) and profile.is_staff:
                recipients.append(profile.email)
    if not recipients:
        logger.warning(
            "%s upload %s in tenant %s: no staff to notify", attachment.status, attachment.id, attachment.tenant_id
        )
        return True
    subject, body = _notice(attachment)
    try:
        for start in range(0, len(recipients), MAIL_BATCH):
            mail.send(recipients[start : start + MAIL_BATCH], subject, body)
    except ClientError:  # the verdict stands and the metric alarms; the notice stays owed
        logger.exception("could not notify staff of %s upload %s; will retry", attachment.status, attachment.id)
        return False
    try:
        with storage_errors():
            attachment.update(
                actions=[Attachment.notified_at.set(now()), Attachment.updated_by.set(SCANNER)],
                condition=Attachment.notified_at.does_not_exist() & (Attachment.etag == attachment.etag),
            )
    except Conflict:  # told meanwhile by a duplicate event, or deleted or re-uploaded: nothing more is owed
        logger.info("%s upload %s: notice already recorded or record gone", attachment.status, attachment.id)
    return True


def _notice(attachment: Attachment) -> tuple[str, str]:
    """The staff email's subject and body."""
    name = attachment.original_filename
    about = (
        f"File: {name}\n"
        f"Attachment: {attachment.id} ({attachment.owner_kind} {attachment.owner_id})\n"
        f"Uploaded by: {attachment.uploaded_by}\n"
    )
    if attachment.status == "infected":
        scan = attachment.scan_result or {}
        lead = "An uploaded file was found infected and has been quarantined; nobody can download it."
        return (
            f"Infected upload blocked: {name}",
            f"{lead}\n\n{about}Detected: {scan.get('signature')} ({scan.get('engine')})\n",
        )
    lead = (
        "The virus scan could not run on an uploaded file, so nobody can download it yet. It is judged as soon as"
        " the scanner works again and the upload is replayed (the operators have been alerted)."
    )
    return f"Upload could not be scanned: {name}", f"{lead}\n\n{about}Reason: {attachment.status_reason}\n"
