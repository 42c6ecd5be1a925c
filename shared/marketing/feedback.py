"""What SES says about campaign emails after sending: hard bounces and complaints put the address on the
tenant's suppression list, and each event counts on its campaign and template.

In the cloud SES publishes these events through a configuration set (``DESKOS_SES_CONFIGURATION_SET``) to an
SNS topic that feeds ``functions/events/mail_feedback.py``; locally ``deskos bounce <address>`` hands the same
function the same event. An event names its email's tags (set by the sender: tenant, campaign, contact,
template); one without a tenant tag is not a campaign email's and is ignored. Idempotent: a redelivered
bounce or complaint finds the address suppressed already (the transaction's condition), a delivery finds the
send record marked delivered."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError

from shared.caller import valid_tenant_id
from shared.db.errors import storage_errors
from shared.db.table import tkey, transaction
from shared.marketing import counters, suppression
from shared.marketing.campaigns import Campaign
from shared.marketing.sends import SendRecord
from shared.marketing.templates import EmailTemplate

logger = logging.getLogger(__name__)


def handle(event: Mapping[str, Any], at: datetime) -> str | None:
    """Act on one SES event notification (``eventType`` Bounce, Complaint or Delivery); what it recorded."""
    tags = {name: values[0] for name, values in (event.get("mail", {}).get("tags") or {}).items() if values}
    tenant_id = tags.get("tenant")
    if not isinstance(tenant_id, str) or not valid_tenant_id(tenant_id):
        return None
    kind = event.get("eventType") or event.get("notificationType")
    if kind == "Bounce":
        bounce = event.get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            return None  # a soft bounce: SES retries it; the address stays
        addresses = [r.get("emailAddress") for r in bounce.get("bouncedRecipients") or []]
        return _suppress(tenant_id, tags, addresses, "bounced", at)
    if kind == "Complaint":
        addresses = [r.get("emailAddress") for r in (event.get("complaint") or {}).get("complainedRecipients") or []]
        return _suppress(tenant_id, tags, addresses, "complained", at)
    if kind == "Delivery" and tags.get("campaign") and tags.get("contact"):
        record = SendRecord(*SendRecord.key(tenant_id, tags["campaign"], tags["contact"]))
        condition = SendRecord.PK.exists() & SendRecord.delivered_at.does_not_exist()
        return (
            "delivered"
            if _once(
                tenant_id,
                tags,
                {"delivered": 1},
                lambda tx: tx.update(record, [SendRecord.delivered_at.set(at)], condition=condition),
            )
            else None
        )
    return None


def _suppress(tenant_id: str, tags: dict[str, str], addresses: list[Any], reason, at: datetime) -> str | None:
    recorded = None
    for address in addresses:
        if not isinstance(address, str) or "@" not in address or len(address) > 254:
            continue
        entry = suppression.entry(
            tenant_id, address, reason, at, contact_id=tags.get("contact"), campaign_id=tags.get("campaign")
        )
        if _once(tenant_id, tags, {reason: 1}, lambda tx, entry=entry: suppression.add(tx, entry)):
            recorded = reason
    return recorded


def _once(tenant_id: str, tags: dict[str, str], counted: dict[str, int], first) -> bool:
    """Write ``first`` (conditioned so it happens once) with the counters of the email's campaign and template;
    whether it was the first time."""
    try:
        with storage_errors(), transaction() as tx:
            first(tx)
            if tags.get("campaign"):
                counters.add(tx, tkey(tenant_id, Campaign.prefix, tags["campaign"]), tenant_id, **counted)
            if tags.get("template"):
                counters.add(tx, tkey(tenant_id, EmailTemplate.prefix, tags["template"]), tenant_id, **counted)
    except TransactWriteError:
        logger.info("SES event for tenant %s already recorded", tenant_id)
        return False
    return True
