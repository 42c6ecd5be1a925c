"""The tenant's suppression list: addresses no campaign mails again, because they unsubscribed, hard-bounced
or complained. ``T#<t>#SUPPRESSION#<address, case folded>`` / ``SUPPRESSION``: the sender checks a batch of
addresses with one BatchGetItem; the first reason recorded stays."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from shared.db.errors import storage_errors
from shared.db.table import Item, get_or_none, tkey

Reason = Literal["unsubscribed", "bounced", "complained"]


class Suppression(Item, discriminator="suppression"):
    email = UnicodeAttribute()
    reason = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    contact_id = UnicodeAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)

    @staticmethod
    def key(tenant_id: str, email: str) -> tuple[str, str]:
        return tkey(tenant_id, "SUPPRESSION", email.strip().casefold()), "SUPPRESSION"


def entry(
    tenant_id: str, email: str, reason: Reason, at: datetime, *, contact_id: str | None, campaign_id: str | None
) -> Suppression:
    return Suppression(
        *Suppression.key(tenant_id, email),
        tenant_id=tenant_id,
        email=email,
        reason=reason,
        at=at,
        contact_id=contact_id,
        campaign_id=campaign_id,
        updated_by=f"system:{reason}",
    )


def add(tx: Any, suppressed: Suppression) -> None:
    """In transaction ``tx``: suppress the address, unless it already is (the transaction then fails at
    this item's index, which is how a repeated unsubscribe or bounce counts once)."""
    tx.save(suppressed, condition=Suppression.PK.does_not_exist())


def suppressed(tenant_id: str, emails: Iterable[str]) -> set[str]:
    """Which of ``emails`` (case folded) are suppressed: one BatchGetItem per 100."""
    keys = list({Suppression.key(tenant_id, e) for e in emails})
    if not keys:
        return set()
    with storage_errors():
        return {s.email.strip().casefold() for s in Suppression.batch_get(keys)}


def find(tenant_id: str, email: str) -> Suppression | None:
    return get_or_none(Suppression, Suppression.key(tenant_id, email))
