"""Pydantic building blocks shared by every module's request and response models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

T = TypeVar("T")

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Tags = Annotated[list[Tag], Field(max_length=50)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
ID_PATTERN = r"^[A-Za-z0-9_-]+$"
EARLIEST, LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


def _plausible(moment: datetime) -> datetime:
    # a zone-less time is left to the domain, which asks for a zone; the far ends of datetime's range
    # cannot be converted to UTC, stored or added to
    if moment.tzinfo is not None and not EARLIEST <= moment < LATEST:
        raise ValueError("must lie between 1970 and 8999")
    return moment


Instant = Annotated[datetime, AfterValidator(_plausible)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ID_PATTERN)]
MAX_VERSION = 2**31 - 1  # the optimistic-lock version a client sends back
# in a change's body: the version the client read (``expect_version`` checks it); or sent as If-Match
Version = Annotated[int | None, Field(ge=1, le=MAX_VERSION, description="The version you read; or send If-Match.")]


# defer_build: a model's validator is built when first used, not at import: a function builds only its route's.


class Strict(BaseModel):
    """Request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class Out(BaseModel):
    """Response bodies are read straight off entities."""

    model_config = ConfigDict(from_attributes=True, defer_build=True)

    @classmethod
    def of(cls, entity: Any) -> Self:
        """The response body of ``entity``; a body that is not a plain reading of it overrides this."""
        return cls.model_validate(entity)


class Location(Strict):
    model_config = ConfigDict(extra="forbid", from_attributes=True)
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class Audited(Out):
    created_at: datetime
    updated_at: datetime
    version: int
