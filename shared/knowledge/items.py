"""Knowledge items and their versions: write, edit, read, list, diff, restore, archive, verify.

Every saved edit of the content is an immutable version written in the same transaction as the item (which
carries the current content): an item and its versions never disagree. Editing a published item makes a
new draft; the live copy (``PublishedItem``) stays as it was until the next publish. Portal users read only
live copies of public items: another item, or one that is not published, is the same 404 as a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition

from shared.caller import TenantContext
from shared.clock import now
from shared.db.entities import changed_meanwhile, expect_version, require_state, touch
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import Item, get_or_none, transaction
from shared.directory import active_staff
from shared.errors import Conflict, DomainError, NotFound, PayloadTooLarge, Unprocessable
from shared.ids import new_id
from shared.knowledge.model import (
    MAX_BODY_BYTES,
    ItemVersion,
    KnowledgeItem,
    PublishedItem,
    ReviewEvent,
    partition,
)
from shared.knowledge.schemas import CONTENT, DiffOut, Hunk, ItemEdit, NewItem, Restore, VersionOut, VersionSummaryOut

NO_ITEM = "No such knowledge item."


# ---- writing -----------------------------------------------------------------------------------


@dataclass
class Write:
    """One transaction: the item (conditioned on the version read, or on not existing) and what goes with it."""

    item: KnowledgeItem
    new: bool = False
    puts: list[Item] = field(default_factory=list)
    deletes: list[Item] = field(default_factory=list)
    requires: list[tuple[Any, DomainError]] = field(default_factory=list)  # (a directory.Requires, its error)
    condition: Condition | None = None


def commit(ctx: TenantContext, write: Write) -> KnowledgeItem:
    item = write.item
    touch(ctx, item)
    condition = KnowledgeItem.PK.does_not_exist() if write.new else write.condition
    conflict = "This knowledge item already exists." if write.new else changed_meanwhile(item)
    try:
        with storage_errors(conflict), transaction() as tx:
            tx.save(item, condition=condition)
            for extra in write.puts:
                tx.save(extra, condition=type(extra).PK.does_not_exist() if isinstance(extra, ItemVersion) else None)
            for gone in write.deletes:
                tx.delete(gone)
            for requires, _error in write.requires:
                tx.condition_check(requires.model, *requires.key, condition=requires.condition)
    except TransactWriteError as error:
        # PynamoDB sends condition checks first, then deletes, then puts (the item first of them)
        for index, (_requires, failure) in enumerate(write.requires):
            if cancelled_by_condition(error, index):
                raise failure from None
        puts = len(write.requires) + len(write.deletes)
        if cancelled_by_condition(error, puts):
            raise Conflict(conflict, current_version=None if write.new else _current(ctx, item)) from None
        if any(cancelled_by_condition(error, puts + 1 + i) for i in range(len(write.puts))):
            raise Conflict(changed_meanwhile(item)) from None
        raise
    return item


def _current(ctx: TenantContext, item: KnowledgeItem) -> int | None:
    found = KnowledgeItem.find(ctx.tenant_id, item.id)
    return int(found.version) if found else None


def staff_member(ctx: TenantContext, user_id: str, field_name: str) -> tuple[Any, DomainError]:
    requires = active_staff(ctx.tenant_id, user_id, field_name)
    return requires, requires.error


def check_body(body: str | None) -> None:
    if body is not None and len(body.encode()) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"A body is limited to {MAX_BODY_BYTES} bytes of Markdown.", limit=MAX_BODY_BYTES)


def event(ctx: TenantContext, item: KnowledgeItem, action: str, **fields: Any) -> ReviewEvent:
    at = now()
    return ReviewEvent(
        partition(ctx.tenant_id, item.id),
        f"{ReviewEvent.prefix()}{at.isoformat()}#{new_id()}",
        tenant_id=ctx.tenant_id,
        item_id=item.id,
        action=action,
        actor_id=ctx.user_id,
        version_number=int(fields.pop("version_number", item.current_version)),
        at=at,
        updated_by=ctx.user_id,
        **fields,
    )


def _version_of(ctx: TenantContext, item: KnowledgeItem, number: int, **extra: Any) -> ItemVersion:
    return ItemVersion(
        *ItemVersion.key(ctx.tenant_id, item.id, number),
        tenant_id=ctx.tenant_id,
        item_id=item.id,
        number=number,
        title=item.title,
        kind=item.kind,
        category=item.category,
        tags=list(item.tags or []),
        body=item.body,
        author_id=ctx.user_id,
        created_at=now(),
        updated_by=ctx.user_id,
        **extra,
    )


def create(ctx: TenantContext, body: NewItem) -> KnowledgeItem:
    check_body(body.body)
    owner_id = body.owner_id or ctx.user_id
    fields = body.model_dump(exclude={"owner_id", "change_note"})
    item = KnowledgeItem.new(ctx, **fields, owner_id=owner_id, status="draft", current_version=1)
    requires = [staff_member(ctx, owner_id, "owner_id")] if body.owner_id else []
    version = _version_of(ctx, item, 1, change_note=body.change_note)
    return commit(ctx, Write(item, new=True, puts=[version, event(ctx, item, "created")], requires=requires))


def edit(ctx: TenantContext, item_id: str, patch: ItemEdit, if_match: int | None) -> KnowledgeItem:
    """Settings change the item; content makes version n+1 and a draft (a review under way ends: what was
    reviewed is not what would be published). The live copy follows a change of visibility at once."""
    item = load(ctx, item_id)
    expect_version(item, patch.version, if_match)
    require_state(item, ("draft", "in_review", "approved", "published"), "edited")
    check_body(patch.body)
    changes = patch.model_dump(exclude_unset=True, exclude={"version", "change_note"})
    for name in ("title", "kind", "body", "tags", "visibility", "owner_id"):
        if name in changes and changes[name] is None:
            raise Unprocessable.field(name, "May not be null.")
    content = {k: v for k, v in changes.items() if k in CONTENT and v != _value(item, k)}
    write = Write(item)
    for name, value in changes.items():
        setattr(item, name, value)
    if content:
        item.current_version = int(item.current_version) + 1
        item.status = "draft"
        end_review(item)
        write.puts.append(_version_of(ctx, item, int(item.current_version), change_note=patch.change_note))
    if "owner_id" in changes:
        write.requires.append(staff_member(ctx, item.owner_id, "owner_id"))
    if "visibility" in changes and item.published_version is not None:
        live = get_or_none(PublishedItem, PublishedItem.key(ctx.tenant_id, item.id))
        if live is not None and live.visibility != item.visibility:
            live.visibility = item.visibility
            live.index()
            write.puts.append(live)
    return commit(ctx, write)


def _value(item: KnowledgeItem, name: str) -> Any:
    value = getattr(item, name)
    return list(value or []) if name == "tags" else value


def end_review(item: KnowledgeItem) -> None:
    item.reviewers = item.review_step = item.review_version = item.approved_version = None


def restore(ctx: TenantContext, item_id: str, number: int, body: Restore, if_match: int | None) -> KnowledgeItem:
    """Version n's content as a new version (n+1 of the item's count), a draft."""
    item = load(ctx, item_id)
    expect_version(item, body.version, if_match)
    require_state(item, ("draft", "in_review", "approved", "published"), "edited")
    old = version(ctx, item_id, number)
    for name in CONTENT:
        setattr(item, name, list(old.tags or []) if name == "tags" else getattr(old, name))
    item.current_version = int(item.current_version) + 1
    item.status = "draft"
    end_review(item)
    note = body.change_note or f"Restored version {number}."
    made = _version_of(ctx, item, int(item.current_version), change_note=note, restored_from=number)
    return commit(ctx, Write(item, puts=[made]))


def archive(ctx: TenantContext, item_id: str, if_match: int | None) -> KnowledgeItem:
    """Out of every list and search but the staff's archived filter; the live copy goes at once."""
    item = load(ctx, item_id)
    expect_version(item, if_match, required=False)
    require_state(item, ("draft", "in_review", "approved", "published"), "archived")
    item.status = "archived"
    end_review(item)
    write = Write(item, puts=[event(ctx, item, "archived")])
    live = get_or_none(PublishedItem, PublishedItem.key(ctx.tenant_id, item.id))
    if live is not None:
        write.deletes.append(live)
    return commit(ctx, write)


