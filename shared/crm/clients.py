"""Client accounts: ``T#<t>#CLIENT#<id>`` / ``CLIENT``; all of a tenant's: GSI1 ``T#<t>#CLIENTS`` (by id).
A portal user sees only its own client."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints
from pynamodb.attributes import ListAttribute, UnicodeAttribute

from shared.caller import TenantContext
from shared.db.entities import Entity, LocationAttribute, insert
from shared.db.pages import Page, query_page
from shared.db.table import tkey
from shared.schemas import Audited, Location, Name, Strict, Tags

CustomerType = Annotated[str, StringConstraints(max_length=30, pattern=r"^[a-z][a-z0-9_]{0,29}$")]


class Client(Entity, discriminator="client"):
    noun, prefix = "client", "CLIENT"
    name = UnicodeAttribute()
    customer_type = UnicodeAttribute(default="standard")
    address = UnicodeAttribute(null=True)
    location = LocationAttribute(null=True)
    tags = ListAttribute(of=UnicodeAttribute, default=list)

    @staticmethod
    def partition_of_all(tenant_id: str) -> str:
        return tkey(tenant_id, "CLIENTS")

    def index(self) -> None:
        self.GSI1PK, self.GSI1SK = self.partition_of_all(self.tenant_id), self.id

    def visible_to(self, ctx: TenantContext) -> bool:
        return not ctx.is_portal or self.id == ctx.client_id


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


def create(ctx: TenantContext, body: NewClient) -> Client:
    fields = body.model_dump(exclude={"location"})
    return insert(Client.new(ctx, **fields, location=LocationAttribute.of(body.location)))


def page(ctx: TenantContext, *, limit: int, cursor: str | None) -> Page[Client]:
    if ctx.is_portal:
        return Page([Client.load(ctx, ctx.client_id or "")], None)
    partition = Client.partition_of_all(ctx.tenant_id)
    return query_page(Client.gsi1, partition, ctx.tenant_id, "clients", limit=limit, cursor=cursor)
