"""One page of a Query, with a signed cursor: the only way lists are read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from shared import cursors
from shared.clock import iso
from shared.db.errors import storage_errors
from shared.errors import Unprocessable

T = TypeVar("T")

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def query_page(
    source: Any,
    hash_key: str,
    tenant_id: str,
    query_name: str,
    *,
    limit: int,
    cursor: str | None,
    newest_first: bool = False,
    range_key_condition: Any = None,
    filter_condition: Any = None,
) -> Page[Any]:
    """One page of the partition ``hash_key`` of ``source`` (a PynamoDB model or index, or its ``query``):
    one round trip.

    ``query_name`` names the query and its filters, so a cursor signed for one is refused by another
    (and by another tenant); storage errors become 409/503 problems."""
    start = cursors.decode(tenant_id, query_name, cursor)
    query = getattr(source, "query", source)
    with storage_errors():
        result = query(
            hash_key,
            range_key_condition=range_key_condition,
            filter_condition=filter_condition,
            scan_index_forward=not newest_first,
            limit=limit,
            page_size=limit,
            last_evaluated_key=start,
        )
        items = list(result)
    return Page(items, cursors.encode(tenant_id, query_name, result.last_evaluated_key))


def instant_range(sort_key: Any, start: datetime | None, end: datetime | None, names: tuple[str, str]) -> Any:
    """The range-key condition for sort keys that begin with an ISO instant: ``start <= key <= end``, either
    end open; None without bounds. ``names`` are the two filters' names, for a 422 when ``start`` is after
    ``end`` (DynamoDB refuses such a BETWEEN, and an open end must never become an empty key value)."""
    if start is None and end is None:
        return None
    low = _instant(start) if start is not None else "0"
    high = _instant(end) if end is not None else "9999"
    if low > high:
        raise Unprocessable.field(names[0], f"{names[0]} is after {names[1]}.")
    return sort_key.between(low, high + "~")


def _instant(moment: datetime) -> str:
    """The instant as sort keys spell it; one without a zone is UTC; one that leaves datetime's range in UTC
    (0001-01-01T00:00-01:00, 9999-12-31T23:59+…) lies before or after every key."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return iso(moment)
    except (OverflowError, ValueError):
        return "0" if moment.year == datetime.min.year else "9999"
