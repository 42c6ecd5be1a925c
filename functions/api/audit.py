"""The audit trail: /audit (managers)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from functions.api.core import Api
from functions.api.core.params import Cursor, Limit
from functions.api.core.responses import page_out
from shared import audit
from shared.audit import AuditOut
from shared.caller import MANAGERS
from shared.db.pages import DEFAULT_LIMIT
from shared.schemas import PageOut

api = Api("audit")


@api.get("/audit", roles=MANAGERS, summary="Audit entries, newest first")
def list_audit(
    entity: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z_]+$")] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[AuditOut]:
    page = audit.page(api.caller(), entity=entity, since=since, until=until, limit=limit, cursor=cursor)
    return page_out(page, AuditOut)


handler = api.handler
