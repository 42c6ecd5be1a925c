"""Performance counters of an email template or a campaign: an unversioned item beside the owner
(``<owner's partition>`` / ``COUNTERS``), so counting never races an edit, and one Query reads both.

Lists read owners and their companions (counters, a segment's state) in one Query too: the companion is written
with the owner and carries the owner's list keys (GSI1) with its own suffix, so it sorts right after its owner
(``listed_beside``, ``paired_page``).

Tracking, bounces and the sender only ever add (``UpdateItem ADD``), in the same transaction as the record
that makes the event count once (``shared.marketing.tracking``, ``shared.marketing.feedback``)."""

from __future__ import annotations

from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute

from shared import cursors
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


def new(owner: Any) -> Counters:
    """Zero counters for a new ``owner``, listed beside it: write them in the owner's create transaction."""
    return listed_beside(owner, Counters(*Counters.key(owner.PK), tenant_id=owner.tenant_id))


def listed_beside(owner: Any, companion: Item) -> Any:
    """``companion`` with ``owner``'s list keys, sorting right after it (its own sort key as the suffix)."""
    companion.GSI1PK, companion.GSI1SK = owner.GSI1PK, f"{owner.GSI1SK}#{companion.SK}"
    return companion


def paired_page(
    owner_model: type[Item],
    companion_model: type[Item],
    companion_sort_key: str,
    partition: str,
    tenant_id: str,
    query_name: str,
    *,
    limit: int,
    cursor: str | None,
) -> Page[tuple[Any, Any]]:
    """A page of ``limit`` owners of the list partition (GSI1) each with its companion (or None), in one Query:
    each companion sorts right after its owner. One written before companions were listed (or a page that
    ends between the two) gets its companion from one BatchGetItem more."""
    start = cursors.decode(tenant_id, query_name, cursor)
    with storage_errors():
        result = Item.gsi1.query(partition, limit=2 * limit, page_size=2 * limit, last_evaluated_key=start)
        items = list(result)
    pairs: list[list[Any]] = []
    taken = 0
    for item in items:
        if isinstance(item, owner_model):
            if len(pairs) == limit:
                break
            pairs.append([item, None])
        elif isinstance(item, companion_model) and pairs and pairs[-1][0].PK == item.PK:
            pairs[-1][1] = item
        taken += 1  # anything else (a companion whose owner ended the last page) is passed over
    missing = [pair for pair in pairs if pair[1] is None]
    if missing:
        with storage_errors():
            keys = [(pair[0].PK, companion_sort_key) for pair in missing]
            found = {c.PK: c for c in companion_model.batch_get(keys)}
        for pair in missing:
            pair[1] = found.get(pair[0].PK)
    more = taken < len(items) or result.last_evaluated_key is not None
    last = items[taken - 1] if more and taken else None
    next_key = {name: {"S": getattr(last, name)} for name in ("PK", "SK", "GSI1PK", "GSI1SK")} if last else None
    return Page([(owner, companion) for owner, companion in pairs], cursors.encode(tenant_id, query_name, next_key))


def page_of(
    owner_model: type[Item], partition: str, tenant_id: str, query_name: str, names: tuple[str, ...], **page: Any
) -> Page[tuple[Any, dict[str, int]]]:
    """A page of owners with their counters (``paired_page``)."""
    found = paired_page(owner_model, Counters, "COUNTERS", partition, tenant_id, query_name, **page)
    pairs = [(owner, counted.as_dict(names) if counted else empty(names)) for owner, counted in found.items]
    return Page(pairs, found.next_cursor)


def body(out: type[Any], owner: Any, **extra: Any) -> Any:
    """The response body ``out`` read off ``owner``, with ``extra`` fields (its counters) beside."""
    return out.model_validate(
        {name: extra[name] if name in extra else getattr(owner, name) for name in out.model_fields}
    )
