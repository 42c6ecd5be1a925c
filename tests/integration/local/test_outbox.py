"""Mail sent through shared.mail lands in the local outbox, where a user running locally can read it."""

from infra.local import outbox
from shared import mail


def test_a_sent_email_shows_in_the_outbox(cloud, monkeypatch):
    mail._ses.cache_clear()
    monkeypatch.setenv("DESKOS_MAIL_SENDER", cloud.resources.sender)
    from shared.settings import settings

    settings.cache_clear()
    try:
        mail.send(["agent@demo.deskos.local"], "SLA warning: TK-2026-00001", "Due in 10 minutes.")
        sent = outbox.messages(cloud.server.url)
    finally:
        settings.cache_clear()
        mail._ses.cache_clear()

    assert sent[-1]["subject"] == "SLA warning: TK-2026-00001"
    assert sent[-1]["destinations"]["ToAddresses"] == ["agent@demo.deskos.local"]
    assert "Due in 10 minutes." in outbox.render(sent[-1])
