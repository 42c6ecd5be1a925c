"""Tags (``/marketing/tags``): a name unique per tenant ignoring case, a colour, a description.

``T#<t>#TAG#<id>`` / ``TAG``; all of a tenant's by name: GSI1 ``T#<t>#TAGS`` / ``<name folded>#<id>``. The name
is held by a guard item ``T#<t>#TAGNAME#<name folded>`` / ``TAGNAME`` written in the same transaction as the
tag, so two tags can never share a name, even when created at the same moment. Deleting a tag deletes it and
its guard at once; its applications are removed in the background (``functions/events/marketing_cleanup.py``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints
from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import TransactWriteError

from shared.caller import TenantContext
from shared.db.entities import Entity, apply_patch, changed_meanwhile, expect_version, touch
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import Item, tkey, transaction
from shared.errors import Conflict
from shared.schemas import Audited, Colour, Name, Strict, Versioned

Description = Annotated[str, StringConstraints(max_length=1000)]
TAKEN = "A tag with this name already exists."


class Tag(Entity, discriminator="tag"):
    noun, prefix = "tag", "TAG"
    name = UnicodeAttribute()
    colour = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)

    @staticmethod
    def partition_of_all(tenant_id: str) -> str:
        return tkey(tenant_id, "TAGS")

    def index(self) -> None:
        self.GSI1PK, self.GSI1SK = self.partition_of_all(self.tenant_id), f"{self.name.casefold()}#{self.id}"


class TagName(Item, discriminator="tag_name"):
    """Holds a tag's name for its tenant (ignoring case)."""

    tag_id = UnicodeAttribute()

    @staticmethod
    def key(tenant_id: str, name: str) -> tuple[str, str]:
        return tkey(tenant_id, "TAGNAME", name.casefold()), "TAGNAME"


class NewTag(Strict):
    name: Name = Field(examples=["vip"])
    colour: Colour | None = Field(default=None, examples=["#aa3300"])
    description: Description | None = None


class TagPatch(Versioned):
    name: Name | None = None
    colour: Colour | None = None
    description: Description | None = None


class TagOut(Audited):
    id: str
    name: str
    colour: str | None
    description: str | None


def create(ctx: TenantContext, body: NewTag) -> Tag:
    tag = Tag.new(ctx, **body.model_dump())
    tag.index()
    guard = TagName(*TagName.key(ctx.tenant_id, tag.name), tenant_id=ctx.tenant_id, tag_id=tag.id)
    _write(lambda tx: (tx.save(guard, condition=TagName.PK.does_not_exist()), tx.save(tag)), name_at=0)
    return tag


def page(ctx: TenantContext, *, limit: int, cursor: str | None) -> Page[Tag]:
    return query_page(Tag.gsi1, Tag.partition_of_all(ctx.tenant_id), ctx.tenant_id, "tags", limit=limit, cursor=cursor)


def update(ctx: TenantContext, tag_id: str, patch: TagPatch, if_match: int | None) -> Tag:
    tag = Tag.load(ctx, tag_id)
    expect_version(tag, patch.version, if_match)
    old_name = tag.name
    apply_patch(tag, patch, nullable={"colour", "description"})
    touch(ctx, tag)  # each save below is conditioned on the version read
    if old_name.casefold() == tag.name.casefold():
        _write(lambda tx: tx.save(tag), name_at=None)
        return tag
    guard = TagName(*TagName.key(ctx.tenant_id, tag.name), tenant_id=ctx.tenant_id, tag_id=tag.id)
    old_guard = TagName(*TagName.key(ctx.tenant_id, old_name))
    _write(
        lambda tx: (
            tx.save(guard, condition=TagName.PK.does_not_exist()),
            tx.delete(old_guard),
            tx.save(tag),
        ),
        name_at=0,
    )
    return tag


def delete(ctx: TenantContext, tag_id: str, if_match: int | None) -> None:
    """Delete the tag and free its name; its applications go in the background."""
    tag = Tag.load(ctx, tag_id)
    expect_version(tag, if_match, required=False)
    guard = TagName(*TagName.key(ctx.tenant_id, tag.name))
    _write(lambda tx: (tx.delete(guard), tx.delete(tag)), name_at=None)


def _write(build, *, name_at: int | None) -> None:
    """Run the transaction ``build`` fills; the guard at ``name_at`` failing means the name is taken."""
    try:
        with storage_errors(), transaction() as tx:
            build(tx)
    except TransactWriteError as error:
        if name_at is not None and cancelled_by_condition(error, name_at):
            raise Conflict(TAKEN) from None
        if any(r is not None and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []):
            raise Conflict(changed_meanwhile(Tag)) from None
        raise
