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

from datetime import datetime
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection

from shared.clock import iso


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
