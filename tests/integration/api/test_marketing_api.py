"""Marketing over its routes (moto): tags, segments, templates, campaigns, unsubscribe, tracking, bounces."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest

from functions.events import mail_feedback
from infra.local.lambda_context import LambdaContext
from shared.marketing import sending
from shared.marketing.sends import SendRecord
from tests.integration.api import marketing_helpers as mk
from tests.integration.api.harness import call


def email() -> str:
    return f"{uuid.uuid4().hex[:10]}@example.test"


@pytest.fixture
def scene(tenant):
    """A premium client with three contacts, a standard client with two."""
    premium = tenant.client("Premium Co", customer_type="premium")
    standard = tenant.client("Standard Co")
    contacts = [tenant.contact(premium["id"], f"Ann{i} Premium", email=email()) for i in range(3)]
    contacts += [tenant.contact(standard["id"], f"Bob{i} Standard", email=email()) for i in range(2)]
    return premium, standard, contacts


# ---- tags ----------------------------------------------------------------------------------------


def test_tag_names_are_unique_ignoring_case(tenant):
    mk.tag(tenant, "VIP")
    reply = call(tenant.agent, "POST", "/marketing/tags", body={"name": "vip"})
    assert reply.problem(409)["detail"] == "A tag with this name already exists."


def test_a_renamed_tag_frees_its_old_name(tenant):
    made = mk.tag(tenant, "Gold")
    reply = call(
        tenant.agent,
        "PATCH",
        "/marketing/tags/{tag_id}",
        {"tag_id": made["id"]},
        body={"name": "Platinum", "version": 1},
    )
    assert reply.status == 200, reply.text
    assert mk.tag(tenant, "gold")["name"] == "gold"


def test_bulk_apply_answers_per_entity_and_is_idempotent(tenant, new_tenant, scene):
    _, _, contacts = scene
    stranger = new_tenant()
    foreign = stranger.contact(stranger.client()["id"], "Foreign")
    made = mk.tag(tenant, "vip")
    entities = [{"kind": "contact", "id": c["id"]} for c in contacts[:3]] + [{"kind": "contact", "id": foreign["id"]}]
    body = {"tag_id": made["id"], "entities": entities}

    first = call(tenant.agent, "POST", "/marketing/entity-tags/bulk-apply", body=body)
    again = call(tenant.agent, "POST", "/marketing/entity-tags/bulk-apply", body=body)

    assert first.status == 200, first.text
    assert [r["result"] for r in first.json["results"]] == ["applied"] * 3 + ["not_found"]
    assert [r["result"] for r in again.json["results"]] == ["already"] * 3 + ["not_found"]
    listed = call(tenant.agent, "GET", "/marketing/tags/{tag_id}/entities", {"tag_id": made["id"]})
    assert sorted(e["entity_id"] for e in listed.json["items"]) == sorted(c["id"] for c in contacts[:3])
    removed = call(tenant.agent, "POST", "/marketing/entity-tags/bulk-remove", body=body)
    assert [r["result"] for r in removed.json["results"]] == ["removed"] * 3 + ["not_found"]


def test_another_tenants_tag_is_refused_like_a_missing_one(tenant, new_tenant, scene):
    foreign = mk.tag(new_tenant(), "vip")
    body = {"tag_id": foreign["id"], "entity_kind": "contact", "entity_id": scene[2][0]["id"]}
    reply = call(tenant.agent, "POST", "/marketing/entity-tags", body=body)
    assert reply.field_errors() == {"tag_id": "No such tag."}


# ---- segments ------------------------------------------------------------------------------------


def vip_or_recent(tag_id: str) -> dict:
    return {
        "match": "all",
        "conditions": [
            {"field": "client.customer_type", "operator": "equals", "value": "premium"},
            {
                "match": "any",
                "conditions": [
                    {"field": "contact.tags", "operator": "has_tag", "value": tag_id},
                    {"field": "contact.created_at", "operator": "within_last_days", "value": 30},
                ],
            },
        ],
    }


def test_unknown_field_or_unfit_operator_is_422_naming_it(tenant):
    bad = {"match": "all", "conditions": [{"field": "contact.shoe_size", "operator": "equals", "value": "9"}]}
    reply = call(tenant.manager, "POST", "/marketing/segments", body={"name": "x", "criteria": bad})
    assert "contact.shoe_size" in reply.field_errors()["criteria.conditions.0.field"]
    unfit = {"match": "all", "conditions": [{"field": "contact.created_at", "operator": "contains", "value": "x"}]}
    reply = call(tenant.manager, "POST", "/marketing/segments/preview", body={"criteria": unfit})
    assert "contains" in reply.field_errors()["criteria.conditions.0.operator"]


def test_a_dynamic_segment_previews_saves_and_refreshes_its_members(tenant, scene):
    contacts = scene[2]
    made = mk.tag(tenant, "vip")
    mk.apply(tenant, made["id"], "contact", contacts[0]["id"])
    criteria = vip_or_recent(made["id"])

    preview = call(tenant.manager, "POST", "/marketing/segments/preview", body={"criteria": criteria})
    saved = mk.segment(tenant, criteria=criteria)
    refreshed = mk.refreshed(tenant, saved["id"])

    premium_ids = sorted(c["id"] for c in contacts[:3])  # all created just now: recent
    assert preview.status == 200 and preview.json["count"] == 3, preview.text
    assert refreshed["member_count"] == 3 and not refreshed["refreshing"]
    assert sorted(m["contact_id"] for m in mk.members(tenant, saved["id"])) == premium_ids


def test_a_static_segment_takes_members_by_id(tenant, new_tenant, scene):
    contacts = scene[2]
    foreign = new_tenant()
    other = foreign.contact(foreign.client()["id"], "Foreign")
    made = mk.segment(tenant, kind="static")
    path = "/marketing/segments/{segment_id}/members/add"
    body = {"contact_ids": [contacts[0]["id"], other["id"]]}
    reply = call(tenant.manager, "POST", path, {"segment_id": made["id"]}, body=body)
    assert [r["result"] for r in reply.json["results"]] == ["added", "not_found"]
    assert [m["contact_id"] for m in mk.members(tenant, made["id"])] == [contacts[0]["id"]]


# ---- templates -----------------------------------------------------------------------------------


def test_a_template_with_a_syntax_error_is_422_with_its_line(tenant):
    body = {**mk.TEMPLATE, "html": "<p>Hello</p>\n<p>{% if contact.name %}</p>"}
    reply = call(tenant.manager, "POST", "/marketing/email-templates", body=body)
    error = reply.problem(422)["errors"][0]
    assert error["field"] == "html" and error["line"] == 2, reply.text


def test_preview_renders_the_contacts_name(tenant, scene):
    contact = scene[2][0]
    made = mk.template(tenant)
    path = "/marketing/email-templates/{email_template_id}/preview"
    reply = call(tenant.agent, "GET", path, {"email_template_id": made["id"]}, query={"contact_id": contact["id"]})
    assert reply.status == 200, reply.text
    assert "Hello Ann0," in reply.json["html"] and reply.json["subject"] == "News for Premium Co"
    sample = call(tenant.agent, "GET", path, {"email_template_id": made["id"]})
    assert "Hello Ada," in sample.json["html"]


def test_preview_reads_the_template_tenant_and_contact_at_once(tenant, scene, faults):
    made, contact = mk.template(tenant), scene[2][0]
    path = "/marketing/email-templates/{email_template_id}/preview"
    faults.calls.clear()
    assert call(tenant.agent, "GET", path, {"email_template_id": made["id"]}).status == 200
    assert sum(faults.calls.values()) == 1  # sample data: one BatchGetItem (template, tenant)
    faults.calls.clear()
    query = {"contact_id": contact["id"]}
    assert call(tenant.agent, "GET", path, {"email_template_id": made["id"]}, query=query).status == 200
    assert sum(faults.calls.values()) == 2  # and the contact's client
    missing = call(tenant.agent, "GET", path, {"email_template_id": made["id"]}, query={"contact_id": "0" * 26})
    assert missing.problem(404)["detail"] == "No such contact."
    gone = call(tenant.agent, "GET", path, {"email_template_id": "0" * 26}, query=query)
    assert gone.problem(404)["detail"] == "No such email template."


def pages_of(tenant, path: str, limit: int) -> list[list[dict]]:
    pages, cursor = [], None
    while True:
        query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        reply = call(tenant.agent, "GET", path, query=query)
        assert reply.status == 200, reply.text
        pages.append(reply.json["items"])
        cursor = reply.json["next_cursor"]
        if cursor is None:
            return pages


def test_lists_read_owners_with_their_counters_in_one_query_and_page_right(tenant, faults):
    made = [mk.template(tenant, name=f"T{i}") for i in range(5)]
    # one template's counters as written before they were listed beside it: the list still finds them
    from shared.marketing.counters import Counters

    legacy = Counters.get(f"T#{tenant.id}#EMAILTEMPLATE#{made[1]['id']}", "COUNTERS")
    legacy.update([Counters.GSI1PK.remove(), Counters.GSI1SK.remove(), Counters.opened.add(3)])
    faults.calls.clear()
    pages = pages_of(tenant, "/marketing/email-templates", 2)
    assert [[t["name"] for t in page] for page in pages] == [["T0", "T1"], ["T2", "T3"], ["T4"]]
    assert [t["counters"]["opened"] for page in pages for t in page] == [0, 3, 0, 0, 0]
    assert faults.calls["Query"] == 3 and faults.calls["BatchGetItem"] == 1  # only for the unlisted counters
    faults.calls.clear()
    assert [t["name"] for t in pages_of(tenant, "/marketing/email-templates", 100)[0]] == [f"T{i}" for i in range(5)]
    assert sum(faults.calls.values()) == 2  # one Query, one BatchGetItem for the legacy counters


def test_segment_and_campaign_lists_are_one_query_a_page(tenant, scene, faults):
    segments = [mk.segment(tenant, name=f"S{i}", kind="static") for i in range(3)]
    made = mk.template(tenant)
    campaigns = [mk.campaign(tenant, made["id"], segments[0]["id"], name=f"C{i}", scheduled=False) for i in range(3)]
    for path, expected in (("/marketing/segments", segments), ("/marketing/campaign-executions", campaigns)):
        faults.calls.clear()
        pages = pages_of(tenant, path, 2)
        assert [item["id"] for page in pages for item in page] == [item["id"] for item in expected]
        assert dict(faults.calls) == {"Query": 2}, path
    listed = pages_of(tenant, "/marketing/campaign-executions", 10)[0]
    assert all(c["counts"]["sent"] == 0 and c["status"] == "draft" for c in listed)
    listed = pages_of(tenant, "/marketing/segments", 10)[0]
    assert all(s["member_count"] == 0 and s["refreshing"] is False for s in listed)


# ---- campaigns -----------------------------------------------------------------------------------


def test_a_campaign_sends_one_email_per_member_with_unsubscribe_headers(module_cloud, tenant, scene):
    contacts = scene[2]
    made = mk.static_segment(tenant, [c["id"] for c in contacts])
    campaign = mk.campaign(tenant, mk.template(tenant)["id"], made["id"])

    run = mk.send(tenant, campaign["id"])

    assert run.finished and run.sent == 5
    mails = mk.mails_of(module_cloud.server.url, campaign["id"])
    assert mk.recipients(mails) == sorted(c["email"] for c in contacts)
    headers = mails[0]["headers"]
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<http.*/marketing/unsubscribe\?token=.+>", headers["List-Unsubscribe"])
    done = mk.get_campaign(tenant, campaign["id"])
    assert done["status"] == "sent", done
    assert done["counts"]["sent"] == 5 and done["counts"]["recipients"] == 5, done


def one_click(mail: dict) -> dict[str, str]:
    url = mail["headers"]["List-Unsubscribe"].strip("<>")
    return {"token": parse_qs(urlparse(url).query)["token"][0]}


def test_one_click_unsubscribe_and_a_bounce_keep_contacts_out_of_the_next_campaign(module_cloud, tenant, scene):
    contacts = scene[2]
    made = mk.static_segment(tenant, [c["id"] for c in contacts])
    template = mk.template(tenant)
    first = mk.campaign(tenant, template["id"], made["id"])
    mk.send(tenant, first["id"])
    mails = {m["destinations"]["ToAddresses"][0]: m for m in mk.mails_of(module_cloud.server.url, first["id"])}

    # a GET only shows what the link is about; a one-click POST (form body) unsubscribes at once
    token = one_click(mails[contacts[0]["email"]])
    shown = call(None, "GET", "/marketing/unsubscribe", query=token)
    assert shown.status == 200 and shown.json["unsubscribed"] is False, shown.text
    posted = call(
        None,
        "POST",
        "/marketing/unsubscribe",
        query=token,
        body="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert posted.status == 200 and posted.json["unsubscribed"] is True, posted.text
    # and SES says the second contact's address bounced for good
    bounced = contacts[1]["email"]
    tags = {"tenant": [tenant.id], "campaign": [first["id"]], "template": [template["id"]]}
    notification = {
        "eventType": "Bounce",
        "mail": {"tags": tags, "destination": [bounced]},
        "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": bounced}]},
    }
    result = mail_feedback.handler(mail_feedback.sns_event(notification), LambdaContext("MailFeedback"))
    assert result["recorded"] == ["bounced"]

    second = mk.campaign(tenant, template["id"], made["id"])
    run = mk.send(tenant, second["id"])

    assert run.sent == 3 and run.skipped == 2
    assert mk.recipients(mk.mails_of(module_cloud.server.url, second["id"])) == sorted(c["email"] for c in contacts[2:])
    counts = mk.get_campaign(tenant, first["id"])["counts"]
    assert counts["unsubscribed"] == 1 and counts["bounced"] == 1
    assert mk.get_campaign(tenant, second["id"])["counts"]["skipped"] == 2


def test_opening_and_clicking_count_once_and_redirect_only_to_the_emails_link(module_cloud, tenant, scene):
    contacts = scene[2]
    made = mk.static_segment(tenant, [contacts[0]["id"]])
    template = mk.template(tenant)
    campaign = mk.campaign(tenant, template["id"], made["id"])
    mk.send(tenant, campaign["id"])
    html = mk.mails_of(module_cloud.server.url, campaign["id"])[0]["html"]
    pixel = re.search(r'src="([^"]+/marketing/track/open[^"]+)"', html).group(1).replace("&amp;", "&")
    link = re.search(r'href="([^"]+/marketing/track/click[^"]+)"', html).group(1).replace("&amp;", "&")

    for _ in range(2):
        opened = call(
            None, "GET", "/marketing/track/open", query={"token": parse_qs(urlparse(pixel).query)["token"][0]}
        )
        clicked = call(
            None, "GET", "/marketing/track/click", query={"token": parse_qs(urlparse(link).query)["token"][0]}
        )
        assert opened.status == 200 and opened.header("Content-Type") == "image/gif"
        assert clicked.status == 302 and clicked.header("Location") == "https://example.com/news"

    counts = mk.get_campaign(tenant, campaign["id"])["counts"]
    assert (counts["opened"], counts["clicked"]) == (1, 1)
    got = call(
        tenant.agent, "GET", "/marketing/email-templates/{email_template_id}", {"email_template_id": template["id"]}
    )
    assert (got.json["counters"]["opened"], got.json["counters"]["clicked"]) == (1, 1)
    assert call(None, "GET", "/marketing/track/click", query={"token": "forged.token"}).status == 422


def test_two_runs_overlapping_to_the_end_count_the_emails_on_the_template_once(
    module_cloud, tenant, scene, monkeypatch
):
    contacts = scene[2]
    made = mk.static_segment(tenant, [c["id"] for c in contacts])
    template = mk.template(tenant)
    campaign = mk.campaign(tenant, template["id"], made["id"])
    # the schedule's run has loaded the campaign when a second run (a retry, `deskos schedule run`) sends it all
    members, overlapped = sending._members, {}

    def the_other_run_finishes_first(*args):
        if not overlapped:
            overlapped["run"] = None
            overlapped["run"] = mk.send(tenant, campaign["id"])
        return members(*args)

    monkeypatch.setattr(sending, "_members", the_other_run_finishes_first)
    late = mk.send(tenant, campaign["id"])

    assert overlapped["run"].finished and overlapped["run"].sent == 5 and late.sent == 0
    assert len(mk.mails_of(module_cloud.server.url, campaign["id"])) == 5
    got = call(
        tenant.agent, "GET", "/marketing/email-templates/{email_template_id}", {"email_template_id": template["id"]}
    )
    assert got.json["counters"]["sent"] == 5, got.json
    done = mk.get_campaign(tenant, campaign["id"])
    assert done["status"] == "sent" and done["counts"]["sent"] == 5, done


def test_a_crash_between_ses_and_the_confirmation_sends_nobody_twice(module_cloud, tenant, faults):
    client = tenant.client("Crashy")
    contacts = [tenant.contact(client["id"], f"C{i}", email=email()) for i in range(60)]
    made = mk.static_segment(tenant, [c["id"] for c in contacts])
    campaign = mk.campaign(tenant, mk.template(tenant)["id"], made["id"])
    # the second chunk's confirmation fails: SES has taken its emails, the records still say claimed
    calls = {"n": 0}

    def second_confirmation(params) -> bool:
        calls["n"] += 1
        return calls["n"] == 2

    faults.fail(
        "BatchWriteItem",
        {"Error": {"Code": "InternalFailure", "Message": "crash"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
        times=1,
        when=second_confirmation,
    )
    with pytest.raises(Exception):  # noqa: B017 - the run dies as a crashed function would
        mk.send(tenant, campaign["id"])
    faults.clear()

    run = mk.send(tenant, campaign["id"])

    mails = mk.mails_of(module_cloud.server.url, campaign["id"])
    assert len(mails) == 60 and len(set(mk.recipients(mails))) == 60
    counts = mk.get_campaign(tenant, campaign["id"])["counts"]
    assert run.finished and counts["unconfirmed"] == 25 and counts["sent"] == 35


def delivered(tenant, campaign: dict, template: dict, contact: dict) -> dict:
    tags = {"tenant": [tenant.id], "campaign": [campaign["id"]], "template": [template["id"]]}
    tags["contact"] = [contact["id"]]
    notification = {"eventType": "Delivery", "mail": {"tags": tags, "messageId": "ses-message-1"}}
    return mail_feedback.handler(mail_feedback.sns_event(notification), LambdaContext("MailFeedback"))


def test_a_delivery_makes_an_unconfirmed_recipient_sent(module_cloud, tenant, faults):
    client = tenant.client("Crashy")
    contacts = [tenant.contact(client["id"], f"C{i}", email=email()) for i in range(3)]
    made = mk.static_segment(tenant, [c["id"] for c in contacts])
    template = mk.template(tenant)
    crash = {"Error": {"Code": "InternalFailure", "Message": "crash"}, "ResponseMetadata": {"HTTPStatusCode": 500}}

    def crashed_send(campaign: dict) -> None:
        faults.fail("BatchWriteItem", crash, times=1)  # the confirmation: all three stay claimed
        with pytest.raises(Exception):  # noqa: B017 - the run dies as a crashed function would
            mk.send(tenant, campaign["id"])
        faults.clear()

    # the campaign's counts are written (finished) before SES says one was delivered: they follow
    first = mk.campaign(tenant, template["id"], made["id"])
    crashed_send(first)
    assert mk.send(tenant, first["id"]).finished
    assert mk.get_campaign(tenant, first["id"])["counts"]["unconfirmed"] == 3
    assert delivered(tenant, first, template, contacts[0])["recorded"] == ["delivered"]
    assert delivered(tenant, first, template, contacts[0])["recorded"] == [None]  # SES redelivers: nothing more
    counts = mk.get_campaign(tenant, first["id"])["counts"]
    assert (counts["sent"], counts["unconfirmed"], counts["delivered"]) == (1, 2, 1)
    path = "/marketing/email-templates/{email_template_id}"
    counted = call(tenant.agent, "GET", path, {"email_template_id": template["id"]}).json["counters"]
    assert (counted["sent"], counted["delivered"]) == (1, 1)
    record = SendRecord.get(*SendRecord.key(tenant.id, first["id"], contacts[0]["id"]))
    assert (record.status, record.message_id) == ("sent", "ses-message-1")

    # delivered while the campaign is still sending: the tally counts it as sent
    second = mk.campaign(tenant, template["id"], made["id"])
    crashed_send(second)
    assert delivered(tenant, second, template, contacts[1])["recorded"] == ["delivered"]
    assert mk.send(tenant, second["id"]).finished
    counts = mk.get_campaign(tenant, second["id"])["counts"]
    assert (counts["sent"], counts["unconfirmed"], counts["delivered"]) == (1, 2, 1)
    counted = call(tenant.agent, "GET", path, {"email_template_id": template["id"]}).json["counters"]
    assert (counted["sent"], counted["delivered"]) == (2, 2)


def test_cancel_stops_a_send_in_progress(module_cloud, tenant):
    client = tenant.client("Big")
    contacts = [tenant.contact(client["id"], f"C{i}", email=email()) for i in range(60)]
    made = mk.static_segment(tenant, [c["id"] for c in contacts])
    campaign = mk.campaign(tenant, mk.template(tenant)["id"], made["id"])
    path = "/marketing/campaign-executions/{campaign_id}/cancel"
    mk.send(tenant, campaign["id"], seconds=0.0001)  # starts (status sending), then runs out of time
    assert mk.get_campaign(tenant, campaign["id"])["status"] == "sending"

    cancelled = call(tenant.manager, "POST", path, {"campaign_id": campaign["id"]})
    run = mk.send(tenant, campaign["id"])

    assert cancelled.status == 200 and cancelled.json["status"] == "cancelled"
    assert run.sent == 0 and run.stopped == "not due"


def test_schedule_in_the_future_is_not_due_yet(tenant, scene):
    made = mk.static_segment(tenant, [scene[2][0]["id"]])
    draft = mk.campaign(tenant, mk.template(tenant)["id"], made["id"], scheduled=False)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    path = "/marketing/campaign-executions/{campaign_id}/schedule"
    reply = call(tenant.manager, "POST", path, {"campaign_id": draft["id"]}, body={"send_at": later})
    assert reply.json["status"] == "scheduled"
    from shared.marketing import sending

    assert (tenant.id, draft["id"]) not in sending.due(datetime.now(UTC))
    assert (tenant.id, draft["id"]) in sending.due(datetime.now(UTC) + timedelta(hours=2))
