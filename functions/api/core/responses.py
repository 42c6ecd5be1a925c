"""How routes answer with entities: a page of them, one with its version as ETag, or nothing."""

from __future__ import annotations

from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import Response

from shared.db.pages import Page
from shared.schemas import Out, PageOut

Body = TypeVar("Body", bound=Out)


def page_out(page: Page[Any], out: type[Body]) -> PageOut[Body]:
    """The page's items as ``out`` (each through ``out.of``) with the cursor of the next page."""
    return PageOut[out](items=[out.of(item) for item in page.items], next_cursor=page.next_cursor)


def tagged(body: Any) -> Response:
    """200 with the body's ``version`` as ETag, for the next write's If-Match."""
    return Response(200, "application/json", body, headers={"ETag": f'"{body.version}"'})


def no_content() -> Response[None]:
    return Response(204, None, None)
