"""SLA policies and a ticket's SLA clock history: /support/sla-policies…, /support/tickets/{id}/sla-events."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from functions.api.core import Api
from functions.api.core.params import Cursor, EntityId, Limit
from functions.api.core.responses import no_content, page_out, tagged
from shared.caller import MANAGERS, STAFF
from shared.db.pages import DEFAULT_LIMIT
from shared.schemas import PageOut
from shared.support import sla, sla_policies
from shared.support.sla_policies import SlaPolicy, SlaPolicyIn, SlaPolicyUpdate
from shared.support.tickets import Ticket

api = Api("sla")


@api.get("/support/sla-policies", roles=STAFF, summary="List SLA policies in the order they are tried")
def list_sla_policies() -> PageOut[SlaPolicy]:
    return PageOut[SlaPolicy](items=sla_policies.load(api.caller().tenant_id).all(), next_cursor=None)


@api.post("/support/sla-policies", roles=MANAGERS, summary="Create an SLA policy", responses={201: {}})
def create_sla_policy(body: Annotated[SlaPolicyIn, Body()]) -> Response[SlaPolicy]:
    made = api.create_once("CreateSlaPolicy", body, lambda: sla_policies.create(api.caller(), body))
    return api.created(f"/support/sla-policies/{made['id']}", made)


@api.get("/support/sla-policies/<policy_id>", roles=STAFF, summary="Get an SLA policy")
def get_sla_policy(policy_id: EntityId) -> Response[SlaPolicy]:
    return tagged(sla_policies.get(api.caller(), policy_id))


@api.put("/support/sla-policies/<policy_id>", roles=MANAGERS, summary="Replace an SLA policy (optimistic locking)")
def replace_sla_policy(policy_id: EntityId, body: Annotated[SlaPolicyUpdate, Body()]) -> Response[SlaPolicy]:
    return tagged(sla_policies.replace(api.caller(), policy_id, body, api.if_match()))


@api.delete("/support/sla-policies/<policy_id>", roles=MANAGERS, summary="Delete an SLA policy", responses={204: {}})
def delete_sla_policy(policy_id: EntityId) -> Response[None]:
    sla_policies.delete(api.caller(), policy_id)
    return no_content()


@api.get("/support/tickets/<ticket_id>/sla-events", roles=STAFF, summary="A ticket's SLA clock history")
def list_sla_events(
    ticket_id: EntityId,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[sla.SlaEventOut]:
    ctx = api.caller()
    page = sla.events(ctx.tenant_id, Ticket.key(ctx.tenant_id, ticket_id)[0], limit=limit, cursor=cursor)
    if not page.items and cursor is None:
        Ticket.load(ctx, ticket_id)  # no history: tell a ticket without a policy from no ticket at all
    return page_out(page, sla.SlaEventOut)


handler = api.handler
