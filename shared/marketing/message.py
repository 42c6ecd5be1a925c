"""One campaign email for one contact: the template rendered with the contact's variables, every link
wrapped for click tracking, an open pixel, and the per-contact unsubscribe link and RFC 8058 headers.

Each use of a link has its own signed token (``shared.links``): ``marketing-unsubscribe`` (the page for people
and the one-click POST), ``marketing-open`` (the pixel) and ``marketing-click``, which carries the link's own
URL: the redirect goes only where the sent email pointed, and no stored list of links is needed."""

from __future__ import annotations

import html as markup
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared import links
from shared.crm.clients import Client
from shared.crm.contacts import Contact
from shared.marketing.templates import EmailTemplate, render, variables

UNSUBSCRIBE, OPEN, CLICK = "marketing-unsubscribe", "marketing-open", "marketing-click"
LINK_LIFETIME = timedelta(days=365)
MAX_TRACKED_URL = 600  # longer links are left as they are (a token holds at most 1,024 characters)
# names the email's tenant, campaign, contact and template (the tags SES gets), for the local outbox's tools
CAMPAIGN_HEADER = "X-DeskOS-Campaign"
_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"']+)\2""", re.IGNORECASE)


@dataclass(frozen=True)
class Recipient:
    tenant_id: str
    campaign_id: str
    template_id: str
    contact: Contact
    client: Client | None


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]


def token(purpose: str, who: Recipient, at: datetime, **extra: str) -> str:
    return links.sign(
        purpose, who.tenant_id, who.contact.id, at + LINK_LIFETIME, c=who.campaign_id, m=who.template_id, **extra
    )


def compose(template: EmailTemplate, who: Recipient, firm: str, at: datetime) -> Email:
    """The email ``who`` gets; ``templating.RenderRefused`` when the template cannot be rendered for them."""
    unsubscribe = token(UNSUBSCRIBE, who, at)
    page = links.page_url("unsubscribe", unsubscribe)
    rendered = render(template, variables(who.contact, who.client, firm, page))
    text, html = rendered.text, rendered.html
    if "unsubscribe_url" not in template.html:  # every campaign email says how to stop them
        html += f'<p style="font-size:small"><a href="{markup.escape(page)}">Unsubscribe</a></p>'
    if "unsubscribe_url" not in (template.text or template.html):
        text += f"\nUnsubscribe: {page}\n"
    html = _HREF.sub(lambda m: _tracked(m, who, at, page), html)
    pixel = links.api_url("/marketing/track/open", token(OPEN, who, at))
    html += f'<img src="{markup.escape(pixel)}" width="1" height="1" alt="" style="display:none">'
    headers = {
        "List-Unsubscribe": f"<{links.api_url('/marketing/unsubscribe', unsubscribe)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        CAMPAIGN_HEADER: f"{who.tenant_id}/{who.campaign_id}/{who.contact.id}/{who.template_id}",
    }
    return Email(who.contact.email or "", rendered.subject, text, html, headers)


def _tracked(match: re.Match, who: Recipient, at: datetime, unsubscribe_page: str) -> str:
    url = markup.unescape(match.group(3))
    if url == unsubscribe_page or len(url) > MAX_TRACKED_URL:
        return match.group(0)
    tracked = links.api_url("/marketing/track/click", token(CLICK, who, at, u=url))
    return f"{match.group(1)}{match.group(2)}{markup.escape(tracked)}{match.group(2)}"


def read_campaign_header(value: str) -> dict[str, str] | None:
    """The tags a ``CAMPAIGN_HEADER`` names (tenant, campaign, contact, template), or None if it is not one."""
    parts = value.strip().split("/")
    return dict(zip(("tenant", "campaign", "contact", "template"), parts, strict=True)) if len(parts) == 4 else None
