"""Segments (``/marketing/segments``): ``dynamic`` ones select contacts by criteria, ``static`` ones hold the
contacts added by id.

Keys: the definition ``T#<t>#SEGMENT#<id>`` / ``SEGMENT`` (versioned; all of a tenant's: GSI1 ``T#<t>#SEGMENTS``
by creation; dynamic ones also GSI2 ``T#<t>#SEGMENTS#DYNAMIC``), its membership state in the same partition
(``STATE``: the generation readers see, the count, a refresh in progress) so that one Query reads both, and
its members ``T#<t>#SEGMENT#<id>#G#<generation>`` / ``<contact id>``. Readers only read the generation the
state names: a refresh writes a new generation beside it and switches in one write when it is complete
(``shared.marketing.refresh``). A tenant has at most ``MAX_DYNAMIC`` dynamic segments, so a contact's change is
re-evaluated against a bounded number of them (``shared.marketing.membership``)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field
from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError

from shared.caller import TenantContext
from shared.clock import now
from shared.crm.contacts import Contact
from shared.db.due import DueIndex, entry
from shared.db.entities import Entity, apply_patch, changed_meanwhile, expect_version, touch
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import Item, get_or_none, tkey, transaction
from shared.errors import Conflict, NotFound, Unprocessable
from shared.marketing import audience, counters, criteria
from shared.marketing.tags import Tag
from shared.schemas import Audited, Id, Name, Out, Strict, Versioned

MAX_DYNAMIC = 50  # dynamic segments per tenant: what one contact change is evaluated against
MAX_MEMBERS_CALL = 1000
PREVIEW_LIMIT = 50_000  # contacts a preview reads; past it the count is a lower bound
SAMPLE = 10
STATIC_GENERATION = 0
CRITERIA_EXAMPLE = {
    "match": "all",
    "conditions": [{"field": "client.customer_type", "operator": "equals", "value": "premium"}],
}


class Segment(Entity, discriminator="segment"):
    noun, prefix = "segment", "SEGMENT"
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    criteria = JSONAttribute(null=True)

    @staticmethod
    def partition_of_all(tenant_id: str) -> str:
        return tkey(tenant_id, "SEGMENTS")

    @staticmethod
    def partition_of_dynamic(tenant_id: str) -> str:
        return tkey(tenant_id, "SEGMENTS", "DYNAMIC")

    def index(self) -> None:
        self.GSI1PK, self.GSI1SK = self.partition_of_all(self.tenant_id), self.time_order
        if self.kind == "dynamic":
            self.GSI2PK, self.GSI2SK = self.partition_of_dynamic(self.tenant_id), self.id

    @property
    def tree(self) -> criteria.Group:
        return criteria.parse(self.criteria)


class SegmentState(Item, discriminator="segment_state"):
    """Who is in the segment as readers see it, and the refresh in progress (never versioned: the refresh,
    the stream consumer and the member calls each update only their own attributes)."""

    segment_id = UnicodeAttribute()
    generation = NumberAttribute(default=STATIC_GENERATION)
    member_count = NumberAttribute(default=0)
    refreshed_at = UTCDateTimeAttribute(null=True)
    pending_generation = NumberAttribute(null=True)  # being written by a refresh
    refresh_cursor = JSONAttribute(null=True)  # the last contact key the refresh has done
    cleanup_generation = NumberAttribute(null=True)  # replaced, its members being deleted
    DUEPK = UnicodeAttribute(null=True)  # dynamic ones: when the refresh job should next look at it
    DUESK = UnicodeAttribute(null=True)
    due = DueIndex()

    @staticmethod
    def key(tenant_id: str, segment_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "SEGMENT", segment_id), "STATE"

    @property
    def refreshing(self) -> bool:
        return self.pending_generation is not None


class DynamicCount(Item, discriminator="dynamic_segment_count"):
    count = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "SEGMENTS"), "DYNAMIC_COUNT"


class Member(Item, discriminator="segment_member"):
    contact_id = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute(null=True)

    @staticmethod
    def partition(tenant_id: str, segment_id: str, generation: int) -> str:
        return tkey(tenant_id, "SEGMENT", segment_id, "G", str(int(generation)))

    @classmethod
    def of(cls, tenant_id: str, segment_id: str, generation: int, contact: Contact) -> Member:
        return cls(
            cls.partition(tenant_id, segment_id, generation),
            contact.id,
            tenant_id=tenant_id,
            contact_id=contact.id,
            name=contact.name,
            email=contact.email,
        )


# ---- the API's models ----------------------------------------------------------------------------

Criteria = Annotated[
    dict[str, Any],
    Field(
        max_length=2,  # "match" and "conditions"; the tree's own bounds are checked by criteria.parse
        description="AND/OR groups of conditions: see GET /marketing/segments/fields.",
        examples=[CRITERIA_EXAMPLE],
    ),
]


class NewSegment(Strict):
    name: Name = Field(examples=["Premium clients' contacts"])
    kind: Literal["dynamic", "static"] = "dynamic"
    criteria: Criteria | None = None


class SegmentPatch(Versioned):
    name: Name | None = None
    criteria: Criteria | None = None


class Preview(Strict):
    criteria: Criteria


class ContactIds(Strict):
    contact_ids: Annotated[list[Id], Field(min_length=1, max_length=MAX_MEMBERS_CALL)]


class SegmentOut(Audited):
    id: str
    name: str
    kind: str
    criteria: dict[str, Any] | None
    member_count: int
    refreshed_at: datetime | None
    refreshing: bool

    @classmethod
    def of(cls, pair: tuple[Segment, SegmentState]) -> SegmentOut:  # type: ignore[override]
        segment, state = pair
        count, refreshing = int(state.member_count), state.refreshing
        return counters.body(cls, segment, member_count=count, refreshed_at=state.refreshed_at, refreshing=refreshing)


class MemberOut(Out):
    contact_id: str
    name: str
    email: str | None


class PreviewOut(Out):
    count: int
    count_is_lower_bound: bool
    contacts_read: int
    sample: list[MemberOut]


class MemberOutcome(Out):
    contact_id: str
    result: Literal["added", "already", "removed", "absent", "not_found"]


class MembersChanged(Out):
    results: list[MemberOutcome]
    counts: dict[str, int]


# ---- definitions ---------------------------------------------------------------------------------


def checked(ctx: TenantContext, raw: dict[str, Any] | None, kind: str) -> dict[str, Any] | None:
    """The criteria as stored: parsed against the catalog, every tag it names one of the tenant's."""
    if kind == "static":
        if raw is not None:
            raise Unprocessable.field("criteria", "A static segment has no criteria: add its members by id.")
        return None
    if raw is None:
        raise Unprocessable.field("criteria", "A dynamic segment needs criteria.")
    tree = criteria.parse(raw)
    wanted = criteria.tag_ids(tree)
    if wanted:
        with storage_errors():
            found = {t.id for t in Item.batch_get([Tag.key(ctx.tenant_id, t) for t in wanted]) if isinstance(t, Tag)}
        if wanted - found:
            missing = sorted(wanted - found)[0]
            raise Unprocessable.field("criteria", f"No such tag {missing!r}.")
    return criteria.dump(tree)


