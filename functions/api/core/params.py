"""The route parameters every domain shares: a page's ``limit`` and ``cursor``, and the ids in paths and filters."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from shared.db.pages import MAX_LIMIT
from shared.schemas import ID_PATTERN, Date

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=2048)]
# the id of an entity the API made (a ULID)
EntityId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9A-Z]+$")]
# a user's id (the identity provider's), which a technician profile also goes by
UserId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
# a list filtered to one client, technician, survey…
IdFilter = Annotated[str | None, Query(max_length=64, pattern=ID_PATTERN)]

# a range of UTC days, for the summaries read from per-day counters
DateFrom = Annotated[Date | None, Query(description="First UTC day, inclusive")]
DateTo = Annotated[Date | None, Query(description="Last UTC day, inclusive")]
