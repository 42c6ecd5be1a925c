"""Event-driven membership: a contact that changes (its fields, its client's, or either one's tags) moves
in or out of its tenant's dynamic segments at once, driven by the table's stream
(``functions/events/segment_membership.py``), instead of waiting for the next refresh.

Per changed contact: its profile (the contact, its client, both tag sets: three reads), then each of the
tenant's dynamic segments (at most ``segments.MAX_DYNAMIC``, read once per tenant and batch) decides. A member
joins the generation readers see with a transaction that adds it (if absent) and counts it; leaves likewise.
While a refresh is writing a new generation, the change is written there too, so the switch does not undo it.
A client's change re-evaluates its contacts (a Query of them)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pynamodb.exceptions import TransactWriteError

from shared.crm.contacts import Contact
from shared.db.errors import storage_errors
from shared.db.table import Item, transaction
from shared.marketing import audience, criteria
from shared.marketing.segments import Member, Segment, SegmentState, dynamic


def contacts_of_client(tenant_id: str, client_id: str) -> list[str]:
    with storage_errors():
        return [c.id for c in Contact.gsi2.query(Contact.partition_of_client(tenant_id, client_id))]


class Segments:
    """Each tenant's dynamic segments with their parsed criteria, read once (per stream batch)."""

    def __init__(self) -> None:
        self._of: dict[str, list[tuple[Segment, SegmentState, criteria.Group]]] = {}

    def __call__(self, tenant_id: str) -> list[tuple[Segment, SegmentState, criteria.Group]]:
        if tenant_id not in self._of:
            self._of[tenant_id] = [(s, state, s.tree) for s, state in dynamic(tenant_id)]
        return self._of[tenant_id]


def reevaluate(
    tenant_id: str,
    contact_ids: Iterable[str],
    at: datetime,
    *,
    removed: Iterable[str] = (),
    segments: Segments | None = None,
) -> int:
    """Re-place the contacts in the tenant's dynamic segments (``removed`` ones leave them all); the number of
    memberships that changed."""
    trees = (segments or Segments())(tenant_id)
    if not trees:
        return 0
    wanted = list(dict.fromkeys(contact_ids))
    if not wanted and not removed:
        return 0
    with storage_errors():
        keys = [Contact.key(tenant_id, i) for i in wanted]
        found = {c.id: c for c in Item.batch_get(keys) if isinstance(c, Contact)} if keys else {}
    changed = 0
    for contact_id in [*wanted, *removed]:
        contact = found.get(contact_id)
        seen = audience.profile_of(contact) if contact is not None else None
        for segment, state, tree in trees:
            belongs = seen is not None and criteria.matches(tree, seen, at)
            changed += _place(segment, state, contact, contact_id, belongs)
    return changed


def _place(segment: Segment, state: SegmentState, contact: Contact | None, contact_id: str, belongs: bool) -> int:
    tenant = segment.tenant_id
    current = Member.partition(tenant, segment.id, int(state.generation))
    try:
        with storage_errors(), transaction() as tx:
            if belongs:
                tx.save(Member.of(tenant, segment.id, int(state.generation), contact), Member.PK.does_not_exist())
            else:
                tx.delete(Member(current, contact_id), condition=Member.PK.exists())
            tx.update(state, [SegmentState.member_count.add(1 if belongs else -1)])
    except TransactWriteError:
        moved = 0  # already where it belongs
    else:
        moved = 1
    if state.pending_generation is not None:
        with storage_errors():
            if belongs:
                Member.of(tenant, segment.id, int(state.pending_generation), contact).save()
            else:
                Member(Member.partition(tenant, segment.id, int(state.pending_generation)), contact_id).delete()
    return moved
