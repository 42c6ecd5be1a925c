"""Tags applied to clients, contacts and tickets (``/marketing/entity-tags``).

``T#<t>#TAGGED#<kind>#<entity>`` / ``TAG#<tag>``: an entity's tags in one Query; a tag's entities: GSI1
``T#<t>#TAG#<tag>#ENTITIES`` / ``<kind>#<entity>``. Applying one is a transaction that checks the tag and the
entity exist (in the caller's tenant: another tenant's id is missing like any other). Bulk calls take up to
1,000 entities, answer per entity (``applied``/``already``/``not_found``; ``removed``/``absent``/``not_found``)
and are idempotent: a repeated call changes nothing and says ``already``/``absent``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field
from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError

from shared.caller import TenantContext
from shared.clock import now
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import Item, get_or_none, tkey, transaction
from shared.errors import NotFound, Unprocessable
from shared.marketing.tags import Tag
from shared.schemas import Id, Out, Strict

Kind = Literal["client", "contact", "ticket"]
# kind -> the key prefix of its entity (``Client``, ``Contact``, ``Ticket``; not imported: a ticket's module is heavy,
# and existence is all that is checked here)
KINDS = {"client": "CLIENT", "contact": "CONTACT", "ticket": "TICKET"}
MAX_BULK = 1000
NO_TAG = "No such tag."


class EntityTag(Item, discriminator="entity_tag"):
    tag_id = UnicodeAttribute()
    entity_kind = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    applied_by = UnicodeAttribute(null=True)
    applied_at = UTCDateTimeAttribute()

    @staticmethod
    def key(tenant_id: str, tag_id: str, kind: str, entity_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "TAGGED", kind, entity_id), f"TAG#{tag_id}"

    @staticmethod
    def partition_of_tag(tenant_id: str, tag_id: str) -> str:
        return tkey(tenant_id, "TAG", tag_id, "ENTITIES")

    @classmethod
    def of(cls, ctx: TenantContext, tag_id: str, kind: str, entity_id: str, at: datetime) -> EntityTag:
        return cls(
            *cls.key(ctx.tenant_id, tag_id, kind, entity_id),
            tenant_id=ctx.tenant_id,
            tag_id=tag_id,
            entity_kind=kind,
            entity_id=entity_id,
            applied_by=ctx.user_id,
            applied_at=at,
            updated_by=ctx.user_id,
            GSI1PK=cls.partition_of_tag(ctx.tenant_id, tag_id),
            GSI1SK=f"{kind}#{entity_id}",
        )


class EntityRef(Strict):
    kind: Kind
    id: Id


class Application(Strict):
    tag_id: Id = Field(examples=["01JTAG0000000000000000000A"])
    entity_kind: Kind
    entity_id: Id


class Bulk(Strict):
    tag_id: Id
    entities: Annotated[list[EntityRef], Field(min_length=1, max_length=MAX_BULK)]


class EntityTagOut(Out):
    tag_id: str
    entity_kind: str
    entity_id: str
    applied_by: str | None
    applied_at: datetime


class Outcome(Out):
    kind: str
    id: str
    result: Literal["applied", "already", "removed", "absent", "not_found"]


class BulkOut(Out):
    tag_id: str
    results: list[Outcome]
    counts: dict[str, int]


# ---- one -----------------------------------------------------------------------------------------


def apply(ctx: TenantContext, body: Application) -> tuple[EntityTag, bool]:
    """Tag the entity; (the application, whether it is new). 422 when the tag or the entity is missing."""
    applied = EntityTag.of(ctx, body.tag_id, body.entity_kind, body.entity_id, now())
    try:
        with storage_errors(), transaction() as tx:
            _check_both(tx, ctx, body)
            tx.save(applied, condition=EntityTag.PK.does_not_exist())
    except TransactWriteError as error:
        _refuse_missing(error, body)
        if cancelled_by_condition(error, 2):
            return _existing(ctx, body) or applied, False
        raise
    return applied, True


def remove(ctx: TenantContext, tag_id: str, kind: str, entity_id: str) -> None:
    """Untag the entity (nothing to do if it was not tagged); 404 when the tag or the entity is missing."""
    body = Application(tag_id=tag_id, entity_kind=kind, entity_id=entity_id)  # type: ignore[arg-type]
    key = EntityTag.key(ctx.tenant_id, tag_id, kind, entity_id)
    try:
        with storage_errors(), transaction() as tx:
            _check_both(tx, ctx, body)
            tx.delete(EntityTag(*key))
    except TransactWriteError as error:
        for index, what in ((0, NO_TAG), (1, f"No such {kind}.")):
            if cancelled_by_condition(error, index):
                raise NotFound(what) from None
        raise


def entity_key(tenant_id: str, kind: str, entity_id: str) -> tuple[str, str]:
    return tkey(tenant_id, KINDS[kind], entity_id), KINDS[kind]


def _check_both(tx, ctx: TenantContext, body: Application) -> None:
    tx.condition_check(Tag, *Tag.key(ctx.tenant_id, body.tag_id), condition=Tag.PK.exists())
    key = entity_key(ctx.tenant_id, body.entity_kind, body.entity_id)
    tx.condition_check(Item, *key, condition=Item.PK.exists())


def _refuse_missing(error: TransactWriteError, body: Application) -> None:
    if cancelled_by_condition(error, 0):
        raise Unprocessable.field("tag_id", NO_TAG) from None
    if cancelled_by_condition(error, 1):
        raise Unprocessable.field("entity_id", f"No such {body.entity_kind}.") from None


def _existing(ctx: TenantContext, body: Application) -> EntityTag | None:
    return get_or_none(EntityTag, EntityTag.key(ctx.tenant_id, body.tag_id, body.entity_kind, body.entity_id))


# ---- many ----------------------------------------------------------------------------------------


def bulk_apply(ctx: TenantContext, body: Bulk) -> BulkOut:
    refs, found, tagged = _survey(ctx, body)
    at, results = now(), []
    with storage_errors(), EntityTag.batch_write() as batch:
        for kind, entity_id in refs:
            if (kind, entity_id) not in found:
                results.append(Outcome(kind=kind, id=entity_id, result="not_found"))
            elif (kind, entity_id) in tagged:
                results.append(Outcome(kind=kind, id=entity_id, result="already"))
            else:
                batch.save(EntityTag.of(ctx, body.tag_id, kind, entity_id, at))
                results.append(Outcome(kind=kind, id=entity_id, result="applied"))
    return _summary(body.tag_id, results)


def bulk_remove(ctx: TenantContext, body: Bulk) -> BulkOut:
    refs, found, tagged = _survey(ctx, body)
    results = []
    with storage_errors(), EntityTag.batch_write() as batch:
        for kind, entity_id in refs:
            if (kind, entity_id) not in found:
                results.append(Outcome(kind=kind, id=entity_id, result="not_found"))
            elif (kind, entity_id) in tagged:
                batch.delete(EntityTag(*EntityTag.key(ctx.tenant_id, body.tag_id, kind, entity_id)))
                results.append(Outcome(kind=kind, id=entity_id, result="removed"))
            else:
                results.append(Outcome(kind=kind, id=entity_id, result="absent"))
    return _summary(body.tag_id, results)


def _survey(ctx: TenantContext, body: Bulk) -> tuple[list[tuple[str, str]], set, set]:
    """The distinct entities named (in order), those that exist in the tenant, and those already tagged."""
    if get_or_none(Tag, Tag.key(ctx.tenant_id, body.tag_id)) is None:
        raise Unprocessable.field("tag_id", NO_TAG)
    refs = list(dict.fromkeys((e.kind, e.id) for e in body.entities))
    entity_keys = {entity_key(ctx.tenant_id, kind, entity_id): (kind, entity_id) for kind, entity_id in refs}
    found = {entity_keys[(item.PK, item.SK)] for item in _batch_get(entity_keys, keys_only=True)}
    tag_keys = {EntityTag.key(ctx.tenant_id, body.tag_id, *ref): ref for ref in found}
    tagged = {tag_keys[(item.PK, item.SK)] for item in _batch_get(tag_keys)}
    return refs, found, tagged


def _batch_get(keys: Iterable[tuple[str, str]], *, keys_only: bool = False) -> Iterator[Item]:
    with storage_errors():
        yield from Item.batch_get(list(keys), attributes_to_get=["PK", "SK"] if keys_only else None)


def _summary(tag_id: str, results: list[Outcome]) -> BulkOut:
    return BulkOut(tag_id=tag_id, results=results, counts=Counter(o.result for o in results))


# ---- reading -------------------------------------------------------------------------------------


def entities_page(ctx: TenantContext, tag_id: str, *, limit: int, cursor: str | None) -> Page[EntityTag]:
    """The entities carrying the tag (404 for a missing tag), by kind then id."""
    Tag.load(ctx, tag_id)
    partition = EntityTag.partition_of_tag(ctx.tenant_id, tag_id)
    return query_page(EntityTag.gsi1, partition, ctx.tenant_id, f"tag-entities:{tag_id}", limit=limit, cursor=cursor)


def tags_of(tenant_id: str, kind: str, entity_id: str) -> set[str]:
    """The ids of the tags on one entity (one Query)."""
    with storage_errors():
        return {t.tag_id for t in EntityTag.query(tkey(tenant_id, "TAGGED", kind, entity_id))}


def tagged_with(tenant_id: str, tag_id: str) -> set[tuple[str, str]]:
    """Every (kind, id) carrying the tag: a Query of its applications, page after page."""
    with storage_errors():
        return {
            (t.entity_kind, t.entity_id) for t in EntityTag.gsi1.query(EntityTag.partition_of_tag(tenant_id, tag_id))
        }


def remove_all(tenant_id: str, tag_id: str) -> int:
    """Delete every application of a (deleted) tag: reads and writes in proportion to them. Idempotent."""
    removed = 0
    with storage_errors(), EntityTag.batch_write() as batch:
        for applied in EntityTag.gsi1.query(EntityTag.partition_of_tag(tenant_id, tag_id)):
            batch.delete(EntityTag(applied.PK, applied.SK))
            removed += 1
    return removed
