"""Mail sent through shared.mail lands in the local outbox, where a user running locally can read it."""

import pytest

from infra.local import outbox
from shared import mail
from shared.settings import settings


@pytest.fixture
def sent(cloud, monkeypatch):
    """The outbox's messages, read after the test sent mail from the local cloud's verified sender."""
    monkeypatch.setenv("DESKOS_MAIL_SENDER", cloud.resources.sender)
    settings.cache_clear()
    mail._ses.cache_clear()
    yield lambda: outbox.messages(cloud.server.url)
    settings.cache_clear()
    mail._ses.cache_clear()


def test_a_sent_email_shows_in_the_outbox(sent):
    mail.send(["agent@demo.deskos.local"], "SLA warning: TK-2026-00001", "Due in 10 minutes.")
    last = sent()[-1]
    assert last["subject"] == "SLA warning: TK-2026-00001"
    assert last["destinations"]["ToAddresses"] == ["agent@demo.deskos.local"]
    assert "Due in 10 minutes." in outbox.render(last)


def test_html_reply_to_headers_and_attachments_reach_the_outbox(sent):
    mail.send(
        ["client@example.com"],
        "Invitation: kick-off",
        "See you there.",
        html="<p>See you <b>there</b>.</p>",
        reply_to="reply+abc@demo.deskos.local",
        headers={"List-Unsubscribe": "<https://example.com/u>"},
        attachments=[mail.Attachment("invite.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR\r\n")],
    )
    last = sent()[-1]
    assert last["subject"] == "Invitation: kick-off" and last["body"].strip() == "See you there."
    assert last["html"].strip() == "<p>See you <b>there</b>.</p>"
    assert last["headers"]["Reply-To"] == "reply+abc@demo.deskos.local"
    assert last["headers"]["List-Unsubscribe"] == "<https://example.com/u>"
    [ics] = last["attachments"]
    assert ics["filename"] == "invite.ics" and ics["content_type"] == "text/calendar"
    assert ics["content"].startswith("BEGIN:VCALENDAR")
