"""Ticket comments (public replies and internal notes): /support/tickets/{id}/comments."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from functions.api.core import Api
from shared.caller import STAFF_PORTAL
from shared.db.pages import DEFAULT_LIMIT, MAX_LIMIT
from shared.schemas import PageOut
from shared.support import comments
from shared.support.comments import CommentOut, NewComment

api = Api("comments")
TicketId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9A-Z]+$")]


@api.get("/support/tickets/<ticket_id>/comments", roles=STAFF_PORTAL, summary="List comments, oldest first")
def list_comments(
    ticket_id: TicketId,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> PageOut[CommentOut]:
    page = comments.page(api.caller(), ticket_id, limit=limit, cursor=cursor)
    return PageOut[CommentOut](items=[CommentOut.model_validate(c) for c in page.items], next_cursor=page.next_cursor)


@api.post(
    "/support/tickets/<ticket_id>/comments",
    roles=STAFF_PORTAL,
    summary="Reply (public) or add an internal note (staff)",
    responses={201: {}},
)
def add_comment(ticket_id: TicketId, body: Annotated[NewComment, Body()]) -> Response[CommentOut]:
    made = api.create_once(
        f"AddComment#{ticket_id}",
        body,
        lambda: CommentOut.model_validate(comments.add(api.caller(), ticket_id, body)),
    )
    return api.created(f"/support/tickets/{ticket_id}/comments/{made['id']}", made)


handler = api.handler
