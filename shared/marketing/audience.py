"""Contacts as segments see them: a profile of the contact, its client account and both one's tags, built
for one contact (the stream consumer) or for a page of contacts at a time (refresh, preview), reading in
proportion to the contacts read: the page, a BatchGetItem of its clients not yet seen, and once per run the
applications of each tag the criteria test for."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from shared.crm.clients import Client
from shared.crm.contacts import Contact
from shared.db.errors import storage_errors
from shared.db.table import Item
from shared.marketing import criteria, entity_tags

CHUNK = 500  # contacts per page read


def profile(contact: Contact, client: Client | None, contact_tags: set[str], client_tags: set[str]) -> dict[str, Any]:
    """Field -> value for every field of the catalog (``criteria.FIELDS``)."""
    return {
        "contact.name": contact.name,
        "contact.email": contact.email,
        "contact.phone": contact.phone,
        "contact.created_at": contact.created_at,
        "contact.tags": contact_tags,
        "client.id": contact.client_id,
        "client.name": client.name if client else None,
        "client.customer_type": client.customer_type if client else None,
        "client.address": client.address if client else None,
        "client.created_at": client.created_at if client else None,
        "client.tags": client_tags,
    }


def profile_of(contact: Contact) -> dict[str, Any]:
    """One contact's full profile: its client and both tag sets (three reads)."""
    tenant = contact.tenant_id
    client = Client.find(tenant, contact.client_id)
    return profile(
        contact,
        client,
        entity_tags.tags_of(tenant, "contact", contact.id),
        entity_tags.tags_of(tenant, "client", contact.client_id),
    )


@dataclass
class Reader:
    """Profiles of a tenant's contacts, a page at a time, for one criteria tree."""

    tenant_id: str
    tree: criteria.Group
    clients: dict[str, Client | None] = field(default_factory=dict)
    tagged: dict[str, set[tuple[str, str]]] | None = None

    def page(self, start: dict[str, Any] | None, limit: int = CHUNK) -> tuple[list[Contact], dict | None]:
        """A page of contacts by id from ``start`` (a last evaluated key), and the key to go on from."""
        with storage_errors():
            result = Contact.gsi1.query(
                Contact.partition_of_all(self.tenant_id), limit=limit, page_size=limit, last_evaluated_key=start
            )
            contacts = list(result)
        return contacts, result.last_evaluated_key

    def matching(self, contacts: list[Contact], at) -> Iterator[Contact]:
        """Those of ``contacts`` the tree selects."""
        if self.tagged is None:
            self.tagged = {t: entity_tags.tagged_with(self.tenant_id, t) for t in criteria.tag_ids(self.tree)}
        missing = {c.client_id for c in contacts} - set(self.clients)
        if missing:
            keys = [Client.key(self.tenant_id, client_id) for client_id in missing]
            with storage_errors():
                found = {item.id: item for item in Item.batch_get(keys) if isinstance(item, Client)}
            self.clients.update({client_id: found.get(client_id) for client_id in missing})
        for contact in contacts:
            tags = {t for t, ids in self.tagged.items() if ("contact", contact.id) in ids}
            client_tags = {t for t, ids in self.tagged.items() if ("client", contact.client_id) in ids}
            seen = profile(contact, self.clients.get(contact.client_id), tags, client_tags)
            if criteria.matches(self.tree, seen, at):
                yield contact
