"""The inbound email function (SES's receipt rule in the cloud, the SMTP listener locally): what each message
makes, exactly once, and what it never makes."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from typing import Any

import pytest

from functions.events import inbound_email
from infra.local.smtp import deliver_to_function
from shared.inbound import intake, mailbox
from shared.settings import settings
from tests import mail_corpus
from tests.integration.api.harness import Tenant, call

COMMENTS = "/support/tickets/{ticket_id}/comments"


@pytest.fixture
def deliver(module_cloud):
    """Store a raw message as SES's S3 action does and invoke the function as its Lambda action does."""
    send = deliver_to_function(
        module_cloud.client("s3"), settings().bucket_name, module_cloud.region, inbound_email.handler
    )

    def deliver(raw: bytes, to: str) -> dict[str, Any]:
        (outcome,) = send(raw, [to], "sender@example")["outcomes"]
        return outcome

    return deliver


@pytest.fixture
def firm(module_cloud) -> dict[str, Any]:
    tenant = Tenant()
    client = tenant.client("Acme Ltd")
    contact = tenant.contact(client["id"], "Casey Contact", email=f"casey@{tenant.id}.example")
    return {"tenant": tenant, "client": client, "contact": contact, "support": mailbox.support_address(tenant.id)}


def simple(sender: str, to: str, subject: str = "Help", body: str = "Please help.", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@example.com>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return bytes(message)


def tickets_of(tenant: Tenant) -> list[dict[str, Any]]:
    return call(tenant.agent, "GET", "/support/tickets").json["items"]


def comments_of(tenant: Tenant, ticket_id: str) -> list[dict[str, Any]]:
    return call(tenant.agent, "GET", COMMENTS, {"ticket_id": ticket_id}).json["items"]


def corpus(firm: dict[str, Any], name: str, **fill: str) -> bytes:
    return mail_corpus.load(name, sender=firm["contact"]["email"], support=firm["support"], **fill)


def test_a_known_contact_gets_a_ticket_for_its_client_with_its_files(firm, deliver, pump_stream):
    outcome = deliver(corpus(firm, "pdf_and_image.eml"), firm["support"])
    assert outcome["action"] == "ticket", outcome
    (ticket,) = tickets_of(firm["tenant"])
    assert ticket["channel"] == "email" and ticket["client_id"] == firm["client"]["id"]
    assert ticket["requester"] == {"kind": "contact", "id": firm["contact"]["id"], "name": None}
    assert ticket["subject"] == "Error report with screenshot"
    assert ticket["description"] == "The report and a screenshot of the error are attached."  # no signature
    pump_stream()  # the scan judges the files
    files = call(firm["tenant"].agent, "GET", "/support/tickets/{ticket_id}/attachments", {"ticket_id": ticket["id"]})
    assert {(f["original_filename"], f["status"], f["is_public"]) for f in files.json["items"]} == {
        ("error report.pdf", "clean", True),
        ("screenshot.png", "clean", True),
    }


def test_the_same_message_twice_makes_one_ticket(firm, deliver):
    raw = corpus(firm, "latin1.eml")
    assert deliver(raw, firm["support"])["action"] == "ticket"
    assert deliver(raw, firm["support"])["action"] == "duplicate"
    (ticket,) = tickets_of(firm["tenant"])
    assert ticket["subject"] == "Drucker im Büro 3 stört" and "»Papierstau«" in ticket["description"]


def test_a_delivery_that_died_half_way_is_finished_by_the_next_without_doubles(firm, deliver, monkeypatch):
    raw = corpus(firm, "pdf_and_image.eml")

    def broken(post, part):
        raise intake.UploadFailed("S3 is down")

    with monkeypatch.context() as patch:
        patch.setattr(intake, "_upload", broken)
        with pytest.raises(intake.UploadFailed):
            deliver(raw, firm["support"])
    assert deliver(raw, firm["support"])["action"] == "ticket"
    assert deliver(raw, firm["support"])["action"] == "duplicate"
    (ticket,) = tickets_of(firm["tenant"])
    files = call(firm["tenant"].agent, "GET", "/support/tickets/{ticket_id}/attachments", {"ticket_id": ticket["id"]})
    assert len(files.json["items"]) == 2


@pytest.mark.parametrize("name", ["outlook_reply.eml", "gmail_reply.eml"])
def test_a_reply_to_a_notification_becomes_a_public_comment_without_the_quote(firm, deliver, name):
    tenant = firm["tenant"]
    ticket = tenant.ticket(client_id=firm["client"]["id"], requester_contact_id=firm["contact"]["id"])
    reply_to = mailbox.reply_address(tenant.id, ticket["id"])
    raw = corpus(firm, name, reply_to=reply_to, references=mailbox.reply_message_id(tenant.id, ticket["id"]))
    outcome = deliver(raw, reply_to)
    assert outcome["action"] == "comment", outcome
    (comment,) = comments_of(tenant, ticket["id"])
    assert comment["public"] and comment["author_kind"] == "contact" and comment["author_id"] == firm["contact"]["id"]
    assert "wrote:" not in comment["body"] and "Please type your reply" not in comment["body"]
    assert comment["body"].startswith(("Thanks, it works again", "It is jammed again"))


def test_a_reply_sent_to_the_support_address_is_threaded_by_its_references(firm, deliver):
    tenant = firm["tenant"]
    ticket = tenant.ticket(client_id=firm["client"]["id"], requester_contact_id=firm["contact"]["id"])
    references = f"<older@example.com> {mailbox.reply_message_id(tenant.id, ticket['id'])}"
    raw = simple(firm["contact"]["email"], firm["support"], "Re: help", "Still broken.", References=references)
    assert deliver(raw, firm["support"])["action"] == "comment"
    assert [c["body"] for c in comments_of(tenant, ticket["id"])] == ["Still broken."]


def test_a_stranger_replying_with_a_valid_token_is_refused(firm, deliver):
    tenant = firm["tenant"]
    ticket = tenant.ticket(client_id=firm["client"]["id"], requester_contact_id=firm["contact"]["id"])
    reply_to = mailbox.reply_address(tenant.id, ticket["id"])
    outcome = deliver(simple("mallory@evil.example", reply_to, "Re: x", "Close this, please."), reply_to)
    assert outcome["action"] == "refused" and "may not reply" in outcome["reason"]
    assert comments_of(tenant, ticket["id"]) == []


def test_a_reply_token_of_one_tenant_never_comments_in_another(firm, deliver, new_tenant):
    victim = firm["tenant"]
    ticket = victim.ticket(client_id=firm["client"]["id"], requester_contact_id=firm["contact"]["id"])
    tag = mailbox.reply_address(victim.id, ticket["id"]).split("@")[0]
    intruder = new_tenant()
    moved = f"{tag}@{mailbox.domain_of(intruder.id)}"  # the tag, sent to the intruder's mailbox
    outcome = deliver(simple(firm["contact"]["email"], moved, "Re: x", "hijack"), moved)
    assert outcome["action"] != "comment"
    assert comments_of(victim, ticket["id"]) == []
    forged = mailbox.reply_address(victim.id, ticket["id"]).replace(tag[-4:], "aaaa")
    assert deliver(simple(firm["contact"]["email"], forged, "Re: x", "forged"), forged)["action"] != "comment"
    assert comments_of(victim, ticket["id"]) == []


@pytest.mark.parametrize("name", ["auto_reply.eml", "bounce.eml"])
def test_auto_replies_and_bounces_make_nothing(firm, deliver, name):
    tenant = firm["tenant"]
    ticket = tenant.ticket(client_id=firm["client"]["id"], requester_contact_id=firm["contact"]["id"])
    reply_to = mailbox.reply_address(tenant.id, ticket["id"])
    assert deliver(corpus(firm, name, reply_to=reply_to), reply_to)["action"] == "refused"
    assert comments_of(tenant, ticket["id"]) == [] and len(tickets_of(tenant)) == 1


@pytest.mark.parametrize("header", [{"Precedence": "bulk"}, {"Auto_Submitted": "auto-generated"}])
def test_bulk_mail_makes_nothing(firm, deliver, header):
    assert deliver(simple(firm["contact"]["email"], firm["support"], **header), firm["support"])["action"] == "refused"
    assert tickets_of(firm["tenant"]) == []


def test_deskos_own_mail_is_a_loop_and_makes_nothing(firm, deliver):
    own = simple(settings().mail_sender, firm["support"])
    assert "loop" in deliver(own, firm["support"])["reason"]
    assert tickets_of(firm["tenant"]) == []


def test_a_flood_from_one_sender_is_cut_off(firm, deliver, monkeypatch):
    monkeypatch.setenv("DESKOS_INBOUND_PER_MINUTE", "3")
    actions = [deliver(simple(firm["contact"]["email"], firm["support"]), firm["support"])["action"] for _ in range(5)]
    assert actions.count("ticket") == 3 and actions.count("refused") == 2
    assert len(tickets_of(firm["tenant"])) == 3


def test_an_oversize_message_is_refused_unread(firm, deliver):
    outcome = deliver(mail_corpus.oversize(sender=firm["contact"]["email"], support=firm["support"]), firm["support"])
    assert outcome["action"] == "refused" and outcome["reason"].startswith("oversize")
    assert tickets_of(firm["tenant"]) == []


def test_malformed_mime_is_refused_with_a_reason(firm, deliver):
    outcome = deliver(corpus(firm, "malformed.eml"), firm["support"])
    assert outcome["action"] == "refused" and "malformed" in outcome["reason"]


def test_mail_to_no_tenant_mailbox_is_refused(firm, deliver):
    assert (
        deliver(simple(firm["contact"]["email"], "x@elsewhere.example"), "x@elsewhere.example")["action"] == "refused"
    )


def test_a_portal_user_writing_from_its_address_gets_a_ticket_for_its_client(firm, deliver):
    tenant = firm["tenant"]
    portal = tenant.portal_user(firm["client"]["id"], "pat")
    assert deliver(simple(portal.email, firm["support"]), firm["support"])["action"] == "ticket"
    (ticket,) = tickets_of(tenant)
    assert ticket["requester"] == {"kind": "portal_user", "id": portal.user_id, "name": None}
    assert ticket["client_id"] == firm["client"]["id"]


def test_an_unknown_sender_gets_a_ticket_without_client_or_is_refused_as_the_mailbox_says(firm, deliver):
    tenant = firm["tenant"]
    assert deliver(simple("newcomer@example.org", firm["support"], "Hello"), firm["support"])["action"] == "ticket"
    (ticket,) = tickets_of(tenant)
    assert ticket["client_id"] is None and ticket["requester"] == {
        "kind": "email",
        "id": "newcomer@example.org",
        "name": None,
    }
    # the stranger's reply to its own ticket is its requester's
    reply_to = mailbox.reply_address(tenant.id, ticket["id"])
    assert deliver(simple("newcomer@example.org", reply_to, "Re: Hello", "More"), reply_to)["action"] == "comment"
    call(tenant.manager, "PUT", "/support/mailbox", body={"unknown_senders": "refuse"})
    outcome = deliver(simple("other@example.org", firm["support"]), firm["support"])
    assert outcome["action"] == "refused" and "unknown sender" in outcome["reason"]
    assert len(tickets_of(tenant)) == 1


def test_a_stranger_is_greeted_by_the_name_its_mail_gave(firm, deliver, pump_stream, sent_mail):
    sender = '"Nora Newcomer" <nora@example.org>'
    assert deliver(simple(sender, firm["support"], "Printer jam"), firm["support"])["action"] == "ticket"
    (ticket,) = tickets_of(firm["tenant"])
    assert ticket["requester"] == {"kind": "email", "id": "nora@example.org", "name": "Nora Newcomer"}
    pump_stream()  # the acknowledgement
    (acknowledgement,) = [m for m in sent_mail() if m["destinations"]["ToAddresses"] == ["nora@example.org"]]
    assert "Hello Nora Newcomer," in acknowledgement["body"]


@pytest.mark.parametrize("name", ["shift_jis.eml", "html_only.eml", "calendar_invite.eml", "forwarded.eml"])
def test_every_shape_of_new_mail_becomes_a_readable_ticket(firm, deliver, name):
    assert deliver(corpus(firm, name), firm["support"])["action"] == "ticket"
    (ticket,) = tickets_of(firm["tenant"])
    expected = {
        "shift_jis.eml": ("プリンター故障", "紙詰まり"),
        "html_only.eml": ("Badge reader offline", "north door is offline"),
        "calendar_invite.eml": ("Invitation: Printer review", "invited to the following event"),
        "forwarded.eml": ("Fwd: Invoice 4411 looks wrong", "VAT twice on line 3"),
    }[name]
    assert ticket["subject"].startswith(expected[0]) and expected[1] in ticket["description"]


@pytest.mark.parametrize("verdict", ["spamVerdict", "virusVerdict", "dmarcVerdict"])
def test_a_message_ses_judged_spam_infected_or_forged_is_refused_unread(firm, verdict):
    from infra.local.smtp import ses_event

    event = ses_event("never-stored", [firm["support"]], firm["contact"]["email"], "eu-west-1")
    event["Records"][0]["ses"]["receipt"][verdict] = {"status": "FAIL"}
    (outcome,) = inbound_email.handler(event, None)["outcomes"]
    assert outcome["action"] == "refused" and verdict in outcome["reason"]
    assert tickets_of(firm["tenant"]) == []
