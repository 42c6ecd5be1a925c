"""A campaign's send record per recipient: ``T#<t>#CAMPAIGN#<id>#SENDS`` / ``<contact id>``. Its existence is the
claim that makes a send happen at most once (``shared.marketing.sending``); tracking and SES's events mark it
(``opened_at``, ``clicked_at``, ``delivered_at``) to count each once."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from shared.db.table import Item, tkey


class SendRecord(Item, discriminator="campaign_send"):
    contact_id = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # claimed, sent, failed, skipped
    reason = UnicodeAttribute(null=True)  # why skipped or failed
    message_id = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()
    delivered_at = UTCDateTimeAttribute(null=True)
    opened_at = UTCDateTimeAttribute(null=True)
    clicked_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def partition(tenant_id: str, campaign_id: str) -> str:
        return tkey(tenant_id, "CAMPAIGN", campaign_id, "SENDS")

    @classmethod
    def key(cls, tenant_id: str, campaign_id: str, contact_id: str) -> tuple[str, str]:
        return cls.partition(tenant_id, campaign_id), contact_id
