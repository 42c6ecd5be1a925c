"""Attachments: /support/tickets/{id}/attachments, /attachments/{id}/download|thumbnail, DELETE /attachments/{id}.

Bytes never pass through here: uploads go to S3 with a presigned POST, downloads come from S3 with a
presigned GET. The owner's module decides who may see the owner (a ticket: staff, or its client's portal users)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.metrics import MetricUnit

from functions.api.core import Api, metrics
from functions.api.core.params import Cursor, DateFrom, DateTo, EntityId, Limit
from functions.api.core.responses import no_content, page_out
from shared.attachments import scan_days, service
from shared.attachments.scan_days import ScanSummary
from shared.attachments.service import AttachmentOut, LinkOut, NewAttachment, Owner, UploadOut
from shared.caller import STAFF, STAFF_PORTAL
from shared.clock import now
from shared.db.pages import DEFAULT_LIMIT
from shared.schemas import PageOut
from shared.support.tickets import Ticket

api = Api("attachments")


def ticket_owner(ticket_id: str) -> Owner:
    ticket = Ticket.load(api.caller(), ticket_id)  # 404 for another tenant's or another client's ticket
    return Owner(kind="ticket", id=ticket.id, client_id=ticket.client_id)


@api.post(
    "/support/tickets/<ticket_id>/attachments",
    roles=STAFF_PORTAL,
    s3=("sign-upload",),
    summary="Start an upload: a presigned POST for the file (portal uploads are public)",
    responses={201: {}},
)
def create_ticket_attachment(ticket_id: EntityId, body: Annotated[NewAttachment, Body()]) -> Response[UploadOut]:
    owner = ticket_owner(ticket_id)
    created = api.create_once(f"CreateAttachment:{ticket_id}", body, lambda: service.create(api.caller(), owner, body))
    metrics.add_metric("UploadsStarted", MetricUnit.Count, 1)
    return api.created(f"/attachments/{created['attachment']['id']}", created)


@api.get("/support/tickets/<ticket_id>/attachments", roles=STAFF_PORTAL, summary="List (portal: public only)")
def list_ticket_attachments(
    ticket_id: EntityId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[AttachmentOut]:
    return page_out(service.page(api.caller(), ticket_owner(ticket_id), limit=limit, cursor=cursor), AttachmentOut)


@api.get(
    "/attachments/scan-summary",
    roles=STAFF,
    summary="Uploads by scan outcome (clean, infected, rejected) per UTC day (default the last 14, at most 92)",
)
def get_upload_scan_summary(date_from: DateFrom = None, date_to: DateTo = None) -> ScanSummary:
    return scan_days.summary(api.caller(), date_from, date_to, now().date())


@api.get("/attachments/<attachment_id>", roles=STAFF_PORTAL, summary="Get an attachment's record and scan status")
def get_attachment(attachment_id: EntityId) -> AttachmentOut:
    return AttachmentOut.of(service.get(api.caller(), attachment_id))


@api.get(
    "/attachments/<attachment_id>/download",
    roles=STAFF_PORTAL,
    writes=True,  # download_count and last_downloaded_at
    s3=("sign-download",),
    summary="A short-lived download link (clean files only; counts the download)",
)
def download_attachment(attachment_id: EntityId) -> LinkOut:
    return service.download(api.caller(), attachment_id)


@api.get(
    "/attachments/<attachment_id>/thumbnail",
    roles=STAFF_PORTAL,
    s3=("sign-download",),
    summary="A short-lived link to the thumbnail of a clean image",
)
def attachment_thumbnail(attachment_id: EntityId) -> LinkOut:
    return service.thumbnail(api.caller(), attachment_id)


@api.delete(
    "/attachments/<attachment_id>",
    roles=STAFF,
    s3=("delete",),
    summary="Delete the file and its record",
    responses={204: {}},
)
def delete_attachment(attachment_id: EntityId) -> Response[None]:
    service.delete(api.caller(), attachment_id)
    return no_content()


handler = api.handler
