"""A helpdesk that works by email, over real SMTP and HTTP against `deskos up`: a known contact writes with a PDF and
gets a ticket (channel email) with the scanned file and an acknowledgement; staff answer and the contact reads it;
the contact's reply, without what it quotes, becomes a public comment; internal notes, auto-replies and the same
message sent twice make nothing more; a manager's template changes the acknowledgement, and a broken one is a 422."""

from __future__ import annotations

import smtplib
import time
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest

from infra.local import outbox
from infra.local.seed import DEMO_CONTACT
from tests import mail_corpus
from tests.e2e.waits import eventually

CONTACT = DEMO_CONTACT[1]
SUPPORT = "support@demo.inbound.deskos.local"


@pytest.fixture(scope="module")
def smtp_send(cloud) -> Callable[[bytes, str], None]:
    def send(raw: bytes, to: str) -> None:
        with smtplib.SMTP("127.0.0.1", cloud.details["smtp_port"], timeout=30) as server:
            server.sendmail(CONTACT, [to], raw)

    return send


def mails_to(cloud, address: str, containing: str) -> list[dict[str, Any]]:
    sent = outbox.messages(cloud.details["aws_endpoint_url"])
    return [m for m in sent if address in m["destinations"]["ToAddresses"] and containing in m["subject"]]


def new_mail(subject: str, body: str, *, pdf: bytes | None = None, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = f"Casey Contact <{CONTACT}>", SUPPORT, subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@acme.example>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    if pdf is not None:
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename="invoice.pdf")
    return bytes(message)


def ticket_with_subject(api, demo, subject: str) -> list[dict[str, Any]]:
    found = api.get("/support/tickets", as_=demo.agent, params={"limit": 100}).json()["items"]
    return [t for t in found if t["subject"] == subject]


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_a_helpdesk_that_works_by_email(api, demo, cloud, smtp_send):
    subject = f"Invoice missing {uuid.uuid4().hex[:8]}"
    raw = new_mail(subject, "Our invoice for November never arrived.\n\n-- \nCasey\nAcme Ltd", pdf=PDF)

    # a known contact emails the support address with a PDF: a ticket (channel email) for Acme, the file scanned
    smtp_send(raw, SUPPORT)
    [ticket] = eventually(lambda: ticket_with_subject(api, demo, subject), "ticket")
    assert ticket["channel"] == "email" and ticket["requester"]["kind"] == "contact"
    assert ticket["description"] == "Our invoice for November never arrived."
    files = f"/support/tickets/{ticket['id']}/attachments"
    clean = eventually(
        lambda: [f for f in api.get(files, as_=demo.agent).json()["items"] if f["status"] == "clean"], "clean PDF"
    )
    assert [f["original_filename"] for f in clean] == ["invoice.pdf"]
    # and an acknowledgement naming the number
    [ack] = eventually(lambda: mails_to(cloud, CONTACT, f"[{ticket['number']}] We received"), "acknowledgement")
    assert ack["headers"]["Reply-To"].startswith("reply+")

    # the same message again makes no second ticket
    smtp_send(raw, SUPPORT)
    time.sleep(1)
    assert len(ticket_with_subject(api, demo, subject)) == 1

    # staff reply publicly: the contact receives it; an internal note sends nothing
    comments = f"/support/tickets/{ticket['id']}/comments"
    note = api.post(comments, as_=demo.agent, json={"body": "INTERNAL: check billing run", "public": False})
    reply = api.post(comments, as_=demo.agent, json={"body": "We have re-sent the invoice.", "public": True})
    assert note.status_code == reply.status_code == 201
    [answer] = eventually(lambda: mails_to(cloud, CONTACT, f"[{ticket['number']}] {subject}"), "staff reply email")
    assert "We have re-sent the invoice." in answer["body"]
    sent = outbox.messages(cloud.details["aws_endpoint_url"])
    assert not any("INTERNAL" in m["body"] for m in sent)

    # the contact replies to that email (Outlook, quoting it): the reply alone becomes a public comment
    reply_to = answer["headers"]["Reply-To"]
    outlook = mail_corpus.load(
        "outlook_reply.eml",
        sender=CONTACT,
        support=SUPPORT,
        reply_to=reply_to,
        references=answer["headers"]["Message-ID"],
    )
    smtp_send(outlook, reply_to)
    found = eventually(
        lambda: [c for c in api.get(comments, as_=demo.agent).json()["items"] if c["author_kind"] == "contact"],
        "the contact's comment",
    )
    assert [c["body"] for c in found] == ["Thanks, it works again after the restart.\n\nKind regards,\nCasey"]
    assert found[0]["public"]
    # the portal sees it as a public comment too
    assert any(c["id"] == found[0]["id"] for c in api.get(comments, as_=demo.portal).json()["items"])

    # an auto-reply to the notification creates nothing
    auto = mail_corpus.load("auto_reply.eml", sender=CONTACT, support=SUPPORT, reply_to=reply_to)
    smtp_send(auto, reply_to)
    smtp_send(new_mail("Out of office", "Away", Auto_Submitted="auto-replied"), SUPPORT)
    time.sleep(1)
    assert len(api.get(comments, as_=demo.agent).json()["items"]) == 3
    assert ticket_with_subject(api, demo, "Out of office") == []


