"""Clients and contacts: /crm/clients, /crm/contacts."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from functions.api.core import Api
from shared.caller import STAFF, STAFF_PORTAL
from shared.crm import clients
from shared.crm.clients import ClientOut, ContactOut, NewClient, NewContact
from shared.db.pages import DEFAULT_LIMIT, MAX_LIMIT
from shared.schemas import PageOut

api = Api("crm")
EntityId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9A-Z]+$")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=2048)]


@api.get("/crm/clients", roles=STAFF_PORTAL, summary="List clients (portal: its own)")
def list_clients(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> PageOut[ClientOut]:
    page = clients.list_clients(api.caller(), limit=limit, cursor=cursor)
    return PageOut[ClientOut](items=[ClientOut.model_validate(c) for c in page.items], next_cursor=page.next_cursor)


@api.post("/crm/clients", roles=STAFF, summary="Create a client", responses={201: {}})
def create_client(body: Annotated[NewClient, Body()]) -> Response[ClientOut]:
    made = api.create_once(
        "CreateClient", body, lambda: ClientOut.model_validate(clients.create_client(api.caller(), body))
    )
    return api.created(f"/crm/clients/{made['id']}", made)


@api.get("/crm/clients/<client_id>", roles=STAFF_PORTAL, summary="Get a client")
def get_client(client_id: EntityId) -> ClientOut:
    return ClientOut.model_validate(clients.get_client(api.caller(), client_id))


@api.get("/crm/contacts", roles=STAFF_PORTAL, summary="List contacts (portal: its client's)")
def list_contacts(
    client_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[ContactOut]:
    page = clients.list_contacts(api.caller(), client_id=client_id, limit=limit, cursor=cursor)
    return PageOut[ContactOut](items=[ContactOut.model_validate(c) for c in page.items], next_cursor=page.next_cursor)


@api.post("/crm/contacts", roles=STAFF, summary="Create a contact", responses={201: {}})
def create_contact(body: Annotated[NewContact, Body()]) -> Response[ContactOut]:
    made = api.create_once(
        "CreateContact", body, lambda: ContactOut.model_validate(clients.create_contact(api.caller(), body))
    )
    return api.created(f"/crm/contacts/{made['id']}", made)


@api.get("/crm/contacts/<contact_id>", roles=STAFF_PORTAL, summary="Get a contact")
def get_contact(contact_id: EntityId) -> ContactOut:
    return ContactOut.model_validate(clients.get_contact(api.caller(), contact_id))


handler = api.handler
