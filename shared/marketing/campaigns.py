"""Campaign executions (``/marketing/campaign-executions``): a template sent to a segment's members.

``T#<t>#CAMPAIGN#<id>`` / ``CAMPAIGN`` (versioned; a tenant's: GSI1 ``T#<t>#CAMPAIGNS`` by creation), its
counters beside it (``COUNTERS``) and its send records in ``T#<t>#CAMPAIGN#<id>#SENDS`` / ``<contact id>``.
Status: ``draft`` → ``scheduled`` (``schedule``, now or at a time) → ``sending`` → ``sent``; ``cancelled``
from any of the first three (``cancel`` stops a send in progress: the sender's next claim finds it so);
``failed`` when its template or segment is gone. While ``scheduled`` or ``sending`` a campaign carries an
entry in the sparse system index ``DUE`` (``CAMPAIGNDUE`` / ``<send at>#<tenant>#<id>``): how the sending job
(``shared.marketing.sending``) finds what is due without a Scan."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field
from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError

from shared.caller import TenantContext
from shared.clock import now
from shared.db.due import DueIndex, entry
from shared.db.entities import Entity, expect_version, require_state, save
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.pages import Page
from shared.db.table import tkey, transaction
from shared.errors import Unprocessable
from shared.marketing import counters
from shared.marketing.segments import Segment
from shared.marketing.templates import EmailTemplate
from shared.schemas import Audited, Id, Instant, Name, Strict

Status = Literal["draft", "scheduled", "sending", "sent", "cancelled", "failed"]
COUNTS = (*counters.SENDING, *counters.EVENTS)


class Campaign(Entity, discriminator="campaign"):
    noun, prefix = "campaign", "CAMPAIGN"
    name = UnicodeAttribute()
    template_id = UnicodeAttribute()
    segment_id = UnicodeAttribute()
    status = UnicodeAttribute(default="draft")
    send_at = UTCDateTimeAttribute(null=True)
    started_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    failure = UnicodeAttribute(null=True)
    DUEPK = UnicodeAttribute(null=True)
    DUESK = UnicodeAttribute(null=True)
    due = DueIndex()

    @staticmethod
    def partition_of_all(tenant_id: str) -> str:
        return tkey(tenant_id, "CAMPAIGNS")

    def index(self) -> None:
        self.GSI1PK, self.GSI1SK = self.partition_of_all(self.tenant_id), self.time_order
        # due at its time; once sending, due since it started (a run that stops early leaves it due)
        due = self.started_at if self.status == "sending" else self.send_at
        if self.status in ("scheduled", "sending") and due is not None:
            self.DUEPK, self.DUESK = "CAMPAIGNDUE", entry(due, self.tenant_id, self.id)
        else:
            self.DUEPK = self.DUESK = None


class NewCampaign(Strict):
    name: Name = Field(examples=["Spring newsletter, March"])
    template_id: Id
    segment_id: Id


class ScheduleIn(Strict):
    send_at: Instant | None = Field(default=None, description="When to send; now when not given.")


class CampaignOut(Audited):
    id: str
    name: str
    template_id: str
    segment_id: str
    status: Status
    send_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    failure: str | None
    counts: dict[str, int]

    @classmethod
    def of(cls, pair: tuple[Campaign, dict[str, int]]) -> CampaignOut:  # type: ignore[override]
        campaign, counted = pair
        return counters.body(cls, campaign, counts=counted)


def create(ctx: TenantContext, body: NewCampaign) -> tuple[Campaign, dict[str, int]]:
    """A draft; 422 when the template or the segment is not one of the tenant's (checked in the same write)."""
    campaign = Campaign.new(ctx, **body.model_dump())
    campaign.index()
    checks = (
        (EmailTemplate, body.template_id, "template_id", "No such email template."),
        (Segment, body.segment_id, "segment_id", "No such segment."),
    )
    try:
        with storage_errors(), transaction() as tx:
            for model, entity_id, _, _ in checks:
                tx.condition_check(model, *model.key(ctx.tenant_id, entity_id), condition=model.PK.exists())
            tx.save(campaign)
            tx.save(counters.new(campaign))  # listed beside it: a page of campaigns is one Query
    except TransactWriteError as error:
        for index, (_, _, field, message) in enumerate(checks):
            if cancelled_by_condition(error, index):
                raise Unprocessable.field(field, message) from None
        raise
    return campaign, counters.empty(COUNTS)


def load(ctx: TenantContext, campaign_id: str) -> tuple[Campaign, dict[str, int]]:
    """The campaign and its counts, in one Query; 404 (also another tenant's)."""
    return counters.load_with(Campaign, tkey(ctx.tenant_id, Campaign.prefix, campaign_id), "campaign", COUNTS)


def page(ctx: TenantContext, *, limit: int, cursor: str | None) -> Page[tuple[Campaign, dict[str, int]]]:
    partition = Campaign.partition_of_all(ctx.tenant_id)
    return counters.page_of(Campaign, partition, ctx.tenant_id, "campaigns", COUNTS, limit=limit, cursor=cursor)


def schedule(ctx: TenantContext, campaign_id: str, body: ScheduleIn, if_match: int | None):
    campaign, counted = load(ctx, campaign_id)
    expect_version(campaign, if_match, required=False)
    require_state(campaign, ("draft",), "scheduled")
    at = now()
    if body.send_at is not None and body.send_at.tzinfo is None:
        raise Unprocessable.field("send_at", "Give a time zone, e.g. 2026-03-01T09:00:00Z.")
    campaign.status, campaign.send_at = "scheduled", max(body.send_at or at, at)
    return save(ctx, campaign), counted


def cancel(ctx: TenantContext, campaign_id: str, if_match: int | None):
    """Stop the campaign: before it starts, or while it sends (no email goes out after the sender's next
    claim, which finds the campaign cancelled)."""
    campaign, counted = load(ctx, campaign_id)
    expect_version(campaign, if_match, required=False)
    require_state(campaign, ("draft", "scheduled", "sending"), "cancelled")
    campaign.status, campaign.finished_at = "cancelled", now()
    return save(ctx, campaign), counted
