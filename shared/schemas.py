"""Pydantic building blocks shared by every module's request and response models."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

T = TypeVar("T")

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Tags = Annotated[list[Tag], Field(max_length=50)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# no whitespace or control characters: an address ends up in a mail header, which a line break would split
Email = Annotated[
    str, StringConstraints(max_length=254, pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
]
Colour = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$", max_length=7)]  # #rrggbb
ID_PATTERN = r"^[A-Za-z0-9_-]+$"
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


def _plausible(moment: datetime) -> datetime:
    # a zone-less time is left to the domain, which asks for a zone; the far ends of datetime's range
    # cannot be converted to UTC, stored or added to
    if moment.tzinfo is not None and not EARLIEST <= moment < LATEST:
        raise ValueError("must lie between 1970 and 8999")
    return moment


ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _written_as_iso(value: Any) -> Any:
    # pydantic reads a number, or a string of digits, as Unix time: ?date_to=0 would be 1970-01-01
    if isinstance(value, date) or (isinstance(value, str) and ISO_DAY.match(value)):
        return value
    raise ValueError("must be written as ISO 8601, e.g. 2026-01-31 or 2026-01-31T09:30:00Z")


Iso = BeforeValidator(_written_as_iso)
Date = Annotated[date, Iso]
Moment = Annotated[datetime, Iso]  # a filter's bound: any instant datetime holds
Instant = Annotated[datetime, Iso, AfterValidator(_plausible)]  # an instant that is stored
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ID_PATTERN)]
MAX_VERSION = 2**31 - 1  # the optimistic-lock version a client sends back
# in a change's body: the version the client read (``expect_version`` checks it); or sent as If-Match
Version = Annotated[int | None, Field(ge=1, le=MAX_VERSION, description="The version you read; or send If-Match.")]


# defer_build: a model's validator is built when first used, not at import: a function builds only its route's.


class Strict(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


def _version_required(schema: dict[str, Any]) -> None:
    schema["properties"]["version"] = {"type": "integer", "minimum": 1, "maximum": MAX_VERSION, "description": READ}
    schema["required"] = [*schema.get("required", ()), "version"]


READ = "The version you read (required: the write is refused if the entity changed since; If-Match may carry it)."


class Versioned(Strict):
    """A write that must name the version it read, in ``version`` or as If-Match: the document says
    ``version`` is required, as a client that sends no If-Match must send it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_version_required)
    version: Version = None


class Out(BaseModel):
    """Response bodies are read straight off entities."""

    model_config = ConfigDict(from_attributes=True, defer_build=True)

    @classmethod
    def of(cls, entity: Any) -> Self:
        """The response body of ``entity``; a body that is not a plain reading of it overrides this."""
        return cls.model_validate(entity)


PLACES = 9  # decimals a stored number keeps: a millimetre in degrees, a microsecond in minutes


def _storable(value: Any) -> Any:
    # DynamoDB numbers hold 38 significant digits between 1e-130 and 1e126: a float rounded to PLACES
    # decimals (and bounded by its field) is one of them; 6.6e-250 would be refused by the table (a 500).
    # Rounded before the field's bounds apply, so that they hold for what is stored.
    if isinstance(value, str):
        try:
            value = float(value)  # pydantic reads numeric strings too
        except ValueError:
            return value
    if isinstance(value, float):
        return round(value, PLACES) + 0.0  # + 0.0: no negative zero
    return value


Storable = BeforeValidator(_storable)
"""On every float a request carries, after its bounds: ``Annotated[float, Field(ge=..., le=...), Storable]``
(in that order, or the bounds leave the document)."""


class Location(Strict):
    model_config = ConfigDict(extra="forbid", from_attributes=True)
    lat: Annotated[float, Field(ge=-90, le=90), Storable]
    lng: Annotated[float, Field(ge=-180, le=180), Storable]


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class Audited(Out):
    created_at: datetime
    updated_at: datetime
    version: int
