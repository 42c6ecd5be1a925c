"""The emails tickets send: one template per kind, shipped with DeskOS, and a tenant's override of each.

An override (``T#<t>#NOTIFYTEMPLATE#<kind>`` / ``NOTIFYTEMPLATE``, versioned) holds a subject, a text body,
optionally an HTML body, and whether the kind is sent at all. Managers write them in the sandbox of
``shared.templating``: a template that does not compile, or that breaks a bound with the sample data, is
refused when saved (422 naming the line). Every kind is one GetItem; the list reads all five in one
BatchGetItem. The kind is named in the body, not the path: every tenant has every kind.

Variables (plain data, the same for every kind; what a kind does not concern is empty):
``firm.name``, ``ticket.number|subject|description|status|priority|url|sla_due``, ``requester.name|email``,
``assignee.name|email``, ``comment.body|author``. ``ticket.url`` is the ticket's page in the web app."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, StringConstraints
from pynamodb.attributes import BooleanAttribute, UnicodeAttribute

from shared.caller import TenantContext
from shared.db.entities import Entity, expect_version, insert, save
from shared.db.errors import storage_errors
from shared.db.table import Item
from shared.errors import Conflict, Unprocessable
from shared.schemas import Strict, Version

Kind = Literal["ticket_created", "staff_reply", "requester_reply", "ticket_assigned", "ticket_resolved"]
KINDS: tuple[str, ...] = get_args(Kind)
# the kinds sent to the client (they carry the reply address); the others go to staff
TO_REQUESTER = frozenset({"ticket_created", "staff_reply", "ticket_resolved"})
MAX_SUBJECT_SOURCE = 500
SubjectSource = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SUBJECT_SOURCE)]
MAX_BODY_SOURCE = 100_000  # shared.templating.MAX_SOURCE (importing it would import Jinja2 into every route)
BodySource = Annotated[str, StringConstraints(min_length=1, max_length=MAX_BODY_SOURCE)]

_SIGN_OFF = "\n-- \n{{ firm.name }}\n"
DEFAULTS: dict[str, dict[str, str]] = {
    "ticket_created": {
        "subject": "[{{ ticket.number }}] We received your request: {{ ticket.subject }}",
        "text": "Hello {{ requester.name | default('there', true) }},\n\n"
        "we received your request and will answer soon. Its number is {{ ticket.number }}.\n\n"
        "{{ ticket.subject }}\n\nFollow it here: {{ ticket.url }}\n"
        "Reply to this email to add to it." + _SIGN_OFF,
    },
    "staff_reply": {
        "subject": "[{{ ticket.number }}] {{ ticket.subject }}",
        "text": "{{ comment.body }}\n\n{{ comment.author }}\n\n"
        "Reply to this email to answer, or follow the request here: {{ ticket.url }}" + _SIGN_OFF,
    },
    "requester_reply": {
        "subject": "[{{ ticket.number }}] {{ comment.author | default('The client', true) }} replied: "
        "{{ ticket.subject }}",
        "text": "{{ comment.author | default(requester.email, true) }} wrote on {{ ticket.number }} "
        "({{ ticket.priority }}):\n\n{{ comment.body }}\n\n{{ ticket.url }}\n",
    },
    "ticket_assigned": {
        "subject": "[{{ ticket.number }}] Assigned to you: {{ ticket.subject }}",
        "text": "{{ ticket.number }} is now yours.\n\nSubject: {{ ticket.subject }}\nPriority: {{ ticket.priority }}\n"
        "{% if ticket.sla_due %}Due: {{ ticket.sla_due }}\n{% endif %}\n{{ ticket.url }}\n",
    },
    "ticket_resolved": {
        "subject": "[{{ ticket.number }}] Resolved: {{ ticket.subject }}",
        "text": "Hello {{ requester.name | default('there', true) }},\n\n"
        "we have resolved your request {{ ticket.number }} ({{ ticket.subject }}).\n\n"
        "Not solved? Reopen it within 7 days here: {{ ticket.url }}, or reply to this email." + _SIGN_OFF,
    },
}

SAMPLE: dict[str, Any] = {
    "firm": {"name": "Example Firm"},
    "ticket": {
        "number": "TK-2026-00042",
        "subject": "The printer is on fire",
        "description": "Smoke since this morning.",
        "status": "open",
        "priority": "high",
        "url": "https://desk.example.com/app/tickets/01J0000000000000000000000",
        "sla_due": "2026-01-05T17:00:00Z",
    },
    "requester": {"name": "Peter Gibbons", "email": "peter@initech.example"},
    "assignee": {"name": "Sam Agent", "email": "sam@example.com"},
    "comment": {"body": "We have sent a technician.", "author": "Sam Agent"},
}


class NotificationTemplate(Entity, discriminator="notification_template"):
    noun, prefix = "notification template", "NOTIFYTEMPLATE"  # id = the kind
    subject = UnicodeAttribute()
    text = UnicodeAttribute()
    html = UnicodeAttribute(null=True)
    enabled = BooleanAttribute(default=True)


class NotificationTemplateIn(Strict):
    subject: SubjectSource = Field(description="Jinja2 (sandboxed); rendered as text. The number is added if missing.")
    text: BodySource = Field(description="The text body (Jinja2, sandboxed).")
    html: BodySource | None = Field(default=None, description="An HTML alternative; variables are escaped.")
    enabled: bool = Field(default=True, description="false: this kind of email is not sent.")


class NotificationTemplateUpdate(NotificationTemplateIn):
    kind: Kind
    version: Version = Field(default=None, description="The version you read; required once an override exists.")


class NotificationPreviewIn(Strict):
    kind: Kind
    subject: SubjectSource | None = None
    text: BodySource | None = None
    html: BodySource | None = None


class NotificationTemplateOut(Strict):
    kind: Kind
    subject: str
    text: str
    html: str | None
    enabled: bool
    customised: bool = Field(description="false: DeskOS's default (version 0).")
    version: int
    updated_at: datetime | None


class RenderedNotificationOut(Strict):
    subject: str
    text: str
    html: str | None


def current(kind: str, found: NotificationTemplate | None) -> NotificationTemplateOut:
    """What a notification of ``kind`` is made from: the tenant's override, else the default."""
    if found is None:
        default = DEFAULTS[kind]
        return NotificationTemplateOut(
            kind=kind, **default, html=None, enabled=True, customised=False, version=0, updated_at=None
        )
    return NotificationTemplateOut(
        kind=kind,
        subject=found.subject,
        text=found.text,
        html=found.html,
        enabled=found.enabled,
        customised=True,
        version=int(found.version),
        updated_at=found.updated_at,
    )


