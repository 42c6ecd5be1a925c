"""Email templates with the campaign's variables (contact, client, firm, unsubscribe_url): template-injection
payloads aimed at them are refused when saved or render inert; a contact's own data is never run as a
template; one rendering serves preview and send."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared import templating
from shared.crm.clients import Client
from shared.crm.contacts import Contact
from shared.errors import Unprocessable
from shared.marketing import message, templates
from shared.marketing.templates import EmailTemplate

AT = datetime(2026, 6, 1, tzinfo=UTC)
LEAKS = ("<class", "<function", "<built-in", "<module", "__", "Undefined", "environment", "link_secret")

PAYLOADS = [
    "{{ contact.__class__.__mro__ }}",
    "{{ contact.email.__class__.__base__.__subclasses__() }}",
    "{{ client.name.__class__ }}",
    "{{ unsubscribe_url.__class__.__mro__[1].__subclasses__() }}",
    "{{ firm.__class__.__init__.__globals__ }}",
    "{{ contact.items.__self__ }}",
    "{{ contact.update({'email': 'attacker@evil.test'}) }}",
    "{{ contact.pop('email') }}",
    "{{ firm.name.format(contact) }}",
    "{{ unsubscribe_url.replace('https', 'javascript') }}",
    "{{ unsubscribe_url * 100000000 }}",
    "{{ contact.name * 10**9 }}",
    "{% for k in contact %}{% for j in contact %}{% for i in range(10000) %}x{% endfor %}{% endfor %}{% endfor %}",
    "{% for i in range(10**9) %}{{ contact.name }}{% endfor %}",
    "{% set x = contact.__dict__ %}{{ x }}",
    "{{ contact['__class__'] }}",
    "{{ contact|attr('__class__') }}",
    "{{ ''.join(contact.name * 99999 for _ in range(9999)) }}",
    "{% macro bomb(n) %}{{ bomb(n) }}{% endmacro %}{{ bomb(contact.name) }}",
]


def template(html: str, **fields) -> EmailTemplate:
    return EmailTemplate(
        name="t", subject=fields.pop("subject", "Hi"), html=html, text=fields.pop("text", None), **fields
    )


def contact(name: str = "Ada Lovelace", email: str = "ada@example.com") -> Contact:
    return Contact(id="C1", tenant_id="acme", client_id="K1", name=name, email=email, created_at=AT)


def client() -> Client:
    return Client(id="K1", tenant_id="acme", name="Acme Ltd", customer_type="premium")


def values(who: Contact | None = None) -> dict:
    return templates.variables(who or contact(), client(), "Acme", "https://deskos.test/app/unsubscribe?token=t")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_payloads_are_refused_at_save_or_render_inert(payload):
    made = template(f"<p>{payload}</p>")
    try:
        templates._checked(made)
    except Unprocessable:
        return  # refused when saved: never sent
    try:
        rendered = templates.render(made, values())
    except templating.RenderRefused:
        return  # refused when rendered: nothing of it is sent
    assert not any(leak in rendered.html for leak in LEAKS), rendered.html
    assert len(rendered.html) <= templating.MAX_OUTPUT
    assert "attacker@evil.test" not in rendered.html


def test_a_contacts_data_is_never_run_as_a_template_and_is_escaped_in_html():
    who = contact(name="{{ 7*7 }} <script>alert(1)</script>")
    rendered = templates.render(template("<p>{{ contact.name }}</p>", text="{{ contact.name }}"), values(who))
    assert "{{ 7*7 }}" in rendered.text and "49" not in rendered.text
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html


def test_the_default_filter_fills_a_missing_first_name():
    rendered = templates.render(template('Hello {{ contact.nickname | default("there") }}'), values())
    assert rendered.html == "Hello there"


def test_a_syntax_error_names_its_line_and_part():
    with pytest.raises(Unprocessable) as caught:
        templates._checked(template("<p>ok</p>\n<p>{{ contact.name </p>"))
    assert caught.value.errors[0]["field"] == "html" and caught.value.errors[0]["line"] == 2
    with pytest.raises(Unprocessable) as caught:
        templates._checked(template("<p>ok</p>", subject="Hi {% if %}"))
    assert caught.value.errors[0]["field"] == "subject"


def test_the_text_body_is_derived_from_the_html_when_none_is_given():
    rendered = templates.render(
        template('<p>Hi {{ contact.first_name }}</p><a href="https://x.test">more</a>'), values()
    )
    assert rendered.text.startswith("Hi Ada") and "(https://x.test)" in rendered.text


def test_the_sent_email_is_the_preview_plus_tracking_and_unsubscribe(monkeypatch):
    monkeypatch.setenv("DESKOS_PUBLIC_URL", "https://deskos.test")
    made = template(
        '<p>Hi {{ contact.first_name }}</p><a href="https://example.com/offer?a=1&amp;b=2">Offer</a>', id="M1"
    )
    who = message.Recipient("acme", "CAMP1", "M1", contact(), client())
    email = message.compose(made, who, "Acme", AT)
    assert email.to == "ada@example.com" and "<p>Hi Ada</p>" in email.html
    assert email.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.headers["List-Unsubscribe"].startswith("<https://deskos.test/marketing/unsubscribe?token=")
    assert "https://example.com/offer" not in email.html  # wrapped for click tracking
    assert "/marketing/track/click?token=" in email.html and "/marketing/track/open?token=" in email.html
    assert "https://deskos.test/app/unsubscribe?token=" in email.html and "Unsubscribe: https://" in email.text