def unarchive(ctx: TenantContext, item_id: str, if_match: int | None) -> KnowledgeItem:
    """Back as a draft of its current version; it is live again once published again."""
    item = load(ctx, item_id)
    expect_version(item, if_match, required=False)
    require_state(item, ("archived",), "unarchived")
    item.status, item.published_version, item.published_at = "draft", None, None
    return commit(ctx, Write(item, puts=[event(ctx, item, "unarchived")]))


def verify(ctx: TenantContext, item_id: str, if_match: int | None) -> KnowledgeItem:
    """The owner (or anyone on the staff) confirms the item is still right: its next review falls due a whole
    interval from now."""
    item = load(ctx, item_id)
    expect_version(item, if_match, required=False)
    require_state(item, ("draft", "in_review", "approved", "published"), "verified")
    if item.review_every_days is None:
        raise Conflict("This knowledge item has no review interval; set review_every_days first.")
    item.verified_at = now()
    return commit(ctx, Write(item, puts=[event(ctx, item, "verified")]))


# ---- reading -----------------------------------------------------------------------------------


def load(ctx: TenantContext, item_id: str) -> KnowledgeItem:
    """Staff only: the item as it is now."""
    with storage_errors():
        return KnowledgeItem.load(ctx, item_id)


def live(ctx: TenantContext, item_id: str) -> PublishedItem:
    """What a portal user may read of an item: its live copy, if public. Anything else: not found."""
    found = _live_public(ctx.tenant_id, item_id)
    if found is None:
        raise NotFound(NO_ITEM)
    return found


