"""Performance counters of an email template or a campaign: an unversioned item beside the owner
(``<owner's partition>`` / ``COUNTERS``), so counting never races an edit, and one Query reads both.

Tracking, bounces and the sender only ever add (``UpdateItem ADD``), in the same transaction as the record
that makes the event count once (``shared.marketing.tracking``, ``shared.marketing.feedback``)."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from shared.db.errors import storage_errors
from shared.db.pages import Page
from shared.db.table import Item
from shared.errors import NotFound

EVENTS = ("sent", "delivered", "opened", "clicked", "bounced", "complained", "unsubscribed")
SENDING = ("recipients", "skipped", "failed", "unconfirmed")


class Counters(Item, discriminator="marketing_counters"):
    sent = NumberAttribute(default=0)
    delivered = NumberAttribute(default=0)
    opened = NumberAttribute(default=0)
    clicked = NumberAttribute(default=0)
    bounced = NumberAttribute(default=0)
    complained = NumberAttribute(default=0)
    unsubscribed = NumberAttribute(default=0)
    # a campaign's own, set by the sender when it finishes (``shared.marketing.sending``)
    recipients = NumberAttribute(null=True)
    skipped = NumberAttribute(null=True)
    failed = NumberAttribute(null=True)
    unconfirmed = NumberAttribute(null=True)
    send_cursor = UnicodeAttribute(null=True)  # the last member the sender is done with, saved once per run
    template_counted = BooleanAttribute(null=True)  # the campaign's emails are in its template's counters

    @staticmethod
    def key(owner_partition: str) -> tuple[str, str]:
        return owner_partition, "COUNTERS"

    def as_dict(self, names: tuple[str, ...] = EVENTS) -> dict[str, int]:
        return {name: int(getattr(self, name) or 0) for name in names}


def empty(names: tuple[str, ...] = EVENTS) -> dict[str, int]:
    return dict.fromkeys(names, 0)


def made(tenant_id: str) -> list[Any]:
    """The update actions that make the item a ``Counters`` of the tenant when an update creates it."""
    return [Counters.entity.set(Counters), Counters.tenant_id.set(tenant_id)]


def add(tx: Any, owner_partition: str, tenant_id: str, **deltas: int) -> None:
    """In transaction ``tx``: add ``deltas`` to the owner's counters (made on first use)."""
    actions = [getattr(Counters, name).add(delta) for name, delta in deltas.items()]
    tx.update(Counters(*Counters.key(owner_partition)), [*actions, *made(tenant_id)])


def load_with(
    model: type[Item], partition: str, noun: str, names: tuple[str, ...] = EVENTS
) -> tuple[Any, dict[str, int]]:
    """The owner at ``partition`` (a ``model``) and its counters, in one Query; 404 "No such <noun>." (also what
    another tenant's id gets: the partition holds the caller's tenant)."""
    with storage_errors():
        found = {type(i): i for i in Item.query(partition)}
    owner = found.get(model)
    if owner is None:
        raise NotFound(f"No such {noun}.")
    counted = found.get(Counters)
    return owner, counted.as_dict(names) if counted else empty(names)


def page_with(found: Page[Any], names: tuple[str, ...] = EVENTS) -> Page[tuple[Any, dict[str, int]]]:
    """A page of owners with their counters (one BatchGetItem)."""
    keys = [Counters.key(owner.PK) for owner in found.items]
    with storage_errors():
        counted = {c.PK: c.as_dict(names) for c in Counters.batch_get(keys)} if keys else {}
    return Page([(owner, counted.get(owner.PK, empty(names))) for owner in found.items], found.next_cursor)


def body(out: type[Any], owner: Any, **extra: Any) -> Any:
    """The response body ``out`` read off ``owner``, with ``extra`` fields (its counters) beside."""
    return out.model_validate(
        {name: extra[name] if name in extra else getattr(owner, name) for name in out.model_fields}
    )
