"""Clients and contacts: /crm/clients, /crm/contacts."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from functions.api.core import Api
from functions.api.core.params import Cursor, EntityId, IdFilter, Limit
from functions.api.core.responses import page_out, tagged
from shared.caller import STAFF, STAFF_PORTAL
from shared.crm import clients, contacts
from shared.crm.clients import Client, ClientOut, NewClient
from shared.crm.contacts import Contact, ContactOut, NewContact
from shared.db.pages import DEFAULT_LIMIT
from shared.schemas import PageOut

api = Api("crm")


@api.get("/crm/clients", roles=STAFF_PORTAL, summary="List clients (portal: its own)")
def list_clients(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> PageOut[ClientOut]:
    return page_out(clients.page(api.caller(), limit=limit, cursor=cursor), ClientOut)


@api.post("/crm/clients", roles=STAFF, summary="Create a client", responses={201: {}})
def create_client(body: Annotated[NewClient, Body()]) -> Response[ClientOut]:
    made = api.create_once("CreateClient", body, lambda: ClientOut.of(clients.create(api.caller(), body)))
    return api.created(f"/crm/clients/{made['id']}", made)


@api.get("/crm/clients/<client_id>", roles=STAFF_PORTAL, summary="Get a client")
def get_client(client_id: EntityId) -> Response[ClientOut]:
    return tagged(ClientOut.of(Client.load(api.caller(), client_id)))


@api.get("/crm/contacts", roles=STAFF_PORTAL, summary="List contacts (portal: its client's)")
def list_contacts(
    client_id: IdFilter = None, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[ContactOut]:
    return page_out(contacts.page(api.caller(), client_id=client_id, limit=limit, cursor=cursor), ContactOut)


@api.post("/crm/contacts", roles=STAFF, summary="Create a contact", responses={201: {}})
def create_contact(body: Annotated[NewContact, Body()]) -> Response[ContactOut]:
    made = api.create_once("CreateContact", body, lambda: ContactOut.of(contacts.create(api.caller(), body)))
    return api.created(f"/crm/contacts/{made['id']}", made)


@api.get("/crm/contacts/<contact_id>", roles=STAFF_PORTAL, summary="Get a contact")
def get_contact(contact_id: EntityId) -> Response[ContactOut]:
    return tagged(ContactOut.of(Contact.load(api.caller(), contact_id)))


handler = api.handler
