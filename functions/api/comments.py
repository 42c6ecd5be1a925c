"""Ticket comments (public replies and internal notes): /support/tickets/{id}/comments."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from functions.api.core import Api
from functions.api.core.params import Cursor, EntityId, Limit
from functions.api.core.responses import page_out
from shared.caller import STAFF_PORTAL
from shared.db.pages import DEFAULT_LIMIT
from shared.schemas import PageOut
from shared.support import comments
from shared.support.comments import CommentOut, NewComment

api = Api("comments")


@api.get("/support/tickets/<ticket_id>/comments", roles=STAFF_PORTAL, summary="List comments, oldest first")
def list_comments(ticket_id: EntityId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> PageOut[CommentOut]:
    return page_out(comments.page(api.caller(), ticket_id, limit=limit, cursor=cursor), CommentOut)


@api.post(
    "/support/tickets/<ticket_id>/comments",
    roles=STAFF_PORTAL,
    summary="Reply (public) or add an internal note (staff)",
    responses={201: {}},
)
def add_comment(ticket_id: EntityId, body: Annotated[NewComment, Body()]) -> Response[CommentOut]:
    made = api.create_once(
        f"AddComment#{ticket_id}", body, lambda: CommentOut.of(comments.add(api.caller(), ticket_id, body))
    )
    return api.created(f"/support/tickets/{ticket_id}/comments/{made['id']}", made)


handler = api.handler
