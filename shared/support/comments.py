"""Ticket comments: public replies and internal notes, and what they do to the SLA clock.

A comment lives in its ticket's partition right after the ticket item (``SK = TICKET#COMMENT#<ulid>``,
in time order), so one Query from ``TICKET`` returns the ticket (to check who may see it) and the
first page of comments: a list page is one round trip. Portal users see and write only public
comments. Writing one is one BatchGetItem (ticket + SLA policies) and one transaction (comment,
ticket with its SLA state, SLA events, due marker), retried when the ticket changed meanwhile.

Bodies are plain text or Markdown and are stored sanitised (``sanitise``): no HTML survives but a
short allow-list of attribute-free formatting tags, and link targets keep only safe schemes, so a
client that renders Markdown (with HTML passthrough) cannot be made to run script.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints
from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UTCDateTimeAttribute

from shared.caller import TenantContext
from shared.clock import now
from shared.db.errors import storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import Item
from shared.errors import Conflict, Unprocessable
from shared.ids import new_id
from shared.schemas import Out, Strict
from shared.support import sla, sla_policies
from shared.support.tickets import Ticket

ATTEMPTS = 3
PREFIX = "TICKET#COMMENT#"
Body = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


class Comment(Item, discriminator="comment"):
    id = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    author_id = UnicodeAttribute()
    author_kind = UnicodeAttribute()  # "staff" | "portal_user" | "contact" | "email" (the last two: by email)
    body = UnicodeAttribute()
    public = BooleanAttribute()
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(tenant_id: str, ticket_id: str, comment_id: str) -> tuple[str, str]:
        return Ticket.key(tenant_id, ticket_id)[0], PREFIX + comment_id


class NewComment(Strict):
    body: Body
    public: bool = Field(default=True, description="false: an internal note (staff only).")


class CommentOut(Out):
    id: str
    ticket_id: str
    author_id: str
    author_kind: str
    body: str
    public: bool
    created_at: datetime


# ---- sanitising --------------------------------------------------------------------------------

ALLOWED_TAGS = frozenset({"b", "i", "em", "strong", "code", "pre", "br", "p", "ul", "ol", "li", "blockquote"})
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_TAG = re.compile(r"<!--.*?(?:-->|$)|<[/!?]?[A-Za-z][^>]*(?:>|$)", re.S)
_ALLOWED = re.compile(r"^</?([a-z]+)\s*/?>$")
_LINK_TARGET = re.compile(r"(\]\(\s*<?|^\s{0,3}\[[^\]]+\]:\s*<?)([^)>\n]*)", re.M)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def sanitise(text: str) -> str:
    """Markdown/plain text with every HTML tag stripped but attribute-free allow-listed ones, and
    every link target with a scheme other than http, https or mailto replaced by ``#``."""
    text = _CONTROL.sub("", text)
    while True:
        cleaned = _TAG.sub(_keep_allowed, text)
        if cleaned == text:
            break
        text = cleaned
    return _LINK_TARGET.sub(_safe_target, text).strip()


def _keep_allowed(match: re.Match[str]) -> str:
    tag = match.group(0)
    allowed = _ALLOWED.match(tag.lower())
    return tag if allowed and allowed.group(1) in ALLOWED_TAGS else ""


def _safe_target(match: re.Match[str]) -> str:
    lead, target = match.group(1), match.group(2)
    # browsers ignore whitespace and control characters in a scheme; Markdown decodes entities
    plain = re.sub(r"[\s\x00-\x1f]", "", html.unescape(target)).lower()
    scheme = _SCHEME.match(plain)
    return lead + ("#" if scheme and scheme.group(1) not in SAFE_SCHEMES else target)


# ---- operations --------------------------------------------------------------------------------


def add(
    ctx: TenantContext,
    ticket_id: str,
    body: NewComment,
    *,
    comment_id: str | None = None,
    author_kind: str | None = None,
) -> Comment:
    """``comment_id`` and ``author_kind`` come from email-to-ticket: an id chosen before (a redelivered message
    finds its comment) and a requester who is a contact or an address rather than a portal user."""
    if ctx.is_portal and not body.public:
        raise Unprocessable.field("public", "Portal users can only write public comments.")
    text = sanitise(body.body)
    if not text:
        raise Unprocessable.field("body", "Nothing is left once markup is removed.")
    kind: sla.Comment | None = ("staff_public" if body.public else None) if ctx.is_staff else "requester"
    for _attempt in range(ATTEMPTS):
        ticket, book = _load(ctx, ticket_id)
        moment, comment_id = now(), comment_id or new_id()
        comment = Comment(
            *Comment.key(ctx.tenant_id, ticket_id, comment_id),
            tenant_id=ctx.tenant_id,
            id=comment_id,
            ticket_id=ticket_id,
            author_id=ctx.user_id,
            author_kind=author_kind or ("staff" if ctx.is_staff else "portal_user"),
            body=text,
            public=body.public,
            created_at=moment,
            updated_by=ctx.user_id,
        )
        writes = sla.track(ticket, book, moment, comment=kind) if kind else sla.Writes()
        ticket.updated_at, ticket.updated_by = moment, ctx.user_id
        ticket.index()
        try:
            sla.save(ticket, writes, also=lambda tx, c=comment: tx.save(c, condition=Item.PK.does_not_exist()))
            return comment
        except Conflict:
            continue  # someone changed the ticket meanwhile: apply the comment to what it is now
    raise Conflict("The ticket is changing too fast; retry.")


def page(ctx: TenantContext, ticket_id: str, *, limit: int, cursor: str | None) -> Page[Comment]:
    pk = Ticket.key(ctx.tenant_id, ticket_id)[0]
    first = cursor is None
    only_public = (Comment.public == True) | Comment.public.does_not_exist()  # noqa: E712 (the ticket has none)
    found = query_page(
        Item,
        pk,
        ctx.tenant_id,
        f"comments:{ticket_id}:{ctx.client_id if ctx.is_portal else '*'}",
        limit=limit + 1 if first else limit,
        cursor=cursor,
        range_key_condition=Item.SK.between("TICKET", PREFIX + "~"),
        filter_condition=only_public if ctx.is_portal else None,
    )
    items = found.items
    if first:
        Ticket.visible(ctx, items[0] if items else None)
        items = items[1:]
    return Page([c for c in items if isinstance(c, Comment)], found.next_cursor)


def _load(ctx: TenantContext, ticket_id: str) -> tuple[Ticket, sla_policies.PolicyBook]:
    keys = [Ticket.key(ctx.tenant_id, ticket_id), sla_policies.PolicyBook.key(ctx.tenant_id)]
    with storage_errors():
        found = {item.PK: item for item in Item.batch_get(keys)}
    ticket = Ticket.visible(ctx, found.get(keys[0][0]))
    return ticket, found.get(keys[1][0]) or sla_policies.PolicyBook.empty(ctx.tenant_id)
