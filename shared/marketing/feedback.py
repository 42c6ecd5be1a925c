"""What SES says about campaign emails after sending: hard bounces and complaints put the address on the
tenant's suppression list, and each event counts on its campaign and template.

In the cloud SES publishes these events through a configuration set (``DESKOS_SES_CONFIGURATION_SET``) to an
SNS topic that feeds ``functions/events/mail_feedback.py``; locally ``deskos bounce <address>`` hands the same
function the same event. An event names its email's tags (set by the sender: tenant, campaign, contact,
template); one without a tenant tag is not a campaign email's and is ignored. Idempotent: a redelivered
bounce or complaint finds the address suppressed already (the transaction's condition), a delivery finds the
send record marked delivered. A delivery of an email the sender could not confirm (``unconfirmed``) makes it
``sent``."""

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
from shared.marketing.counters import Counters
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
        message_id = (event.get("mail") or {}).get("messageId")
        return "delivered" if _delivered(tenant_id, tags, message_id, at) else None
    return None


def _delivered(tenant_id: str, tags: dict[str, str], message_id: Any, at: datetime) -> bool:
    """Mark the send record delivered, once (whether this was the first time). An ``unconfirmed`` one (still
    ``claimed``: the sender crashed between SES and its confirmation) becomes ``sent``, with SES's message id:
    if the campaign's counts are written already (its template counts them), its ``sent`` and ``unconfirmed``
    and the template's ``sent`` follow in the same transaction; if not, the sender's tally counts it as sent."""
    record = SendRecord(*SendRecord.key(tenant_id, tags["campaign"], tags["contact"]))
    fresh = SendRecord.PK.exists() & SendRecord.delivered_at.does_not_exist()
    marked = [SendRecord.delivered_at.set(at)]
    confirmed = [*marked, SendRecord.status.set("sent")]
    if isinstance(message_id, str) and message_id:
        confirmed.append(SendRecord.message_id.set(message_id[:200]))
    campaign = Counters(*Counters.key(tkey(tenant_id, Campaign.prefix, tags["campaign"])))
    tallied = Counters.template_counted.exists()
    for counted in (True, False):  # the record is claimed: one of the two holds (the tally never un-counts)
        try:
            with storage_errors(), transaction() as tx:
                tx.update(record, confirmed, condition=fresh & (SendRecord.status == "claimed"))
                moved = [Counters.sent.add(1), Counters.unconfirmed.add(-1)] if counted else []
                actions = [Counters.delivered.add(1), *moved, *counters.made(tenant_id)]
                tx.update(campaign, actions, condition=tallied if counted else ~tallied)
                if tags.get("template"):
                    template = tkey(tenant_id, EmailTemplate.prefix, tags["template"])
                    counters.add(tx, template, tenant_id, delivered=1, **({"sent": 1} if counted else {}))
        except TransactWriteError:
            continue
        return True
    return _once(tenant_id, tags, {"delivered": 1}, lambda tx: tx.update(record, marked, condition=fresh))


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
