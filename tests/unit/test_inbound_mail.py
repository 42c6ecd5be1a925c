"""Parsing inbound email (the corpus of real-world shapes) and cutting quotes and signatures off replies."""

from __future__ import annotations

import pytest

from shared.inbound.message import Refused, parse
from shared.inbound.quoting import reply_text, without_signature
from tests import mail_corpus

SENDER, SUPPORT = "casey@acme.example", "support@demo.inbound.deskos.local"
REPLY_TO = "reply+01jdz3q4r5s6t7v8w9x0y1z2a3.nka4genofnlqwcwy@demo.inbound.deskos.local"


def corpus(name: str) -> bytes:
    return mail_corpus.load(name, sender=SENDER, support=SUPPORT, reply_to=REPLY_TO, references="<ref@x>")


def test_outlook_reply_keeps_only_the_new_text():
    mail = parse(corpus("outlook_reply.eml"))
    assert mail.sender == SENDER and mail.sender_name == "Casey Contact"
    assert REPLY_TO in mail.addresses and mail.references == ("<ref@x>", "<ref@x>")
    assert reply_text(mail.text) == "Thanks, it works again after the restart.\n\nKind regards,\nCasey"


def test_gmail_reply_with_a_wrapped_attribution_line_keeps_only_the_new_text():
    mail = parse(corpus("gmail_reply.eml"))
    assert reply_text(mail.text) == "It is jammed again — same tray.\n\nCasey"
    assert mail.message_id.startswith("<CAJx5Q3m1Yp0")


def test_a_forwarded_message_is_content_not_a_quote():
    mail = parse(corpus("forwarded.eml"))
    text = without_signature(mail.text)
    assert "VAT is doubled" in text and "The invoice lists VAT twice on line 3." in text
    assert mail.subject == "Fwd: Invoice 4411 looks wrong"


def test_a_calendar_invitation_keeps_its_text_and_offers_its_ics():
    mail = parse(corpus("calendar_invite.eml"))
    assert "invited to the following event" in mail.text
    assert [p.filename for p in mail.attachments] == ["invite.ics", "invite.ics"]
    assert b"BEGIN:VCALENDAR" in mail.attachments[0].data


def test_pdf_and_inline_image_are_both_attachments_with_their_bytes():
    mail = parse(corpus("pdf_and_image.eml"))
    files = {p.filename: p for p in mail.attachments}
    assert set(files) == {"error report.pdf", "screenshot.png"}
    assert files["error report.pdf"].data.startswith(b"%PDF-1.4")
    assert files["screenshot.png"].data.startswith(b"\x89PNG") and files["screenshot.png"].content_type == "image/png"
    assert without_signature(mail.text) == "The report and a screenshot of the error are attached."


def test_latin1_body_and_encoded_headers_are_decoded():
    mail = parse(corpus("latin1.eml"))
    assert mail.subject == "Drucker im Büro 3 stört" and mail.sender_name == "Jürgen Müller"
    assert "»Papierstau«" in mail.text and "Ça marche pas!" in mail.text


def test_shift_jis_body_and_subject_are_decoded():
    mail = parse(corpus("shift_jis.eml"))
    assert mail.subject == "プリンター故障"
    assert "紙詰まり" in mail.text


def test_html_only_mail_gets_a_text_without_markup_or_styles():
    mail = parse(corpus("html_only.eml"))
    assert "The badge reader at the north door is offline." in mail.text
    assert "https://status.acme.example" in mail.text and "color" not in mail.text and "<" not in mail.text


@pytest.mark.parametrize(("name", "why"), [("auto_reply.eml", "auto-submitted"), ("bounce.eml", "bounce")])
def test_machines_are_recognised(name, why):
    assert parse(corpus(name)).automatic.startswith(why)


@pytest.mark.parametrize(
    ("header", "value"),
    [("Precedence", "bulk"), ("Precedence", "junk"), ("Precedence", "list"), ("Auto-Submitted", "auto-generated")],
)
def test_bulk_and_generated_mail_is_automatic(header, value):
    raw = f"From: a@b.example\r\nTo: {SUPPORT}\r\n{header}: {value}\r\nSubject: x\r\n\r\nhello\r\n".encode()
    assert parse(raw).automatic


def test_a_person_is_not_automatic():
    assert parse(corpus("pdf_and_image.eml")).automatic is None


@pytest.mark.parametrize(
    "raw",
    [
        mail_corpus.load("malformed.eml", sender=SENDER, support=SUPPORT),
        b"",
        b"\x00\xff\xfe garbage without headers",
        b"To: support@demo.inbound.deskos.local\r\nSubject: nobody sent this\r\n\r\nbody\r\n",
    ],
)
def test_malformed_mime_is_refused_with_a_reason(raw):
    with pytest.raises(Refused, match="malformed"):
        parse(raw)


def test_an_unknown_charset_is_read_not_raised():
    raw = b"From: a@b.example\r\nContent-Type: text/plain; charset=x-klingon\r\nSubject: x\r\n\r\nplain words\r\n"
    assert "plain words" in parse(raw).text


def test_a_message_without_message_id_gets_one_from_its_bytes():
    raw = b"From: a@b.example\r\nSubject: x\r\n\r\nhello\r\n"
    assert parse(raw).message_id == parse(raw).message_id != parse(raw + b"!").message_id


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Yes.\n\n-----Original Message-----\nFrom: x\n", "Yes."),
        ("Oui.\n\nLe ven. 27 nov. 2026 à 10:14, Demo <a@b> a écrit :\n> avant\n", "Oui."),
        ("Ja.\n\nAm 27.11.2026 um 10:14 schrieb Demo <a@b>:\n> vorher\n", "Ja."),
        ("Fine\n> old line one\n> old line two\n", "Fine"),
        ("Done.\n\n-- \nCasey | Acme\n+44 20 0000 0000\n", "Done."),
        ("Done.\n\nSent from my iPhone", "Done."),
        ("New\n##- Please type your reply above this line -##\nold", "New"),
        ("no quote at all", "no quote at all"),
    ],
)
def test_quotes_and_signatures_are_cut(text, kept):
    assert reply_text(text) == kept
