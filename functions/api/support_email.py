"""Support by email: the templates of ticket notifications (/support/notification-templates, read: staff; write
and preview: managers) and the tenant's support mailbox (/support/mailbox, read: staff; write: managers)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from functions.api.core import Api
from functions.api.core.responses import no_content, tagged
from shared.caller import MANAGERS, STAFF
from shared.inbound import mailbox
from shared.inbound.mailbox import MailboxIn, MailboxOut
from shared.schemas import Strict
from shared.support import notification_templates as templates
from shared.support.notification_templates import Kind, PreviewIn, RenderedOut, TemplateOut, TemplateUpdate

api = Api("support email")
KindParam = Annotated[Kind, Path(description="ticket_created, staff_reply, requester_reply, ticket_assigned, …")]


class TemplatesOut(Strict):
    items: list[TemplateOut]


@api.get("/support/notification-templates", roles=STAFF, summary="Every kind of ticket email: the override or default")
def list_notification_templates() -> TemplatesOut:
    return TemplatesOut(items=templates.all_of(api.caller()))


@api.get("/support/notification-templates/<kind>", roles=STAFF, summary="One kind of ticket email")
def get_notification_template(kind: KindParam) -> Response[TemplateOut]:
    return tagged(templates.get(api.caller(), kind))


@api.put(
    "/support/notification-templates/<kind>",
    roles=MANAGERS,
    summary="Override a kind of ticket email (sandboxed Jinja2; 422 names the line); enabled=false stops it",
)
def replace_notification_template(kind: KindParam, body: Annotated[TemplateUpdate, Body()]) -> Response[TemplateOut]:
    return tagged(templates.replace(api.caller(), kind, body, api.if_match()))


@api.delete(
    "/support/notification-templates/<kind>",
    roles=MANAGERS,
    summary="Drop the override: DeskOS's default applies again",
    responses={204: {}},
)
def reset_notification_template(kind: KindParam) -> Response[None]:
    templates.reset(api.caller(), kind, api.if_match())
    return no_content()


@api.post(
    "/support/notification-templates/<kind>/preview",
    roles=MANAGERS,
    writes=False,
    summary="Render a kind with sample data: the sources sent, else the current ones",
)
def preview_notification_template(kind: KindParam, body: Annotated[PreviewIn, Body()]) -> RenderedOut:
    return templates.preview(api.caller(), kind, body)


@api.get("/support/mailbox", roles=STAFF, summary="The support mailbox: its address, what it does with strangers")
def get_mailbox() -> Response[MailboxOut]:
    return tagged(mailbox.settings_of(api.caller()))


@api.put("/support/mailbox", roles=MANAGERS, summary="Change the support mailbox's settings (optimistic locking)")
def replace_mailbox(body: Annotated[MailboxIn, Body()]) -> Response[MailboxOut]:
    return tagged(mailbox.replace(api.caller(), body, api.if_match()))


handler = api.handler