def create(ctx: TenantContext, body: NewSegment) -> tuple[Segment, SegmentState]:
    stored = checked(ctx, body.criteria, body.kind)
    segment = Segment.new(ctx, name=body.name, kind=body.kind, criteria=stored)
    segment.index()
    state = SegmentState(*SegmentState.key(ctx.tenant_id, segment.id), tenant_id=ctx.tenant_id, segment_id=segment.id)
    counters.listed_beside(segment, state)  # a page of segments is one Query
    if body.kind == "static":
        state.refreshed_at = segment.created_at
    else:
        due(state, segment.created_at)
    try:
        with storage_errors(), transaction() as tx:
            if body.kind == "dynamic":
                counter = DynamicCount(*DynamicCount.key(ctx.tenant_id))
                below = DynamicCount.PK.does_not_exist() | (DynamicCount.count < MAX_DYNAMIC)
                made = [DynamicCount.entity.set(DynamicCount), DynamicCount.tenant_id.set(ctx.tenant_id)]
                tx.update(counter, [DynamicCount.count.add(1), *made], below)
            tx.save(segment)
            tx.save(state)
    except TransactWriteError as error:
        if body.kind == "dynamic" and cancelled_by_condition(error, 0):
            raise Conflict(f"A tenant has at most {MAX_DYNAMIC} dynamic segments.", limit=MAX_DYNAMIC) from None
        raise
    return segment, state


