"""Contacts of client accounts: ``T#<t>#CONTACT#<id>`` / ``CONTACT``; all of a tenant's: GSI1
``T#<t>#CONTACTS``; a client's: GSI2 ``T#<t>#CLIENT#<client>#CONTACTS`` (both by id); by email address
(email-to-ticket): GSI3 ``T#<t>#CONTACTEMAIL#<lowercased address>``. A portal user sees
only its client's."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints
from pynamodb.attributes import UnicodeAttribute

from shared.caller import TenantContext
from shared.crm.clients import Client
from shared.db.entities import Entity, Requires, insert
from shared.db.errors import storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import tkey
from shared.errors import Unprocessable
from shared.schemas import Audited, Email, Id, Name, Strict

Phone = Annotated[str, StringConstraints(max_length=31, pattern=r"^\+?[0-9 ()./-]{3,30}$")]


class Contact(Entity, discriminator="contact"):
    noun, prefix = "contact", "CONTACT"
    client_id = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    portal_user_id = UnicodeAttribute(null=True)

    @staticmethod
    def partition_of_all(tenant_id: str) -> str:
        return tkey(tenant_id, "CONTACTS")

    @staticmethod
    def partition_of_client(tenant_id: str, client_id: str) -> str:
        return tkey(tenant_id, "CLIENT", client_id, "CONTACTS")

    @staticmethod
    def partition_of_email(tenant_id: str, email: str) -> str:
        return tkey(tenant_id, "CONTACTEMAIL", email.lower())

    def index(self) -> None:
        self.GSI1PK, self.GSI1SK = self.partition_of_all(self.tenant_id), self.id
        self.GSI2PK, self.GSI2SK = self.partition_of_client(self.tenant_id, self.client_id), self.id
        self.GSI3PK, self.GSI3SK = (
            (self.partition_of_email(self.tenant_id, self.email), self.id) if self.email else (None, None)
        )

    def visible_to(self, ctx: TenantContext) -> bool:
        return not ctx.is_portal or self.client_id == ctx.client_id


class NewContact(Strict):
    client_id: Id
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    portal_user_id: Id | None = None


class ContactOut(Audited):
    id: str
    client_id: str
    name: str
    email: str | None
    phone: str | None
    portal_user_id: str | None


def create(ctx: TenantContext, body: NewContact) -> Contact:
    client = Requires(
        Client,
        Client.key(ctx.tenant_id, body.client_id),
        Client.PK.exists(),
        Unprocessable.field("client_id", "No such client."),
    )
    return insert(Contact.new(ctx, **body.model_dump()), requires=client)


def by_email(tenant_id: str, email: str) -> list[Contact]:
    """The contacts with this address (case-insensitive), oldest first: one Query of GSI3 (at most 10)."""
    with storage_errors():
        return list(Contact.gsi3.query(Contact.partition_of_email(tenant_id, email), limit=10))


def page(ctx: TenantContext, *, client_id: str | None, limit: int, cursor: str | None) -> Page[Contact]:
    client_id = ctx.client_id if ctx.is_portal else client_id
    if client_id:
        partition = Contact.partition_of_client(ctx.tenant_id, client_id)
        return query_page(Contact.gsi2, partition, ctx.tenant_id, f"contacts:{client_id}", limit=limit, cursor=cursor)
    partition = Contact.partition_of_all(ctx.tenant_id)
    return query_page(Contact.gsi1, partition, ctx.tenant_id, "contacts", limit=limit, cursor=cursor)