def read(ctx: TenantContext, item_id: str) -> KnowledgeItem | PublishedItem:
    return live(ctx, item_id) if ctx.is_portal else load(ctx, item_id)


def is_live_public(tenant_id: str, item_id: str) -> bool:
    """Whether portal users of the tenant may read the item (and so its public attachments)."""
    return _live_public(tenant_id, item_id) is not None


def _live_public(tenant_id: str, item_id: str) -> PublishedItem | None:
    found = get_or_none(PublishedItem, PublishedItem.key(tenant_id, item_id))
    return found if found is not None and found.is_public else None


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    kind: str | None = None
    category: str | None = None
    tag: str | None = None
    due_for_review: bool = False


def page(ctx: TenantContext, filters: Filters, *, limit: int, cursor: str | None) -> Page[Any]:
    """One Query: the tenant's items newest first (GSI1), or those of a status (GSI2), or those due for review
    (GSI3, soonest due first, up to now); portal users: live public copies (their GSI1). Kind, category and
    tag filter the page (a filter expression: a page may hold fewer than ``limit``)."""
    name = f"knowledge:{filters}"
    if ctx.is_portal and (filters.status not in (None, "published") or filters.due_for_review):
        return Page([], None)  # portal users see published items only, and nothing of their verification
    if ctx.is_portal:
        narrowing = _narrowing(PublishedItem, filters)
        return query_page(
            PublishedItem.gsi1,
            PublishedItem.public_partition(ctx.tenant_id),
            ctx.tenant_id,
            name + ":portal",
            limit=limit,
            cursor=cursor,
            newest_first=True,
            filter_condition=narrowing,
        )
    narrowing = _narrowing(KnowledgeItem, filters)
    if filters.due_for_review:
        due = KnowledgeItem.gsi3
        if filters.status is not None:
            status = KnowledgeItem.status == filters.status
            narrowing = status if narrowing is None else narrowing & status
        return query_page(
            due,
            KnowledgeItem.review_due_partition(ctx.tenant_id),
            ctx.tenant_id,
            name,
            limit=limit,
            cursor=cursor,
            range_key_condition=now().isoformat() + "~" >= KnowledgeItem.GSI3SK,
            filter_condition=narrowing,
        )
    if filters.status is not None:
        index, key = KnowledgeItem.gsi2, KnowledgeItem.status_partition(ctx.tenant_id, filters.status)
    else:
        index, key = KnowledgeItem.gsi1, KnowledgeItem.all_partition(ctx.tenant_id)
    return query_page(
        index, key, ctx.tenant_id, name, limit=limit, cursor=cursor, newest_first=True, filter_condition=narrowing
    )