def due(state: SegmentState, at: datetime) -> None:
    """Ask the refresh job to look at the segment from ``at`` on (``shared.marketing.refresh``)."""
    state.DUEPK, state.DUESK = "SEGMENTDUE", entry(at, state.tenant_id, state.segment_id)


def load(ctx: TenantContext, segment_id: str) -> tuple[Segment, SegmentState]:
    """The segment and its state, in one Query; 404 "No such segment." (also another tenant's)."""
    with storage_errors():
        found = {type(i): i for i in Item.query(tkey(ctx.tenant_id, "SEGMENT", segment_id))}
    segment, state = found.get(Segment), found.get(SegmentState)
    if segment is None or state is None:
        raise NotFound("No such segment.")
    return segment, state


def page(ctx: TenantContext, *, limit: int, cursor: str | None) -> Page[tuple[Segment, SegmentState]]:
    partition = Segment.partition_of_all(ctx.tenant_id)
    found = counters.paired_page(
        Segment, SegmentState, "STATE", partition, ctx.tenant_id, "segments", limit=limit, cursor=cursor
    )
    return Page([(s, state) for s, state in found.items if state is not None], found.next_cursor)


def _states(tenant_id: str, segment_ids: list[str]) -> dict[str, SegmentState]:
    if not segment_ids:
        return {}
    with storage_errors():
        found = SegmentState.batch_get([SegmentState.key(tenant_id, s) for s in segment_ids])
        return {state.segment_id: state for state in found}


def dynamic(tenant_id: str) -> list[tuple[Segment, SegmentState]]:
    """The tenant's dynamic segments (at most ``MAX_DYNAMIC``) with their states: two round trips."""
    with storage_errors():
        segments = list(Segment.gsi2.query(Segment.partition_of_dynamic(tenant_id)))
    states = _states(tenant_id, [s.id for s in segments])
    return [(s, states[s.id]) for s in segments if s.id in states]


def update(ctx: TenantContext, segment_id: str, patch: SegmentPatch, if_match: int | None) -> tuple[Segment, Any]:
    segment, state = load(ctx, segment_id)
    expect_version(segment, patch.version, if_match)
    changes = patch.model_dump(exclude_unset=True, exclude={"version"})
    if "criteria" in changes:
        patch.criteria = checked(ctx, patch.criteria, segment.kind)
    apply_patch(segment, patch)
    touch(ctx, segment)
    with storage_errors(changed_meanwhile(segment)), transaction() as tx:
        tx.save(segment)
        if "criteria" in changes:  # members follow the new criteria at the refresh job's next run
            due(state, now())
            tx.update(state, [SegmentState.DUEPK.set(state.DUEPK), SegmentState.DUESK.set(state.DUESK)])
    return segment, state


def delete(ctx: TenantContext, segment_id: str, if_match: int | None) -> None:
    """Delete the definition and its state at once; its members go in the background
    (``functions/events/marketing_cleanup.py``)."""
    segment, state = load(ctx, segment_id)
    expect_version(segment, if_match, required=False)
    with storage_errors(changed_meanwhile(segment)), transaction() as tx:
        tx.delete(segment)
        tx.delete(state)
        if segment.kind == "dynamic":
            counter = DynamicCount(*DynamicCount.key(ctx.tenant_id))
            tx.update(counter, [DynamicCount.count.add(-1)], DynamicCount.count > 0)


