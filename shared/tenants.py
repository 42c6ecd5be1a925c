"""Tenants (firms) and their settings: one item per tenant (``T#<t>#TENANT`` / ``TENANT``), versioned.

The settings' time zone and business hours are the tenant's default calendar: a new SLA policy that names
no calendar gets it. A tenant whose item predates a setting reads that setting's default.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import Field
from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from shared.caller import TenantContext, valid_tenant_id
from shared.clock import now
from shared.db.entities import expect_version
from shared.db.errors import storage_errors
from shared.db.table import Item, get_or_none, tkey
from shared.errors import Unprocessable
from shared.hours import BusinessCalendarIn, BusinessHours, TimeZone, Windows
from shared.schemas import Colour, Email, Name, Strict, Versioned

DEFAULT_ATTACHMENT_LIMIT = 25 * 1024 * 1024
MIN_ATTACHMENT_LIMIT = 1024 * 1024
MAX_ATTACHMENT_LIMIT = 5 * 1024**3  # S3's largest single PUT (a presigned POST is one)
DEFAULT_BUSINESS_HOURS = tuple(
    BusinessHours(day=day, start="09:00", end="17:00") for day in ("mon", "tue", "wed", "thu", "fri")
)


class Tenant(Item, discriminator="tenant"):
    noun: ClassVar[str] = "tenant"  # for the entity kit's version checks
    name = UnicodeAttribute()
    time_zone = UnicodeAttribute(default="UTC")
    business_hours = JSONAttribute(null=True)  # windows as BusinessHours dumps; [] is 24x7
    email_sender = UnicodeAttribute(null=True)
    attachment_limit_bytes = NumberAttribute(default=DEFAULT_ATTACHMENT_LIMIT)
    onboarding_reminder_every_days = NumberAttribute(default=1)
    portal_display_name = UnicodeAttribute(null=True)
    portal_colour = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    version = NumberAttribute(default=1)  # also what a tenant made before settings were versioned reads

    @staticmethod
    def key(tenant_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "TENANT"), "TENANT"


class Branding(Strict):
    display_name: Name | None = Field(default=None, description="What the client portal calls the firm.")
    colour: Colour | None = Field(default=None, description="The portal's accent colour, #rrggbb.")


class SettingsIn(Strict):
    name: Name
    time_zone: TimeZone
    business_hours: Windows = Field(
        default_factory=lambda: list(DEFAULT_BUSINESS_HOURS),
        description="Default business hours (new SLA policies, reminders), local to time_zone; [] is 24x7.",
    )
    attachment_limit_bytes: int = Field(
        default=DEFAULT_ATTACHMENT_LIMIT, ge=MIN_ATTACHMENT_LIMIT, le=MAX_ATTACHMENT_LIMIT
    )
    email_sender: Email | None = Field(default=None, description="The From address of the tenant's emails.")
    onboarding_reminder_every_days: int = Field(
        default=1, ge=1, le=30, description="Onboarding reminders at 09:00 local time: daily (1) or every N days."
    )
    branding: Branding = Field(default_factory=Branding)


class SettingsUpdate(SettingsIn, Versioned):
    pass


class SettingsOut(SettingsIn):
    tenant_id: str
    version: int
    updated_at: datetime | None

    @classmethod
    def of(cls, tenant: Tenant) -> SettingsOut:
        hours = DEFAULT_BUSINESS_HOURS if tenant.business_hours is None else tenant.business_hours
        return cls(
            tenant_id=tenant.tenant_id,
            name=tenant.name,
            time_zone=tenant.time_zone,
            business_hours=[BusinessHours.model_validate(h) for h in hours],
            attachment_limit_bytes=int(tenant.attachment_limit_bytes),
            onboarding_reminder_every_days=int(tenant.onboarding_reminder_every_days or 1),
            email_sender=tenant.email_sender,
            branding=Branding(display_name=tenant.portal_display_name, colour=tenant.portal_colour),
            version=int(tenant.version),
            updated_at=tenant.updated_at or tenant.created_at,
        )

    def default_calendar(self) -> BusinessCalendarIn:
        windows = list(self.business_hours)
        return BusinessCalendarIn(time_zone=self.time_zone, windows=windows, always_open=not windows)


def create_tenant(tenant_id: str, name: str, *, time_zone: str = "UTC", actor: str = "operator") -> Tenant:
    if not valid_tenant_id(tenant_id):
        raise Unprocessable.field("tenant_id", "Use 2-40 lowercase letters, digits or dashes.")
    pk, sk = Tenant.key(tenant_id)
    moment = now()
    tenant = Tenant(
        pk,
        sk,
        tenant_id=tenant_id,
        name=name,
        time_zone=time_zone,
        business_hours=[h.model_dump() for h in DEFAULT_BUSINESS_HOURS],
        created_at=moment,
        updated_at=moment,
        updated_by=actor,
        version=1,
    )
    with storage_errors(f"Tenant {tenant_id} already exists."):
        tenant.save(condition=Tenant.PK.does_not_exist())
    return tenant


def find(tenant_id: str) -> Tenant | None:
    with storage_errors():
        return get_or_none(Tenant, Tenant.key(tenant_id))


def _stored_or_default(tenant_id: str) -> Tenant:
    """The tenant's item; a tenant made without one (no operator command) reads every default, named by its id."""
    return find(tenant_id) or Tenant(*Tenant.key(tenant_id), tenant_id=tenant_id, name=tenant_id, created_at=None)


def settings_of(ctx: TenantContext) -> SettingsOut:
    return SettingsOut.of(_stored_or_default(ctx.tenant_id))


class BrandingOut(Strict):
    """What every user of the tenant may read of its settings: the name and colours the web app shows."""

    name: str = Field(description="The portal's display name, or else the firm's name.")
    branding: Branding


def branding_of(ctx: TenantContext) -> BrandingOut:
    found = SettingsOut.of(_stored_or_default(ctx.tenant_id))
    return BrandingOut(name=found.branding.display_name or found.name, branding=found.branding)


def default_calendar(tenant_id: str) -> BusinessCalendarIn:
    return SettingsOut.of(_stored_or_default(tenant_id)).default_calendar()


def replace_settings(ctx: TenantContext, body: SettingsUpdate, if_match: int | None) -> SettingsOut:
    tenant = _stored_or_default(ctx.tenant_id)
    expect_version(tenant, body.version, if_match)
    current = int(tenant.version)
    if tenant.created_at is None:  # never stored
        unchanged = Tenant.PK.does_not_exist()
    elif current > 1:
        unchanged = Tenant.version == current
    else:  # a tenant made before settings were versioned has none: it is at version 1
        unchanged = Tenant.PK.exists() & (Tenant.version.does_not_exist() | (Tenant.version == 1))
    moment = now()
    tenant.name, tenant.time_zone = body.name, body.time_zone
    tenant.business_hours = [h.model_dump() for h in body.business_hours]
    tenant.attachment_limit_bytes = body.attachment_limit_bytes
    tenant.onboarding_reminder_every_days = body.onboarding_reminder_every_days
    tenant.email_sender = body.email_sender
    tenant.portal_display_name, tenant.portal_colour = body.branding.display_name, body.branding.colour
    tenant.created_at = tenant.created_at or moment
    tenant.updated_at, tenant.updated_by, tenant.version = moment, ctx.user_id, current + 1
    with storage_errors("The settings changed meanwhile; reload and retry."):
        tenant.save(condition=unchanged)
    return SettingsOut.of(tenant)