# ---- reads -------------------------------------------------------------------------------------


def all_of(ctx: TenantContext) -> list[NotificationTemplateOut]:
    keys = [NotificationTemplate.key(ctx.tenant_id, kind) for kind in KINDS]
    with storage_errors():
        found = {item.id: item for item in Item.batch_get(keys) if isinstance(item, NotificationTemplate)}
    return [current(kind, found.get(kind)) for kind in KINDS]


def get(ctx: TenantContext, kind: str) -> NotificationTemplateOut:
    with storage_errors():
        return current(kind, NotificationTemplate.find(ctx.tenant_id, kind))


# ---- writes ------------------------------------------------------------------------------------


def check(body: NotificationTemplateIn | NotificationPreviewIn) -> None:
    """422 naming the field and line of a template that does not compile or breaks a bound with sample data."""
    from shared import templating  # Jinja2: only the routes and consumer that render import it

    for field, html in (("subject", False), ("text", False), ("html", True)):
        source = getattr(body, field)
        if source is None:
            continue
        templating.check(source, field=field, html=html)
        try:
            templating.render(source, SAMPLE, html=html)
        except templating.RenderRefused as refused:
            raise Unprocessable.field(field, f"The template cannot be rendered: {refused}.") from None


def replace(ctx: TenantContext, body: NotificationTemplateUpdate, if_match: int | None) -> NotificationTemplateOut:
    """Override one kind (``body.kind``): the first override names no version, later ones the one read."""
    check(body)
    kind = body.kind
    fields = body.model_dump(exclude={"version", "kind"})
    with storage_errors():
        found = NotificationTemplate.find(ctx.tenant_id, kind)
    if found is None:
        sent = body.version if body.version is not None else if_match
        if sent is not None:
            raise Conflict(f"Stale version {sent}: the template is DeskOS's default (version 0).", current_version=0)
        made = insert(NotificationTemplate.new(ctx, kind, **fields), conflict="The template was changed meanwhile.")
        return current(kind, made)
    expect_version(found, body.version, if_match)
    for name, value in fields.items():
        setattr(found, name, value)
    return current(kind, save(ctx, found))


def preview(ctx: TenantContext, body: NotificationPreviewIn) -> RenderedNotificationOut:
    """The kind rendered with sample data: the sources sent, else the tenant's current ones."""
    check(body)
    stored = get(ctx, body.kind)
    subject, text = body.subject or stored.subject, body.text or stored.text
    html = body.html if "html" in body.model_fields_set else stored.html
    return render(stored.model_copy(update={"subject": subject, "text": text, "html": html}), SAMPLE)


def render(template: NotificationTemplateOut, variables: dict[str, Any]) -> RenderedNotificationOut:
    """Subject (one line, with the ticket number), text and HTML; ``RenderRefused`` past a bound."""
    from shared import templating

    subject = " ".join(templating.render(template.subject, variables).split())
    number = (variables.get("ticket") or {}).get("number") or ""
    if number and number not in subject:
        subject = f"[{number}] {subject}"
    html = templating.render(template.html, variables, html=True) if template.html else None
    text = templating.render(template.text, variables)
    return RenderedNotificationOut(subject=subject[:200], text=text, html=html)
