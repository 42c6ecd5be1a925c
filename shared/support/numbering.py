"""Human-readable sequence numbers (``TK-2026-00001``, ``WO-…``): format, periods and allocation.

One counter item per tenant and sequence holds the format and the last value of each period.
Allocation, in the usual uncontended case, writes the counter's new value in the *same transaction*
as the numbered item, conditioned on the counter's revision (two round trips with the read before
it): a failed create consumes nothing. When that transaction loses a race, the number is instead
reserved with one atomic increment and the item written after it, so concurrent creators never
retry in a loop; a gap can then only appear if the process dies between the two writes. A guard
item per issued number keeps numbers unique forever, whatever the format becomes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from botocore.exceptions import ClientError
from pydantic import Field, StringConstraints, model_validator
from pynamodb.attributes import BooleanAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.db.counters import retry_contended
from shared.db.errors import cancelled_by_condition, contended, storage_errors, throttled, unavailable
from shared.db.table import Item, tkey, transaction
from shared.schemas import Out, Strict

Also = Callable[[TransactWrite], None]
Prefix = Annotated[str, StringConstraints(max_length=10, pattern=r"^[A-Za-z0-9]{1,10}$")]


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
    name = UnicodeAttribute()
    prefix = UnicodeAttribute()
    include_year = BooleanAttribute()
    include_month = BooleanAttribute()
    padding = NumberAttribute()
    separator = UnicodeAttribute()
    reset = UnicodeAttribute()
    counters = MapAttribute(default=dict)  # period -> last issued value
    rev = NumberAttribute(default=0)  # bumped by every write
    format_rev = NumberAttribute(default=0)  # bumped by format changes only

    @staticmethod
    def key(tenant_id: str, name: str) -> tuple[str, str]:
        return tkey(tenant_id, "SEQ", name), "SEQ"

    @classmethod
    def fresh(cls, tenant_id: str, name: str, fmt: SequenceFormat) -> Sequence:
        seq = cls(*cls.key(tenant_id, name), tenant_id=tenant_id, name=name, counters={}, rev=0, format_rev=0)
        seq.apply(fmt)
        return seq

    def apply(self, fmt: SequenceFormat) -> None:
        for field, value in fmt.model_dump().items():
            setattr(self, field, value)

    @property
    def format(self) -> SequenceFormat:
        return SequenceFormat.model_validate({f: getattr(self, f) for f in SequenceFormat.model_fields})

    def counts(self) -> dict[str, int]:
        raw = self.counters
        values = raw.as_dict() if isinstance(raw, MapAttribute) else dict(raw or {})
        return {period: int(value) for period, value in values.items()}

    def next_number(self, moment: datetime, skip: int = 0) -> tuple[str, int, str]:
        """(period, value, formatted number) of the next number, ``skip`` values further on."""
        fmt = self.format
        period = fmt.period(moment)
        value = self.counts().get(period, 0) + 1 + skip
        return period, value, fmt.render(moment, value)


class NumberGuard(Item, discriminator="number"):
    """One per issued number: keeps a number unique forever, whatever the format became."""

    owner_id = UnicodeAttribute()

    @staticmethod
    def key(tenant_id: str, sequence: str, number: str) -> tuple[str, str]:
        return tkey(tenant_id, "NUM", sequence, number), "NUM"


class Numbered(Protocol):
    """An entity that carries a sequence number and derives its index keys from its fields."""

    id: str
    number: str

    def index(self) -> None: ...

    def save(self, *args: Any, **kwargs: Any) -> Any: ...


def allocate_and_write(sequence: Sequence, item: Numbered, moment: datetime, also: Also = lambda tx: None) -> bool:
    """Give ``item`` the next number and write it. False: the sequence changed under us, reload it.

    ``also`` adds writes that belong with the item to the same transaction (after the numbering's own)."""
    return _write_in_transaction(sequence, item, moment, also) or _write_after_reserving(sequence, item, moment, also)


def _guard(sequence: Sequence, item: Numbered) -> NumberGuard:
    key = NumberGuard.key(sequence.tenant_id, sequence.name, item.number)
    return NumberGuard(*key, tenant_id=sequence.tenant_id, owner_id=item.id)


def _write_in_transaction(sequence: Sequence, item: Numbered, moment: datetime, also: Also) -> bool:
    observed_rev, observed_counts = sequence.rev, sequence.counts()
    condition = Sequence.PK.does_not_exist() if observed_rev == 0 else Sequence.rev == observed_rev
    skip = 0
    while True:
        period, value, item.number = sequence.next_number(moment, skip)
        item.index()
        sequence.counters, sequence.rev = {**observed_counts, period: value}, observed_rev + 1
        try:
            with transaction() as tx:
                tx.save(sequence, condition=condition)
                tx.save(item, condition=Item.PK.does_not_exist())
                tx.save(_guard(sequence, item), condition=NumberGuard.PK.does_not_exist())
                also(tx)
            return True
        except TransactWriteError as error:
            sequence.counters, sequence.rev = observed_counts, observed_rev
            if throttled(error):
                raise unavailable() from None  # not a race: reserving a number now would only make a gap
            if cancelled_by_condition(error, 0) or contended(error):
                return False
            if cancelled_by_condition(error, 2):
                skip += 1  # issued before under another format: step past it
                continue
            raise


def _write_after_reserving(sequence: Sequence, item: Numbered, moment: datetime, also: Also) -> bool:
    fmt = sequence.format
    period = fmt.period(moment)
    while True:
        value = _reserve(sequence, period)
        if value is None:
            return False
        item.number = fmt.render(moment, value)
        item.index()

        def commit() -> None:
            with transaction() as tx:
                tx.save(item, condition=Item.PK.does_not_exist())
                tx.save(_guard(sequence, item), condition=NumberGuard.PK.does_not_exist())
                also(tx)

        try:
            # failing here, after the reservation, leaves the reserved number unused: a gap (so a transaction
            # cancelled only by another on the same counter item of ``also`` runs again)
            with storage_errors():
                retry_contended(commit)
            return True
        except TransactWriteError as error:
            if not cancelled_by_condition(error, 1):
                raise
            # the reserved number was issued before under another format: reserve the next one


def _reserve(sequence: Sequence, period: str) -> int | None:
    """One atomic increment of the period's counter; None if the format changed since it was read."""
    client = Item._get_connection().connection.client
    try:
        response = client.update_item(
            TableName=Item.Meta.table_name,
            Key={"PK": {"S": sequence.PK}, "SK": {"S": sequence.SK}},
            UpdateExpression="SET counters.#period = if_not_exists(counters.#period, :zero) + :one, #rev = #rev + :one",
            ConditionExpression="format_rev = :format_rev",
            ExpressionAttributeNames={"#period": period, "#rev": "rev"},
            ExpressionAttributeValues={
                ":zero": {"N": "0"},
                ":one": {"N": "1"},
                ":format_rev": {"N": str(sequence.format_rev)},
            },
            ReturnValues="UPDATED_NEW",
        )
    except client.exceptions.ConditionalCheckFailedException:
        return None
    except ClientError as error:
        if throttled(error):
            raise unavailable() from None  # nothing was reserved
        raise
    return int(response["Attributes"]["counters"]["M"][period]["N"])