def _narrowing(model: Any, filters: Filters) -> Condition | None:
    conditions = []
    if filters.kind is not None:
        conditions.append(model.kind == filters.kind)
    if filters.category is not None:
        conditions.append(model.category == filters.category)
    if filters.tag is not None:
        conditions.append(model.tags.contains(filters.tag))
    combined = None
    for condition in conditions:
        combined = condition if combined is None else combined & condition
    return combined


def versions(ctx: TenantContext, item_id: str, *, limit: int, cursor: str | None) -> Page[ItemVersion]:
    """One Query of the item's partition: every item has a version 1, so none is the 404 of a missing item."""
    found = _of_item(ctx, ItemVersion, item_id, "V#", limit=limit, cursor=cursor, newest_first=True)
    if not found.items and cursor is None:
        raise NotFound(NO_ITEM)
    return found


def _of_item(ctx: TenantContext, model: Any, item_id: str, prefix: str, **page: Any) -> Page[Any]:
    """A page of what the item's partition holds under ``prefix`` (versions, history events)."""
    name = f"knowledge:{item_id}:{prefix}"
    key = partition(ctx.tenant_id, item_id)
    return query_page(model, key, ctx.tenant_id, name, range_key_condition=model.SK.startswith(prefix), **page)


def version(ctx: TenantContext, item_id: str, number: int) -> ItemVersion:
    """Version ``number`` of an item the caller has loaded (its tenant is in the key)."""
    found = get_or_none(ItemVersion, ItemVersion.key(ctx.tenant_id, item_id, number))
    if found is None:
        raise NotFound(f"No such knowledge item, or it has no version {number}.")
    return found


def version_with_diff(ctx: TenantContext, item_id: str, number: int, against: int | None) -> VersionOut:
    """Version n, and with ``against`` the changes from version ``against`` to it: one BatchGet (an item that is
    not the caller's has no versions: the same 404)."""
    numbers = [number] if against is None else [number, against]
    keys = [ItemVersion.key(ctx.tenant_id, item_id, n) for n in numbers]
    with storage_errors():
        found = {int(v.number): v for v in ItemVersion.batch_get(keys)}
    for n in numbers:
        if n not in found:
            raise NotFound(f"No such knowledge item, or it has no version {n}.")
    this = found[number]
    from shared.knowledge.rendering import to_html

    summary = VersionSummaryOut.of(this).model_dump()
    diff = None if against is None else diff_of(found[against], this)
    return VersionOut(**summary, body=this.body, body_html=to_html(this.body), diff=diff)


def diff_of(old: ItemVersion, new: ItemVersion) -> DiffOut:
    import difflib  # only a diff needs it (the cold start of every other route)

    a, b = old.body.splitlines(), new.body.splitlines()
    unified = "\n".join(
        difflib.unified_diff(a, b, f"version {int(old.number)}", f"version {int(new.number)}", lineterm="")
    )
    hunks = [
        Hunk(op=op, old_start=i1 + 1, old_lines=a[i1:i2], new_start=j1 + 1, new_lines=b[j1:j2])
        for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
        if op != "equal"
    ]
    return DiffOut(against=int(old.number), title_changed=old.title != new.title, unified=unified, hunks=hunks)


def history(ctx: TenantContext, item_id: str, *, limit: int, cursor: str | None) -> Page[ReviewEvent]:
    """One Query: every item's history begins with its creation, so none is the 404 of a missing item."""
    found = _of_item(ctx, ReviewEvent, item_id, ReviewEvent.prefix(), limit=limit, cursor=cursor)
    if not found.items and cursor is None:
        raise NotFound(NO_ITEM)
    return found


def unique(values: Sequence[str]) -> bool:
    return len(set(values)) == len(values)
