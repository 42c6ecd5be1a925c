"""The sparse system index ``DUE``: how every time-driven job (the SLA sweep, onboarding reminders, knowledge
review-due, segment refresh, the campaign sender, the calendar sweep) finds what is due across tenants
without reading anything else.

Why a sparse system index: a job must find what is due across all tenants. Per-tenant buckets would make it
query every tenant each run (reads growing with tenants); marker items in a system partition would sit
outside the ``T#<tenant>#`` prefix, so every writing function would need IAM access beyond its tenant (and
could delete another tenant's markers). So an item with something due carries ``DUEPK = <kind>#<bucket>``
and ``DUESK = <due instant>#<tenant>#<id>``, derived from its own state on every write, and loses both once
nothing is due: its table key stays in its tenant, and the entry can never disagree with the item. The
index projects the keys and the entity type (PynamoDB filters a model's queries on it), and only system
functions may read it (infra/resources.py ``SYSTEM_INDEXES``). Each job queries its buckets with
``DUESK <= now`` (``due_by``): its reads grow with what is due. How a kind buckets its entries (by minute,
hour, day or shard) is its own choice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection

from shared.clock import iso
from shared.db.table import get_or_none


class DueIndex(GlobalSecondaryIndex):
    class Meta:
        index_name = "DUE"
        projection = IncludeProjection(["entity"])

    DUEPK = UnicodeAttribute(hash_key=True)
    DUESK = UnicodeAttribute(range_key=True)


def entry(moment: datetime, tenant_id: str, item_id: str) -> str:
    """The ``DUESK`` of an item due at ``moment``: time-ordered, unique across tenants."""
    return f"{iso(moment)}#{tenant_id}#{item_id}"


def due_by(model: Any, at: datetime) -> Any:
    """The range condition of a ``model``'s DUE Query: the entries due at ``at`` or before."""
    return iso(at) + "~" >= model.DUESK


@dataclass(frozen=True)
class Buckets:
    """Time buckets of one width (``fmt`` names them: a minute, an hour) that a job walks with a cursor: from
    the bucket after the last one it finished to now. A kind's entries are never placed in a bucket before
    the one they are written in, so a finished bucket never receives one; the last ``grace`` buckets are read
    again, for writers whose clocks lag and because the index is eventually consistent."""

    prefix: str
    width: timedelta
    fmt: str
    first_run: int  # how many buckets the very first run looks back
    max_per_run: int  # catching up after an outage is spread over runs
    grace: int

    def name(self, moment: datetime) -> str:
        return self.prefix + moment.astimezone(UTC).strftime(self.fmt)

    def _floor(self, moment: datetime) -> datetime:
        return self._parse(moment.astimezone(UTC).strftime(self.fmt))

    def _parse(self, text: str) -> datetime:
        return datetime.strptime(text, self.fmt).replace(tzinfo=UTC)

    def walk(self, cursor_model: Any, model: Any, now: datetime) -> Iterator[list[tuple[str, str]]]:
        """The table keys of the ``model`` items due by ``now``, one list per bucket from the cursor
        (``cursor_model``: an Item with ``swept_through`` at its ``KEY``), which moves on at the end."""
        cursor = get_or_none(cursor_model, cursor_model.KEY)
        current = self._floor(now)
        start = self._parse(cursor.swept_through) + self.width if cursor else current - self.first_run * self.width
        last = min(current, start + (self.max_per_run - 1) * self.width)
        moment = start
        while moment <= last:
            yield [(e.PK, e.SK) for e in model.due.query(self.name(moment), due_by(model, now))]
            moment += self.width
        swept = min(last, current - self.grace * self.width).strftime(self.fmt)
        if self._parse(swept) >= start and (cursor is None or swept != cursor.swept_through):
            cursor_model(*cursor_model.KEY, tenant_id="_system", swept_through=swept).save()
