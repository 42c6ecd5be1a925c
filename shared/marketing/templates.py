"""Email templates (``/marketing/email-templates``): a subject, an HTML body and an optional text body with
variables, rendered by the sandbox in ``shared.templating`` (one renderer for preview and send).

``T#<t>#EMAILTEMPLATE#<id>`` / ``EMAILTEMPLATE`` (versioned), its counters beside it (``COUNTERS``); all of a
tenant's: GSI1 ``T#<t>#EMAILTEMPLATES`` by creation. A template is checked when saved: each part must parse
under the sandbox's rules (422 naming the part and line) and render with sample data within its bounds.

Variables (a fixed set, plain data only): ``contact`` (id, name, first_name, last_name, email, phone),
``client`` (id, name, customer_type, address), ``firm`` (name) and ``unsubscribe_url``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, StringConstraints
from pynamodb.attributes import UnicodeAttribute

from shared.caller import TenantContext
from shared.crm.clients import Client
from shared.crm.contacts import Contact
from shared.db.entities import Entity, apply_patch, expect_version, save
from shared.db.errors import storage_errors
from shared.db.pages import Page
from shared.db.table import Item, tkey, transaction
from shared.errors import Unprocessable
from shared.html_text import html_to_text
from shared.marketing import counters
from shared.schemas import Audited, Name, Out, Strict, Versioned

Subject = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=100_000)]  # templating.MAX_SOURCE
Category = Annotated[str, StringConstraints(max_length=50, pattern=r"^[a-z][a-z0-9_-]{0,49}$")]
PREVIEW_UNSUBSCRIBE = "https://example.com/unsubscribe?preview=1"
SAMPLE = {
    "contact": {
        "id": "sample",
        "name": "Ada Lovelace",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@example.com",
        "phone": None,
    },
    "client": {"id": "sample", "name": "Example Ltd", "customer_type": "premium", "address": None},
}


class EmailTemplate(Entity, discriminator="email_template"):
    noun, prefix = "email template", "EMAILTEMPLATE"
    name = UnicodeAttribute()
    subject = UnicodeAttribute()
    html = UnicodeAttribute()
    text = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)

    @staticmethod
    def partition_of_all(tenant_id: str) -> str:
        return tkey(tenant_id, "EMAILTEMPLATES")

    def index(self) -> None:
        self.GSI1PK, self.GSI1SK = self.partition_of_all(self.tenant_id), self.time_order


class NewEmailTemplate(Strict):
    name: Name = Field(examples=["Spring newsletter"])
    subject: Subject = Field(examples=['News for {{ client.name | default("you") }}'])
    html: Body = Field(examples=['<p>Hello {{ contact.first_name | default("there") }},</p>'])
    text: Body | None = Field(default=None, description="Derived from the HTML when not given.")
    category: Category | None = None


class EmailTemplatePatch(Versioned):
    name: Name | None = None
    subject: Subject | None = None
    html: Body | None = None
    text: Body | None = None
    category: Category | None = None


class EmailTemplateOut(Audited):
    id: str
    name: str
    subject: str
    html: str
    text: str | None
    category: str | None
    counters: dict[str, int]

    @classmethod
    def of(cls, pair: tuple[EmailTemplate, dict[str, int]]) -> EmailTemplateOut:  # type: ignore[override]
        template, counted = pair
        return counters.body(cls, template, counters=counted)


class RenderedEmail(Out):
    subject: str
    html: str
    text: str


# ---- rendering (preview and send) ----------------------------------------------------------------


def variables(contact: Contact | None, client: Client | None, firm: str, unsubscribe_url: str) -> dict[str, Any]:
    """The fixed set of variables a template sees, as plain data."""
    if contact is None:
        return {**SAMPLE, "firm": {"name": firm}, "unsubscribe_url": unsubscribe_url}
    first, _, last = contact.name.partition(" ")
    return {
        "contact": {
            "id": contact.id,
            "name": contact.name,
            "first_name": first,
            "last_name": last,
            "email": contact.email,
            "phone": contact.phone,
        },
        "client": {
            "id": client.id if client else None,
            "name": client.name if client else None,
            "customer_type": client.customer_type if client else None,
            "address": client.address if client else None,
        },
        "firm": {"name": firm},
        "unsubscribe_url": unsubscribe_url,
    }


def render(template: EmailTemplate, values: Mapping[str, Any]) -> RenderedEmail:
    """Subject, HTML and text of the template with ``values``; ``templating.RenderRefused`` past a bound."""
    from shared import templating  # Jinja2: only the functions that render pay for its import

    html = templating.render(template.html, values, html=True)
    text = templating.render(template.text, values) if template.text else html_to_text(html)
    return RenderedEmail(subject=templating.render(template.subject, values), html=html, text=text)


def firm_name(tenant_id: str) -> str:
    from shared import tenants  # its settings models (hours, time zones) are not what a route here needs

    return firm_of(tenants.find(tenant_id), tenant_id)


def firm_of(tenant: Any, tenant_id: str) -> str:
    """The name emails give the firm: the portal's display name, else the tenant's."""
    return (tenant.portal_display_name or tenant.name) if tenant else tenant_id


# ---- the API -------------------------------------------------------------------------------------


def _checked(template: EmailTemplate) -> EmailTemplate:
    from shared import templating

    templating.check(template.subject, field="subject")
    templating.check(template.html, field="html", html=True)
    if template.text:
        templating.check(template.text, field="text")
    try:
        render(template, variables(None, None, "Example firm", "https://example.com/unsubscribe"))
    except templating.RenderRefused as error:
        raise Unprocessable.field("html", f"Refused when rendered with sample data: {error}") from None
    return template


def create(ctx: TenantContext, body: NewEmailTemplate) -> tuple[EmailTemplate, dict[str, int]]:
    template = _checked(EmailTemplate.new(ctx, **body.model_dump()))
    template.index()
    with storage_errors("This email template already exists."), transaction() as tx:
        tx.save(template, condition=EmailTemplate.PK.does_not_exist())
        tx.save(counters.new(template))  # listed beside it: a page of templates is one Query
    return template, counters.empty()


def load(ctx: TenantContext, template_id: str) -> tuple[EmailTemplate, dict[str, int]]:
    """The template and its counters, in one Query; 404 (also another tenant's)."""
    return counters.load_with(EmailTemplate, tkey(ctx.tenant_id, EmailTemplate.prefix, template_id), "email template")


def page(ctx: TenantContext, *, limit: int, cursor: str | None) -> Page[tuple[EmailTemplate, dict[str, int]]]:
    """A page of templates, oldest first, with their counters."""
    partition = EmailTemplate.partition_of_all(ctx.tenant_id)
    page = {"limit": limit, "cursor": cursor}
    return counters.page_of(EmailTemplate, partition, ctx.tenant_id, "email-templates", counters.EVENTS, **page)


def update(ctx: TenantContext, template_id: str, patch: EmailTemplatePatch, if_match: int | None):
    template, counted = load(ctx, template_id)
    expect_version(template, patch.version, if_match)
    apply_patch(template, patch, nullable={"text", "category"})
    return save(ctx, _checked(template)), counted


def preview(ctx: TenantContext, template_id: str, contact_id: str | None) -> RenderedEmail:
    """The template rendered for one of the tenant's contacts (404 if not one), or with sample data: one
    BatchGetItem (the template, the tenant, the contact), and the contact's client."""
    from shared import templating, tenants

    tenant = ctx.tenant_id
    keys = [EmailTemplate.key(tenant, template_id), tenants.Tenant.key(tenant)]
    if contact_id:
        keys.append(Contact.key(tenant, contact_id))
    with storage_errors():
        found = {type(i): i for i in Item.batch_get(keys)}
    template = EmailTemplate.visible(ctx, found.get(EmailTemplate))
    contact = Contact.visible(ctx, found.get(Contact)) if contact_id else None
    client = Client.find(tenant, contact.client_id) if contact else None
    values = variables(contact, client, firm_of(found.get(tenants.Tenant), tenant), PREVIEW_UNSUBSCRIBE)
    try:
        return render(template, values)
    except templating.RenderRefused as error:
        raise Unprocessable.field("contact_id", f"The template cannot be rendered for this contact: {error}") from None