# ---- members -------------------------------------------------------------------------------------


def members_page(ctx: TenantContext, segment_id: str, *, limit: int, cursor: str | None) -> Page[Member]:
    """A page of the members readers see (the state's generation), by contact id."""
    _, state = load(ctx, segment_id)
    partition = Member.partition(ctx.tenant_id, segment_id, state.generation)
    name = f"members:{segment_id}:{int(state.generation)}"
    return query_page(Member, partition, ctx.tenant_id, name, limit=limit, cursor=cursor)


def add_members(ctx: TenantContext, segment_id: str, body: ContactIds) -> MembersChanged:
    return _change_members(ctx, segment_id, body, adding=True)


def remove_members(ctx: TenantContext, segment_id: str, body: ContactIds) -> MembersChanged:
    return _change_members(ctx, segment_id, body, adding=False)


def _change_members(ctx: TenantContext, segment_id: str, body: ContactIds, *, adding: bool) -> MembersChanged:
    segment, state = load(ctx, segment_id)
    if segment.kind != "static":
        raise Conflict("The members of a dynamic segment follow its criteria; only a static one takes ids.")
    tenant, ids = ctx.tenant_id, list(dict.fromkeys(body.contact_ids))
    partition = Member.partition(tenant, segment_id, STATIC_GENERATION)
    with storage_errors():
        contacts = {c.id: c for c in Item.batch_get([Contact.key(tenant, i) for i in ids]) if isinstance(c, Contact)}
        present = {m.contact_id for m in Member.batch_get([(partition, i) for i in contacts])}
    results, delta = [], 0
    with storage_errors(), Member.batch_write() as batch:
        for contact_id in ids:
            if contact_id not in contacts:
                result = "not_found"
            elif adding and contact_id not in present:
                batch.save(Member.of(tenant, segment_id, STATIC_GENERATION, contacts[contact_id]))
                result, delta = "added", delta + 1
            elif not adding and contact_id in present:
                batch.delete(Member(partition, contact_id))
                result, delta = "removed", delta - 1
            else:
                result = "already" if adding else "absent"
            results.append(MemberOutcome(contact_id=contact_id, result=result))
    if delta:
        with storage_errors():
            state.update([SegmentState.member_count.add(delta)])
    return MembersChanged(results=results, counts=Counter(o.result for o in results))


def preview(ctx: TenantContext, body: Preview) -> PreviewOut:
    """Count and sample the contacts the criteria select, saving nothing."""
    tree = criteria.parse(checked(ctx, body.criteria, "dynamic"))
    reader, at = audience.Reader(ctx.tenant_id, tree), now()
    count, read, sample, start = 0, 0, [], None
    while True:
        contacts, start = reader.page(start)
        read += len(contacts)
        for contact in reader.matching(contacts, at):
            count += 1
            if len(sample) < SAMPLE:
                sample.append(MemberOut(contact_id=contact.id, name=contact.name, email=contact.email))
        if start is None or read >= PREVIEW_LIMIT:
            break
    return PreviewOut(count=count, count_is_lower_bound=start is not None, contacts_read=read, sample=sample)


def state_of(tenant_id: str, segment_id: str) -> SegmentState | None:
    return get_or_none(SegmentState, SegmentState.key(tenant_id, segment_id))


def delete_members(tenant_id: str, segment_id: str, generations: set[int]) -> int:
    """Delete every member of the (deleted) segment's generations: in proportion to them. Idempotent."""
    removed = 0
    with storage_errors(), Member.batch_write() as batch:
        for generation in generations:
            for member in Member.query(Member.partition(tenant_id, segment_id, generation)):
                batch.delete(member)
                removed += 1
    return removed
