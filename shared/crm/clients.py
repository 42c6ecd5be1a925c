"""Client accounts and their contacts."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints
from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import TransactWriteError

from shared.caller import TenantContext
from shared.clock import now
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import Item, get_or_404, get_or_none, tkey, transaction
from shared.errors import NotFound, Unprocessable
from shared.ids import new_id
from shared.schemas import Audited, Email, Id, Location, Name, Strict, Tags

CustomerType = Annotated[str, StringConstraints(max_length=30, pattern=r"^[a-z][a-z0-9_]{0,29}$")]
Phone = Annotated[str, StringConstraints(max_length=31, pattern=r"^\+?[0-9 ()./-]{3,30}$")]


class LocationAttribute(MapAttribute):
    lat = NumberAttribute()
    lng = NumberAttribute()


class Client(Item, discriminator="client"):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    customer_type = UnicodeAttribute(default="standard")
    address = UnicodeAttribute(null=True)
    location = LocationAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @staticmethod
    def key(tenant_id: str, client_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "CLIENT", client_id), "CLIENT"


class Contact(Item, discriminator="contact"):
    id = UnicodeAttribute()
    client_id = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    portal_user_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = VersionAttribute()

    @staticmethod
    def key(tenant_id: str, contact_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "CONTACT", contact_id), "CONTACT"


class NewClient(Strict):
    name: Name
    customer_type: CustomerType = "standard"
    address: Annotated[str, StringConstraints(max_length=500)] | None = None
    location: Location | None = None
    tags: Tags = Field(default_factory=list)


class ClientOut(Audited):
    id: str
    name: str
    customer_type: str
    address: str | None
    location: Location | None
    tags: list[str]


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


def create_client(ctx: TenantContext, body: NewClient) -> Client:
    client_id = new_id()
    moment = now()
    client = Client(
        *Client.key(ctx.tenant_id, client_id),
        tenant_id=ctx.tenant_id,
        id=client_id,
        name=body.name,
        customer_type=body.customer_type,
        address=body.address,
        location=LocationAttribute(**body.location.model_dump()) if body.location else None,
        tags=body.tags,
        created_at=moment,
        updated_at=moment,
        updated_by=ctx.user_id,
        GSI1PK=tkey(ctx.tenant_id, "CLIENTS"),
        GSI1SK=client_id,
    )
    with storage_errors():
        client.save(condition=Client.PK.does_not_exist())
    return client


def get_client(ctx: TenantContext, client_id: str) -> Client:
    if ctx.is_portal and client_id != ctx.client_id:
        raise NotFound("No such client.")
    return get_or_404(Client, Client.key(ctx.tenant_id, client_id), "client")


def list_clients(ctx: TenantContext, *, limit: int, cursor: str | None) -> Page[Client]:
    if ctx.is_portal:
        return Page([get_client(ctx, ctx.client_id or "")], None)
    with storage_errors():
        return query_page(
            Client.gsi1.query,
            hash_key=tkey(ctx.tenant_id, "CLIENTS"),
            tenant_id=ctx.tenant_id,
            query_name="clients",
            cursor=cursor,
            limit=limit,
        )


def create_contact(ctx: TenantContext, body: NewContact) -> Contact:
    contact_id = new_id()
    moment = now()
    contact = Contact(
        *Contact.key(ctx.tenant_id, contact_id),
        tenant_id=ctx.tenant_id,
        id=contact_id,
        client_id=body.client_id,
        name=body.name,
        email=body.email,
        phone=body.phone,
        portal_user_id=body.portal_user_id,
        created_at=moment,
        updated_at=moment,
        updated_by=ctx.user_id,
        GSI1PK=tkey(ctx.tenant_id, "CONTACTS"),
        GSI1SK=contact_id,
        GSI2PK=tkey(ctx.tenant_id, "CLIENT", body.client_id, "CONTACTS"),
        GSI2SK=contact_id,
    )
    client_pk, client_sk = Client.key(ctx.tenant_id, body.client_id)
    try:
        with storage_errors(), transaction() as tx:
            tx.condition_check(Client, client_pk, client_sk, condition=Client.PK.exists())
            tx.save(contact, condition=Contact.PK.does_not_exist())
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            raise Unprocessable.field("client_id", "No such client.") from None
        raise
    return contact


def list_contacts(ctx: TenantContext, *, client_id: str | None, limit: int, cursor: str | None) -> Page[Contact]:
    if ctx.is_portal:
        client_id = ctx.client_id
    with storage_errors():
        if client_id:
            return query_page(
                Contact.gsi2.query,
                hash_key=tkey(ctx.tenant_id, "CLIENT", client_id, "CONTACTS"),
                tenant_id=ctx.tenant_id,
                query_name=f"contacts:{client_id}",
                cursor=cursor,
                limit=limit,
            )
        return query_page(
            Contact.gsi1.query,
            hash_key=tkey(ctx.tenant_id, "CONTACTS"),
            tenant_id=ctx.tenant_id,
            query_name="contacts",
            cursor=cursor,
            limit=limit,
        )


def get_contact(ctx: TenantContext, contact_id: str) -> Contact:
    with storage_errors():
        contact = get_or_none(Contact, Contact.key(ctx.tenant_id, contact_id))
    if contact is None or (ctx.is_portal and contact.client_id != ctx.client_id):
        raise NotFound("No such contact.")
    return contact
