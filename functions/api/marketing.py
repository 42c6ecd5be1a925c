"""Marketing: tags and entity tags (staff), segments, email templates and campaigns (read: staff; write:
managers), and the public, token-signed links of campaign emails (unsubscribe, open pixel, click)."""

from __future__ import annotations

import base64
import time
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from functions.api.core import Api
from functions.api.core.params import Cursor, EntityId, IdFilter, Limit
from functions.api.core.responses import no_content, page_out, tagged
from shared.caller import MANAGERS, STAFF
from shared.db.pages import DEFAULT_LIMIT
from shared.links import MAX_TOKEN
from shared.marketing import campaigns, criteria, entity_tags, message, refresh, segments, tags, templates, tracking
from shared.marketing.campaigns import CampaignOut, NewCampaign, ScheduleIn
from shared.marketing.entity_tags import Application, Bulk, BulkOut, EntityTagOut
from shared.marketing.segments import (
    ContactIds,
    MemberOut,
    MembersChanged,
    NewSegment,
    Preview,
    PreviewOut,
    SegmentOut,
    SegmentPatch,
)
from shared.marketing.tags import NewTag, Tag, TagOut, TagPatch
from shared.marketing.templates import EmailTemplateOut, EmailTemplatePatch, NewEmailTemplate, RenderedEmail
from shared.marketing.tracking import UnsubscribeOut
from shared.schemas import PageOut

api = Api("marketing")

Token = Annotated[str, Query(min_length=1, max_length=MAX_TOKEN)]
EntityKind = Annotated[Literal["client", "contact", "ticket"], Path()]
REFRESH_BUDGET_SECONDS = 10.0  # a refresh asked for goes on in the background past this (the job's next run)
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")  # a transparent 1x1 GIF


# ---- tags ----------------------------------------------------------------------------------------