def test_a_managers_template_changes_the_acknowledgement_and_a_broken_one_is_a_422(api, demo, cloud, smtp_send):
    templates = "/support/notification-templates"
    broken = api.put(templates, as_=demo.manager, json={"kind": "ticket_created", "subject": "x", "text": "{% if %}"})
    assert broken.status_code == 422 and broken.json()["errors"][0]["line"] == 1
    default = next(t for t in api.get(templates, as_=demo.agent).json()["items"] if t["kind"] == "ticket_created")
    override = {"kind": "ticket_created", "subject": "{{ ticket.number }}: on it", "text": "Dear {{ requester.name }}, "
                "your request is with our team.\n"}  # fmt: skip
    version = {"version": default["version"]} if default["version"] else {}
    changed = api.put(templates, as_=demo.manager, json={**override, **version})
    assert changed.status_code == 200, changed.text
    try:
        subject = f"Badge reader {uuid.uuid4().hex[:8]}"
        smtp_send(new_mail(subject, "The badge reader is offline."), SUPPORT)
        [ticket] = eventually(lambda: ticket_with_subject(api, demo, subject), "ticket")
        [ack] = eventually(lambda: mails_to(cloud, CONTACT, f"{ticket['number']}: on it"), "custom acknowledgement")
        assert "Dear Casey Contact, your request is with our team." in ack["body"]
    finally:  # the default's text again, for whatever runs next
        restore = {k: default[k] for k in ("kind", "subject", "text", "html", "enabled")}
        assert api.put(templates, as_=demo.manager, json={**restore, "version": changed.json()["version"]}).ok


NEW_MAIL = {  # corpus message -> the subject of the ticket it makes
    "forwarded.eml": "Fwd: Invoice 4411 looks wrong",
    "calendar_invite.eml": "Invitation: Printer review @ Tue 1 Dec 2026 10:00 - 10:30 (GMT)",
    "pdf_and_image.eml": "Error report with screenshot",
    "latin1.eml": "Drucker im Büro 3 stört",
    "shift_jis.eml": "プリンター故障",
    "html_only.eml": "Badge reader offline",
}
REFUSED = {"malformed.eml": "Broken multipart", "bounce.eml": "Undelivered Mail Returned to Sender"}


def test_every_shape_of_real_mail_over_smtp_makes_a_ticket_or_nothing(api, demo, smtp_send):
    for name in (*NEW_MAIL, *REFUSED):
        smtp_send(mail_corpus.load(name, sender=CONTACT, support=SUPPORT), SUPPORT)
    smtp_send(mail_corpus.oversize(sender=CONTACT, support=SUPPORT, megabytes=15), SUPPORT)
    for subject in NEW_MAIL.values():
        [ticket] = eventually(lambda s=subject: ticket_with_subject(api, demo, s), f"ticket {subject!r}")
        assert ticket["channel"] == "email" and ticket["description"]
    for subject in (*REFUSED.values(), "The whole archive"):
        assert ticket_with_subject(api, demo, subject) == []
