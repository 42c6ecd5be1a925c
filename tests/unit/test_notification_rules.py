"""Which ticket change owes which email, the templates they are made from, and the reply addresses they carry."""

from __future__ import annotations

import pytest

from shared.errors import Unprocessable
from shared.inbound import mailbox
from shared.support import notification_templates as templates
from shared.support.notification_templates import KINDS, SAMPLE, NotificationPreviewIn, NotificationTemplateIn
from shared.support.notifications import event_of

TICKET = {
    "PK": {"S": "T#acme#TICKET#01T"},
    "SK": {"S": "TICKET"},
    "entity": {"S": "ticket"},
    "tenant_id": {"S": "acme"},
    "id": {"S": "01T"},
    "number": {"S": "TK-2026-00007"},
    "subject": {"S": "Printer"},
    "status": {"S": "new"},
    "channel": {"S": "email"},
    "created_by": {"S": "email"},
    "updated_by": {"S": "email"},
    "created_at": {"S": "2026-11-27T09:00:00.000000+0000"},
    "updated_at": {"S": "2026-11-27T09:00:00.000000+0000"},
    "version": {"N": "1"},
}


def ticket(**changes: str) -> dict:
    image = dict(TICKET)
    for name, value in changes.items():
        image[name] = {"N": value} if name == "version" else {"S": value}
    return image


def comment(*, public: bool, author_kind: str) -> dict:
    return {
        "PK": {"S": "T#acme#TICKET#01T"},
        "SK": {"S": "TICKET#COMMENT#01C"},
        "entity": {"S": "comment"},
        "tenant_id": {"S": "acme"},
        "id": {"S": "01C"},
        "ticket_id": {"S": "01T"},
        "author_id": {"S": "u1"},
        "author_kind": {"S": author_kind},
        "body": {"S": "hello"},
        "public": {"BOOL": public},
        "created_at": {"S": "2026-11-27T09:00:00.000000+0000"},
    }


def test_a_new_ticket_owes_an_acknowledgement():
    event = event_of("INSERT", ticket(), None)
    assert (event.kind, event.id, event.tenant_id) == ("ticket_created", "01T.created", "acme")


@pytest.mark.parametrize(("kind", "expected"), [("staff", "staff_reply"), ("contact", "requester_reply")])
def test_a_public_comment_owes_a_reply_email(kind, expected):
    event = event_of("INSERT", comment(public=True, author_kind=kind), None)
    assert (event.kind, event.id) == (expected, "01T.comment.01C")


def test_an_internal_note_owes_nothing():
    assert event_of("INSERT", comment(public=False, author_kind="staff"), None) is None


def test_assignment_to_someone_else_owes_the_assignee_an_email_once_per_version():
    event = event_of("MODIFY", ticket(assignee_id="u2", updated_by="u1", version="2"), ticket())
    assert (event.kind, event.id) == ("ticket_assigned", "01T.v2.assigned")
    assert event_of("MODIFY", ticket(assignee_id="u2", updated_by="u2", version="2"), ticket()) is None  # took it
    same = ticket(assignee_id="u2", version="3")
    assert event_of("MODIFY", same, ticket(assignee_id="u2")) is None


def test_resolution_owes_the_requester_an_email_only_when_it_happens():
    assert event_of("MODIFY", ticket(status="resolved", version="4"), ticket(status="open")).id == "01T.v4.resolved"
    assert event_of("MODIFY", ticket(status="resolved"), ticket(status="resolved")) is None
    assert event_of("REMOVE", ticket(), ticket()) is None


@pytest.mark.parametrize("kind", KINDS)
def test_every_default_renders_with_the_number_in_its_subject(kind):
    rendered = templates.render(templates.current(kind, None), SAMPLE)
    assert rendered.subject.startswith("[TK-2026-00042]") and rendered.text.strip()


def test_a_subject_without_the_number_gets_it():
    template = templates.current("ticket_created", None).model_copy(update={"subject": "Thanks!"})
    assert templates.render(template, SAMPLE).subject == "[TK-2026-00042] Thanks!"


def test_html_escapes_variables():
    template = templates.current("staff_reply", None).model_copy(update={"html": "<p>{{ comment.body }}</p>"})
    variables = {**SAMPLE, "comment": {"body": "<script>x</script>"}}
    assert templates.render(template, variables).html == "<p>&lt;script&gt;x&lt;/script&gt;</p>"


def test_a_syntax_error_is_refused_naming_field_and_line():
    with pytest.raises(Unprocessable) as refused:
        templates.check(NotificationTemplateIn(subject="ok", text="line one\n{% if %}\n"))
    assert refused.value.errors[0]["field"] == "text" and refused.value.errors[0]["line"] == 2


def test_a_template_that_breaks_a_bound_with_sample_data_is_refused():
    with pytest.raises(Unprocessable, match="cannot be rendered"):
        loops = "{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}"
        templates.check(NotificationPreviewIn(kind="staff_reply", text=loops))


def test_reply_addresses_name_the_ticket_in_their_tenant_only(monkeypatch):
    monkeypatch.setenv("DESKOS_INBOUND_DOMAIN", "mail.example.com")
    address = mailbox.reply_address("acme", "01JDZ3Q4R5S6T7V8W9X0Y1Z2A3")
    assert address.endswith("@acme.mail.example.com") and len(address.partition("@")[0]) <= 64
    assert mailbox.replied_ticket("acme", [f"Acme <{address}>"]) == "01JDZ3Q4R5S6T7V8W9X0Y1Z2A3"
    moved = address.replace("@acme.", "@globex.")
    assert mailbox.replied_ticket("globex", [moved]) is None  # a tag copied to another tenant names nothing
    message_id = mailbox.reply_message_id("acme", "01JDZ3Q4R5S6T7V8W9X0Y1Z2A3")
    assert mailbox.replied_ticket("acme", [f"<other@x> {message_id}"]) == "01JDZ3Q4R5S6T7V8W9X0Y1Z2A3"
    assert mailbox.tenant_of("support@acme.mail.example.com") == "acme"
    assert mailbox.tenant_of("support@mail.example.com") is None and mailbox.tenant_of("a@b.acme.example.com") is None
    assert mailbox.is_ours("reply+x@acme.mail.example.com") and not mailbox.is_ours("casey@acme.example")


def test_template_bodies_are_bounded_as_the_sandbox_bounds_them():
    from shared import templating

    assert templates.MAX_BODY_SOURCE == templating.MAX_SOURCE