@api.get("/marketing/tags", roles=STAFF, summary="List tags by name")
def list_tags(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> PageOut[TagOut]:
    return page_out(tags.page(api.caller(), limit=limit, cursor=cursor), TagOut)


@api.post("/marketing/tags", roles=STAFF, summary="Create a tag (name unique ignoring case)", responses={201: {}})
def create_tag(body: Annotated[NewTag, Body()]) -> Response[TagOut]:
    made = api.create_once("CreateTag", body, lambda: TagOut.of(tags.create(api.caller(), body)))
    return api.created(f"/marketing/tags/{made['id']}", made)


@api.get("/marketing/tags/<tag_id>", roles=STAFF, summary="Get a tag")
def get_tag(tag_id: EntityId) -> Response[TagOut]:
    return tagged(TagOut.of(Tag.load(api.caller(), tag_id)))


@api.patch("/marketing/tags/<tag_id>", roles=STAFF, summary="Rename or recolour a tag (optimistic locking)")
def update_tag(tag_id: EntityId, body: Annotated[TagPatch, Body()]) -> Response[TagOut]:
    return tagged(TagOut.of(tags.update(api.caller(), tag_id, body, api.if_match())))


@api.delete(
    "/marketing/tags/<tag_id>",
    roles=STAFF,
    summary="Delete a tag; its applications are removed in the background",
    responses={204: {}},
)
def delete_tag(tag_id: EntityId) -> Response[None]:
    tags.delete(api.caller(), tag_id, api.if_match())
    return no_content()


@api.get("/marketing/tags/<tag_id>/entities", roles=STAFF, summary="The clients, contacts and tickets carrying a tag")
def list_tagged_entities(
    tag_id: EntityId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[EntityTagOut]:
    return page_out(entity_tags.entities_page(api.caller(), tag_id, limit=limit, cursor=cursor), EntityTagOut)


# ---- entity tags ---------------------------------------------------------------------------------


@api.post(
    "/marketing/entity-tags",
    roles=STAFF,
    summary="Tag a client, contact or ticket (201 when newly tagged, 200 when it already was)",
    responses={201: {}},
)
def apply_tag(body: Annotated[Application, Body()]) -> Response[EntityTagOut]:
    applied, new = entity_tags.apply(api.caller(), body)
    out = EntityTagOut.of(applied).model_dump(mode="json")
    return api.created("/marketing/entity-tags", out) if new else Response(200, "application/json", out)


@api.delete(
    "/marketing/entity-tags/<tag_id>/<entity_kind>/<entity_id>",
    roles=STAFF,
    summary="Untag a client, contact or ticket (nothing to do if it was not tagged)",
    responses={204: {}},
)
def remove_tag(tag_id: EntityId, entity_kind: EntityKind, entity_id: EntityId) -> Response[None]:
    entity_tags.remove(api.caller(), tag_id, entity_kind, entity_id)
    return no_content()


@api.post(
    "/marketing/entity-tags/bulk-apply",
    roles=STAFF,
    summary="Tag up to 1,000 entities: per entity applied, already or not_found (idempotent)",
)
def bulk_apply_tag(body: Annotated[Bulk, Body()]) -> BulkOut:
    return entity_tags.bulk_apply(api.caller(), body)


@api.post(
    "/marketing/entity-tags/bulk-remove",
    roles=STAFF,
    summary="Untag up to 1,000 entities: per entity removed, absent or not_found (idempotent)",
)
def bulk_remove_tag(body: Annotated[Bulk, Body()]) -> BulkOut:
    return entity_tags.bulk_remove(api.caller(), body)


# ---- segments ------------------------------------------------------------------------------------


@api.get("/marketing/segments/fields", roles=STAFF, summary="The fields and operators segment criteria may use")
def segment_fields() -> dict:
    return {"fields": criteria.catalog(), "max_depth": criteria.MAX_DEPTH, "max_conditions": criteria.MAX_CONDITIONS}


@api.post(
    "/marketing/segments/preview",
    roles=MANAGERS,
    writes=False,
    summary="Count and sample the contacts criteria select, without saving",
)
def preview_segment(body: Annotated[Preview, Body()]) -> PreviewOut:
    return segments.preview(api.caller(), body)


@api.get("/marketing/segments", roles=STAFF, summary="List segments, oldest first")
def list_segments(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> PageOut[SegmentOut]:
    return page_out(segments.page(api.caller(), limit=limit, cursor=cursor), SegmentOut)


@api.post(
    "/marketing/segments",
    roles=MANAGERS,
    summary="Create a dynamic (criteria) or static (members by id) segment",
    responses={201: {}},
)
def create_segment(body: Annotated[NewSegment, Body()]) -> Response[SegmentOut]:
    made = api.create_once("CreateSegment", body, lambda: SegmentOut.of(segments.create(api.caller(), body)))
    return api.created(f"/marketing/segments/{made['id']}", made)


@api.get("/marketing/segments/<segment_id>", roles=STAFF, summary="Get a segment with its member count")
def get_segment(segment_id: EntityId) -> Response[SegmentOut]:
    return tagged(SegmentOut.of(segments.load(api.caller(), segment_id)))


@api.patch("/marketing/segments/<segment_id>", roles=MANAGERS, summary="Rename a segment or change its criteria")
def update_segment(segment_id: EntityId, body: Annotated[SegmentPatch, Body()]) -> Response[SegmentOut]:
    return tagged(SegmentOut.of(segments.update(api.caller(), segment_id, body, api.if_match())))


@api.delete(
    "/marketing/segments/<segment_id>",
    roles=MANAGERS,
    summary="Delete a segment; its members are removed in the background",
    responses={204: {}},
)
def delete_segment(segment_id: EntityId) -> Response[None]:
    segments.delete(api.caller(), segment_id, api.if_match())
    return no_content()


@api.post(
    "/marketing/segments/<segment_id>/refresh",
    roles=MANAGERS,
    summary="Recompute a dynamic segment's members (finished in the background if it takes long)",
)
def refresh_segment(segment_id: EntityId) -> Response[SegmentOut]:
    ctx = api.caller()
    segment, _ = segments.load(ctx, segment_id)
    if segment.kind == "dynamic":  # a static segment's members are what was added
        refresh.refresh_now(ctx.tenant_id, segment_id)
        refresh.run(ctx.tenant_id, segment_id, time.monotonic() + REFRESH_BUDGET_SECONDS)
    return tagged(SegmentOut.of(segments.load(ctx, segment_id)))


@api.get("/marketing/segments/<segment_id>/members", roles=STAFF, summary="A segment's members, by contact id")
def list_segment_members(
    segment_id: EntityId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[MemberOut]:
    return page_out(segments.members_page(api.caller(), segment_id, limit=limit, cursor=cursor), MemberOut)


@api.post(
    "/marketing/segments/<segment_id>/members/add",
    roles=MANAGERS,
    summary="Add up to 1,000 contacts to a static segment: per contact added, already or not_found",
)
def add_segment_members(segment_id: EntityId, body: Annotated[ContactIds, Body()]) -> MembersChanged:
    return segments.add_members(api.caller(), segment_id, body)


@api.post(
    "/marketing/segments/<segment_id>/members/remove",
    roles=MANAGERS,
    summary="Remove up to 1,000 contacts from a static segment: per contact removed, absent or not_found",
)
def remove_segment_members(segment_id: EntityId, body: Annotated[ContactIds, Body()]) -> MembersChanged:
    return segments.remove_members(api.caller(), segment_id, body)


# ---- email templates -----------------------------------------------------------------------------


@api.get("/marketing/email-templates", roles=STAFF, summary="List email templates, oldest first")
def list_email_templates(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> PageOut[EmailTemplateOut]:
    return page_out(templates.page(api.caller(), limit=limit, cursor=cursor), EmailTemplateOut)


@api.post(
    "/marketing/email-templates",
    roles=MANAGERS,
    summary="Create an email template (a syntax error: 422 naming the line)",
    responses={201: {}},
)
def create_email_template(body: Annotated[NewEmailTemplate, Body()]) -> Response[EmailTemplateOut]:
    made = api.create_once(
        "CreateEmailTemplate", body, lambda: EmailTemplateOut.of(templates.create(api.caller(), body))
    )
    return api.created(f"/marketing/email-templates/{made['id']}", made)


@api.get(
    "/marketing/email-templates/<email_template_id>", roles=STAFF, summary="Get an email template with its counters"
)
def get_email_template(email_template_id: EntityId) -> Response[EmailTemplateOut]:
    return tagged(EmailTemplateOut.of(templates.load(api.caller(), email_template_id)))


@api.patch("/marketing/email-templates/<email_template_id>", roles=MANAGERS, summary="Change an email template")
def update_email_template(
    email_template_id: EntityId, body: Annotated[EmailTemplatePatch, Body()]
) -> Response[EmailTemplateOut]:
    return tagged(EmailTemplateOut.of(templates.update(api.caller(), email_template_id, body, api.if_match())))


@api.get(
    "/marketing/email-templates/<email_template_id>/preview",
    roles=STAFF,
    summary="Render a template for one of your contacts, or with sample data",
)
def preview_email_template(email_template_id: EntityId, contact_id: IdFilter = None) -> RenderedEmail:
    return templates.preview(api.caller(), email_template_id, contact_id)


# ---- campaigns -----------------------------------------------------------------------------------


@api.get("/marketing/campaign-executions", roles=STAFF, summary="List campaigns, oldest first")
def list_campaigns(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> PageOut[CampaignOut]:
    return page_out(campaigns.page(api.caller(), limit=limit, cursor=cursor), CampaignOut)


@api.post(
    "/marketing/campaign-executions",
    roles=MANAGERS,
    summary="Create a draft campaign: a template for a segment",
    responses={201: {}},
)
def create_campaign(body: Annotated[NewCampaign, Body()]) -> Response[CampaignOut]:
    made = api.create_once("CreateCampaign", body, lambda: CampaignOut.of(campaigns.create(api.caller(), body)))
    return api.created(f"/marketing/campaign-executions/{made['id']}", made)


@api.get("/marketing/campaign-executions/<campaign_id>", roles=STAFF, summary="Get a campaign with its counts")
def get_campaign(campaign_id: EntityId) -> Response[CampaignOut]:
    return tagged(CampaignOut.of(campaigns.load(api.caller(), campaign_id)))


@api.post(
    "/marketing/campaign-executions/<campaign_id>/schedule",
    roles=MANAGERS,
    summary="Schedule a draft campaign, now or at a time",
)
def schedule_campaign(campaign_id: EntityId, body: Annotated[ScheduleIn, Body()]) -> Response[CampaignOut]:
    return tagged(CampaignOut.of(campaigns.schedule(api.caller(), campaign_id, body, api.if_match())))


@api.post(
    "/marketing/campaign-executions/<campaign_id>/cancel",
    roles=MANAGERS,
    summary="Cancel a campaign, also while it sends (no email goes out after the sender's next chunk)",
)
def cancel_campaign(campaign_id: EntityId) -> Response[CampaignOut]:
    return tagged(CampaignOut.of(campaigns.cancel(api.caller(), campaign_id, api.if_match())))


# ---- the links in campaign emails (public: the signed token names the tenant) --------------------


@api.get(
    "/marketing/unsubscribe",
    roles=None,
    summary="What an unsubscribe link is about (changes nothing: link scanners follow GETs)",
)
def unsubscribe_info(token: Token) -> UnsubscribeOut:
    grant = tracking.grant(message.UNSUBSCRIBE, token)
    api.act_for(grant.tenant_id)
    return tracking.unsubscribe_info(grant)


@api.post(
    "/marketing/unsubscribe",
    roles=None,
    forms=True,
    summary="Unsubscribe at once (RFC 8058 one-click: a form body List-Unsubscribe=One-Click, or none)",
)
def unsubscribe(token: Token) -> UnsubscribeOut:
    grant = tracking.grant(message.UNSUBSCRIBE, token)
    api.act_for(grant.tenant_id)
    return tracking.unsubscribe(grant)


@api.get(
    "/marketing/track/open",
    roles=None,
    writes=True,
    summary="The open-tracking pixel of a campaign email (a 1x1 GIF)",
    responses={200: {"description": "OK", "content": {"image/gif": {"schema": {"type": "string"}}}}},
)
def track_open(token: Token):
    grant = tracking.grant(message.OPEN, token)
    api.act_for(grant.tenant_id)
    tracking.opened(grant)
    return Response(200, "image/gif", PIXEL, headers={"Cache-Control": "no-store"})


@api.get(
    "/marketing/track/click",
    roles=None,
    writes=True,
    summary="Follow a link of a campaign email (302 to where the email pointed, and only there)",
    responses={302: {"description": "Found"}},
)
def track_click(token: Token):
    grant = tracking.grant(message.CLICK, token)
    api.act_for(grant.tenant_id)
    return Response(302, None, None, headers={"Location": tracking.clicked(grant), "Cache-Control": "no-store"})


handler = api.handler
