"""One page of a Query, with a signed cursor: the only way lists are read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from shared import cursors

T = TypeVar("T")

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def query_page(
    query_fn: Any,
    *,
    tenant_id: str,
    query_name: str,
    cursor: str | None,
    limit: int,
    **query_kwargs: Any,
) -> Page[Any]:
    """Run ``query_fn`` (a PynamoDB ``Model.query`` or ``index.query``) for one page: one round trip."""
    start = cursors.decode(tenant_id, query_name, cursor)
    result = query_fn(limit=limit, page_size=limit, last_evaluated_key=start, **query_kwargs)
    items = list(result)
    return Page(items, cursors.encode(tenant_id, query_name, result.last_evaluated_key))
