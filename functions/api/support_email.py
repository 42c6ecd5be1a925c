"""Support by email: the templates of ticket notifications (/support/notification-templates, read: staff; write
and preview: managers) and the tenant's support mailbox (/support/mailbox, read: staff; write: managers). The kind
of template is named in the body: every tenant has every kind, so there is no id to find."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from functions.api.core import Api
from functions.api.core.responses import tagged
from shared.caller import MANAGERS, STAFF
from shared.inbound import mailbox
from shared.inbound.mailbox import MailboxIn, MailboxOut
from shared.schemas import Strict
from shared.support import notification_templates as templates
from shared.support.notification_templates import (
    NotificationPreviewIn,
    NotificationTemplateOut,
    NotificationTemplateUpdate,
    RenderedNotificationOut,
)

api = Api("support email")


class TemplatesOut(Strict):
    items: list[NotificationTemplateOut]


@api.get("/support/notification-templates", roles=STAFF, summary="Every kind of ticket email: override or default")
def list_notification_templates() -> TemplatesOut:
    return TemplatesOut(items=templates.all_of(api.caller()))


@api.put(
    "/support/notification-templates",
    roles=MANAGERS,
    summary="Override one kind of ticket email (sandboxed Jinja2; 422 names the line); enabled=false stops it",
)
def replace_notification_template(
    body: Annotated[NotificationTemplateUpdate, Body()],
) -> Response[NotificationTemplateOut]:
    return tagged(templates.replace(api.caller(), body, api.if_match()))


@api.post(
    "/support/notification-templates/preview",
    roles=MANAGERS,
    writes=False,
    summary="Render one kind with sample data: the sources sent, else the current ones",
)
def preview_notification_template(body: Annotated[NotificationPreviewIn, Body()]) -> RenderedNotificationOut:
    return templates.preview(api.caller(), body)


@api.get("/support/mailbox", roles=STAFF, summary="The support mailbox: its address, what it does with strangers")
def get_mailbox() -> Response[MailboxOut]:
    return tagged(mailbox.settings_of(api.caller()))


@api.put("/support/mailbox", roles=MANAGERS, summary="Change the support mailbox's settings (optimistic locking)")
def replace_mailbox(body: Annotated[MailboxIn, Body()]) -> Response[MailboxOut]:
    return tagged(mailbox.replace(api.caller(), body, api.if_match()))


handler = api.handler
