"""The audit trail: one entry per create/update/delete of tenant data, built from the table's
stream so that no handler can forget to write it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pynamodb.attributes import JSONAttribute, ListAttribute, UnicodeAttribute, UTCDateTimeAttribute

from shared.caller import TenantContext
from shared.clock import iso
from shared.db.errors import storage_errors
from shared.db.pages import Page, instant_range, query_page
from shared.db.table import Item, tkey
from shared.schemas import Out

Action = Literal["create", "update", "delete", "automated"]
ACTIONS: dict[str, Action] = {"INSERT": "create", "MODIFY": "update", "REMOVE": "delete"}

# Bookkeeping items whose every change would only be noise in the trail.
# SLA events are a history of their own; the sweep cursor is the sweep's plumbing;
# survey counters and cooldown records are the surveys' own; work-order links and round-robin pointers
# are the automation's; the onboarding reminder cursor is the reminder job's; sent notifications, inbound
# message markers and flood counters are email's de-duplication; the calendar's sent-mail markers are its
# consumer's; segment members and states, campaign send records and counters are marketing's.
UNAUDITED_ENTITIES = frozenset(
    {
        "notification",
        "inbound_message",
        "inbound_rate",
        "audit",
        "number",
        "survey_stat",
        "survey_recipient",
        "sla_event",
        "sla_sweep",
        "ticket_work_order",
        "round_robin",
        "calendar_mail_sent",
        "onboarding_reminder_cursor",
        "segment_member",
        "segment_state",
        "dynamic_segment_count",
        "campaign_send",
        "marketing_counters",
        "tag_name",
    }
)
PLUMBING = frozenset(
    {"PK", "SK", "entity", "tenant_id", "version", "rev", "counters", "updated_at", "updated_by", "expiration"}
    | {"open_work_orders", "DUEPK", "DUESK"}  # the SLA sweep's index follows the ticket's SLA state
    # an onboarding process's progress follows its items (each audited); publishing, welcome and reminder marks
    | {"done", "required_open", "staged", "published", "welcomed_at", "reminded_on", "next_reminder_on"}
) | {f"GSI{i}{part}" for i in range(1, 6) for part in ("PK", "SK")}


class AuditEntry(Item, discriminator="audit"):
    entity_type = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    action = UnicodeAttribute()
    actor = UnicodeAttribute(null=True)
    changed = ListAttribute(of=UnicodeAttribute, default=list)
    at = UTCDateTimeAttribute()
    detail = JSONAttribute(null=True)  # what an automated decision was based on

    @staticmethod
    def partition(tenant_id: str) -> str:
        return tkey(tenant_id, "AUDIT")


class AuditOut(Out):
    entity_type: str
    entity_id: str
    action: Action
    actor: str | None
    changed: list[str]
    at: datetime
    detail: dict[str, Any] | None = None


def entry_for_change(
    event_name: str, old: dict[str, Any] | None, new: dict[str, Any] | None, *, sequence: str, at: datetime
) -> AuditEntry | None:
    """The entry a stream change deserves, or None for bookkeeping and no-op changes.

    ``sequence`` is the stream record's sequence number: it orders changes made within the same
    second (the stream's timestamps have one-second resolution) and keys the entry, so a
    redelivered record rewrites the same entry.
    """
    image = new or old or {}
    entity, tenant_id = image.get("entity"), image.get("tenant_id")
    if not entity or not tenant_id or entity in UNAUDITED_ENTITIES:
        return None
    old, new = old or {}, new or {}
    changed = sorted(k for k in (old.keys() | new.keys()) - PLUMBING if old.get(k) != new.get(k))
    if event_name == "MODIFY" and not changed:
        return None
    return _entry(
        tenant_id,
        f"{iso(at)}#{sequence.zfill(40)}",
        entity,
        entity_id=str(image.get("id") or image.get("user_id") or image.get("SK")),
        action=ACTIONS[event_name],
        actor=(new or old).get("updated_by"),
        changed=changed,
        at=at,
    )


def automated(
    tenant_id: str, entity: str, entity_id: str, *, actor: str, detail: dict[str, Any], sequence: str, at: datetime
) -> AuditEntry:
    """The entry of a decision a system process made (e.g. who gets a work order, and why).

    Keyed like stream entries by the triggering record's sequence number, so a retry rewrites it."""
    order = f"{iso(at)}#{sequence.zfill(40)}#{entity}"
    return _entry(
        tenant_id, order, entity, entity_id=entity_id, action="automated", actor=actor, changed=[], at=at, detail=detail
    )


def _entry(tenant_id: str, order: str, entity: str, **fields: Any) -> AuditEntry:
    """An entry in the tenant's trail and in its entity type's (GSI1), both ordered by ``order``."""
    return AuditEntry(
        AuditEntry.partition(tenant_id),
        order,
        tenant_id=tenant_id,
        entity_type=entity,
        GSI1PK=tkey(tenant_id, "AUDIT", entity),
        GSI1SK=order,
        **fields,
    )


def record(entry: AuditEntry) -> None:
    with storage_errors():
        entry.save()


def page(
    ctx: TenantContext,
    *,
    entity: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[AuditEntry]:
    if entity:
        source, hash_key, sk = AuditEntry.gsi1, tkey(ctx.tenant_id, "AUDIT", entity), Item.GSI1SK
    else:
        source, hash_key, sk = AuditEntry, AuditEntry.partition(ctx.tenant_id), Item.SK
    return query_page(
        source,
        hash_key,
        ctx.tenant_id,
        f"audit:{entity}:{since}:{until}",
        limit=limit,
        cursor=cursor,
        newest_first=True,
        range_key_condition=instant_range(sk, since, until, ("since", "until")),
    )
