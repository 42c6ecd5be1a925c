"""Review and publishing: an ordered list of reviewers, each in turn; publishing that exact version.

Whose turn it is lives on the item (``reviewers``, ``review_step``); each decision is a write conditioned on
the item being in review at that very step, so of two reviewers acting at once only the one whose turn it is
gets through, and the other hears 409 — even a reviewer who read the item before the turn moved on. Each
decision and the history event are one transaction. The next reviewer is emailed by a stream consumer
(``shared.knowledge.mailing``), never by the request.
"""

from __future__ import annotations

from shared.caller import TenantContext
from shared.clock import now
from shared.db.entities import expect_version, require_state
from shared.errors import Conflict, Forbidden, Unprocessable
from shared.ids import new_id
from shared.knowledge.items import Write, commit, end_review, event, load, staff_member, unique
from shared.knowledge.model import KnowledgeItem, PublishedItem
from shared.knowledge.schemas import ChangesRequested, Decision, Submit


def submit(ctx: TenantContext, item_id: str, body: Submit, if_match: int | None) -> KnowledgeItem:
    item = load(ctx, item_id)
    expect_version(item, body.version, if_match, required=False)
    require_state(item, ("draft",), "submitted for review")
    if not unique(body.reviewer_ids):
        raise Unprocessable.field("reviewer_ids", "Name each reviewer once.")
    item.status, item.reviewers, item.review_step = "in_review", list(body.reviewer_ids), 0
    item.review_version, item.approved_version, item.review_round = int(item.current_version), None, new_id()
    write = Write(item, puts=[event(ctx, item, "submitted", reviewers=list(body.reviewer_ids))])
    write.requires = [staff_member(ctx, reviewer, "reviewer_ids") for reviewer in body.reviewer_ids]
    return commit(ctx, write)


def _turn(ctx: TenantContext, item_id: str, sent: int | None, if_match: int | None) -> tuple[KnowledgeItem, int]:
    """The item in review, if it is the caller's turn: else 409 naming whose turn it is."""
    item = load(ctx, item_id)
    expect_version(item, sent, if_match, required=False)
    require_state(item, ("in_review",), "reviewed")
    step = int(item.review_step)
    current = item.reviewers[step]
    if ctx.user_id != current:
        detail = (
            "It is not your turn to review this item."
            if ctx.user_id in item.reviewers
            else "You are not a reviewer of this item."
        )
        raise Conflict(detail, current_reviewer_id=current, review_step=step)
    return item, step


def _at_step(step: int):
    return (KnowledgeItem.status == "in_review") & (KnowledgeItem.review_step == step)


def approve(ctx: TenantContext, item_id: str, body: Decision, if_match: int | None) -> KnowledgeItem:
    item, step = _turn(ctx, item_id, body.version, if_match)
    note = event(ctx, item, "approved", comment=body.comment, version_number=int(item.review_version))
    if step + 1 < len(item.reviewers):
        item.review_step = step + 1
    else:
        item.status, item.approved_version = "approved", int(item.review_version)
        item.reviewers = item.review_step = None
    return commit(ctx, Write(item, puts=[note], condition=_at_step(step)))


def request_changes(ctx: TenantContext, item_id: str, body: ChangesRequested, if_match: int | None) -> KnowledgeItem:
    item, step = _turn(ctx, item_id, body.version, if_match)
    note = event(ctx, item, "changes_requested", comment=body.comment, version_number=int(item.review_version))
    item.status = "draft"
    end_review(item)
    return commit(ctx, Write(item, puts=[note], condition=_at_step(step)))


def publish(ctx: TenantContext, item_id: str, if_match: int | None) -> KnowledgeItem:
    """The current version goes live: a manager may publish a draft or an approved item, its owner only an
    approved one (the version that was approved, which an edit would have turned back into a draft)."""
    item = load(ctx, item_id)
    expect_version(item, if_match, required=False)
    manager = ctx.is_manager
    if not manager and ctx.user_id != item.owner_id:
        raise Forbidden("Only a manager or the item's owner may publish it.")
    require_state(item, ("draft", "approved") if manager else ("approved",), "published")
    moment = now()
    item.status, item.published_version, item.published_at = "published", int(item.current_version), moment
    item.verified_at = moment
    item.approved_version = None
    live = PublishedItem(
        *PublishedItem.key(ctx.tenant_id, item.id),
        tenant_id=ctx.tenant_id,
        item_id=item.id,
        number=int(item.current_version),
        **{f: getattr(item, f) for f in ("title", "kind", "category", "body", "visibility", "created_at")},
        tags=list(item.tags or []),
        published_at=moment,
        updated_by=ctx.user_id,
    )
    live.index()
    return commit(ctx, Write(item, puts=[live, event(ctx, item, "published")]))
