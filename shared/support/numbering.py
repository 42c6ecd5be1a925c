"""Human-readable sequence numbers (``TK-2026-00001``, ``WO-…``): format, periods and the counter item.

The counter lives on one item per tenant and sequence, next to its format. A number is taken by
writing the counter's new value *in the same transaction* as the numbered item, conditioned on
the counter's revision: numbers are therefore unique, strictly increasing within their period and
gapless (a failed create consumes nothing). A guard item per issued number keeps numbers unique
forever, even across format changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator
from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute

from shared.db.table import Item, tkey
from shared.schemas import Out, Strict

Prefix = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,10}$")]


class SequenceFormat(Strict):
    prefix: Prefix = "TK"
    include_year: bool = True
    include_month: bool = False
    padding: int = Field(default=5, ge=1, le=12)
    separator: Literal["-", "_", "."] = "-"
    reset: Literal["never", "yearly", "monthly"] = "yearly"

    @model_validator(mode="after")
    def _period_is_visible(self) -> SequenceFormat:
        # A reset must change a visible part of the number, or numbers would repeat.
        if self.include_month and not self.include_year:
            raise ValueError("include_month requires include_year")
        if self.reset == "yearly" and not self.include_year:
            raise ValueError("a yearly reset requires include_year")
        if self.reset == "monthly" and not self.include_month:
            raise ValueError("a monthly reset requires include_month")
        return self

    def period(self, moment: datetime) -> str:
        if self.reset == "yearly":
            return f"{moment:%Y}"
        if self.reset == "monthly":
            return f"{moment:%Y-%m}"
        return "all"

    def render(self, moment: datetime, value: int) -> str:
        parts = [self.prefix]
        if self.include_year:
            parts.append(f"{moment:%Y}")
        if self.include_month:
            parts.append(f"{moment:%m}")
        parts.append(str(value).zfill(self.padding))
        return self.separator.join(parts)


class SequenceOut(Out):
    prefix: str
    include_year: bool
    include_month: bool
    padding: int
    separator: str
    reset: str
    next_value: str


class Sequence(Item, discriminator="sequence"):
    prefix = UnicodeAttribute()
    include_year = BooleanAttribute()
    include_month = BooleanAttribute()
    padding = NumberAttribute()
    separator = UnicodeAttribute()
    reset = UnicodeAttribute()
    counters = JSONAttribute(default=dict)  # period -> last issued value
    rev = NumberAttribute(default=0)  # bumped by every write: the optimistic lock

    @staticmethod
    def key(tenant_id: str, name: str) -> tuple[str, str]:
        return tkey(tenant_id, "SEQ", name), "SEQ"

    @classmethod
    def fresh(cls, tenant_id: str, name: str, fmt: SequenceFormat) -> Sequence:
        seq = cls(*cls.key(tenant_id, name), tenant_id=tenant_id, counters={}, rev=0)
        seq.apply(fmt)
        return seq

    def apply(self, fmt: SequenceFormat) -> None:
        for field, value in fmt.model_dump().items():
            setattr(self, field, value)

    @property
    def format(self) -> SequenceFormat:
        return SequenceFormat.model_validate({f: getattr(self, f) for f in SequenceFormat.model_fields})

    def next_number(self, moment: datetime, skip: int = 0) -> tuple[str, int, str]:
        """(period, value, formatted number) of the next number, ``skip`` values further on."""
        fmt = self.format
        period = fmt.period(moment)
        value = int(self.counters.get(period, 0)) + 1 + skip
        return period, value, fmt.render(moment, value)


class NumberGuard(Item, discriminator="number"):
    """One per issued number: keeps a number unique forever, whatever the format became."""

    owner_id = UnicodeAttribute()

    @staticmethod
    def key(tenant_id: str, sequence: str, number: str) -> tuple[str, str]:
        return tkey(tenant_id, "NUM", sequence, number), "NUM"
