"""The knowledge base through the route handlers against moto: items and versions, diff and restore, review
and publishing, portal visibility, body sanitising, verification dates and the search index (kept by the
stream consumer, delivered here by the local pump)."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from infra.local import outbox
from shared.caller import Role
from shared.clock import now
from shared.knowledge import due
from shared.knowledge.model import MAX_BODY_BYTES, KnowledgeItem
from tests.integration.api.harness import Tenant, call
from tests.integration.api.knowledge_helpers import act, attachment, edit, item, published, secret_word


def get(user, item_id: str):
    return call(user, "GET", "/knowledge/items/{item_id}", {"item_id": item_id})


def search(user, q: str, **query):
    reply = call(user, "GET", "/knowledge/search", query={"q": q, **query})
    assert reply.status == 200, reply.text
    return reply.json


# ---- items and versions ------------------------------------------------------------------------


def test_each_content_edit_is_a_version_and_a_diff_shows_what_changed(tenant: Tenant):
    # Given an SOP edited twice
    sop = item(tenant, kind="sop", title="Onboarding SOP", body="Step one.\nStep two.")
    first = edit(tenant.agent, sop["id"], version=1, body="Step one.\nStep 2, revised.", change_note="clearer")
    assert first.status == 200, first.text
    second = edit(tenant.agent, sop["id"], version=2, body="Step one.\nStep 2, revised.\nStep three.")
    assert second.json["current_version"] == 3

    # When its versions are listed and version 3 is compared with version 1
    versions = call(tenant.agent, "GET", "/knowledge/items/{item_id}/versions", {"item_id": sop["id"]}).json["items"]
    diff = call(
        tenant.agent,
        "GET",
        "/knowledge/items/{item_id}/versions/{version_number}",
        {"item_id": sop["id"], "version_number": "3"},
        query={"against": "1"},
    ).json

    # Then there are three versions, newest first, and the diff holds the changes
    assert [v["number"] for v in versions] == [3, 2, 1]
    assert versions[1]["change_note"] == "clearer"
    assert "-Step two." in diff["diff"]["unified"] and "+Step three." in diff["diff"]["unified"]
    assert diff["diff"]["hunks"][0] == {
        "op": "replace",
        "old_start": 2,
        "old_lines": ["Step two."],
        "new_start": 2,
        "new_lines": ["Step 2, revised.", "Step three."],
    }


def test_restoring_version_one_makes_a_new_version_with_its_content(tenant: Tenant):
    sop = item(tenant, kind="sop", body="Original.")
    edit(tenant.agent, sop["id"], version=1, body="Changed.")
    restored = call(
        tenant.agent,
        "POST",
        "/knowledge/items/{item_id}/versions/{version_number}/restore",
        {"item_id": sop["id"], "version_number": "1"},
        body={"version": 2},
    )
    assert restored.status == 200, restored.text
    assert (restored.json["current_version"], restored.json["body"]) == (3, "Original.")
    version = call(
        tenant.agent,
        "GET",
        "/knowledge/items/{item_id}/versions/{version_number}",
        {"item_id": sop["id"], "version_number": "3"},
    ).json
    assert (version["restored_from"], version["body"]) == (1, "Original.")


def test_a_body_over_the_limit_is_a_413_naming_it(tenant: Tenant):
    reply = call(
        tenant.agent,
        "POST",
        "/knowledge/items",
        body={"title": "Big", "kind": "sop", "body": "x" * (MAX_BODY_BYTES + 1)},
    )
    problem = reply.problem(413)
    assert problem["limit"] == MAX_BODY_BYTES and str(MAX_BODY_BYTES) in problem["detail"]


def test_a_stale_version_is_a_409_and_a_missing_one_a_422(tenant: Tenant):
    made = item(tenant)
    assert edit(tenant.agent, made["id"], version=7, title="Late").problem(409)["current_version"] == 1
    assert "version" in edit(tenant.agent, made["id"], title="No version").field_errors()


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](java\tscript:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    '<iframe src="https://evil.example"></iframe>',
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](vbscript:msgbox(1))",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<<script>script>alert(1)<</script>/script>",
    '[x](https://ok.example "title" onmouseover="alert(1)")',
    "<details open ontoggle=alert(1)>",
    "```html\n<script>alert(1)</script>\n```",
]


class Markup(HTMLParser):
    """The elements and attributes a browser would make of the HTML (escaped text is text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def markup(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Markup()
    parser.feed(html)
    parser.close()
    return parser.tags


SAFE_TAGS = {"p", "a", "img", "pre", "code", "em", "strong", "h1", "ul", "li", "table", "thead", "tbody", "tr", "th"}


@pytest.mark.parametrize("payload", XSS)
def test_no_script_handler_or_dangerous_link_survives_in_body_html(tenant: Tenant, payload: str):
    # Given a body carrying a known XSS payload / When it is saved / Then body_html holds only safe markup
    made = item(tenant, body=f"Before\n\n{payload}\n\nAfter")
    for tag, attrs in markup(made["body_html"]):
        assert tag in SAFE_TAGS, (payload, made["body_html"])
        assert not [a for a in attrs if a.startswith("on") or a in ("style", "srcdoc", "formaction")], made["body_html"]
        for link in (attrs.get("href"), attrs.get("src")):
            if link is not None:
                assert urlsplit(link.strip()).scheme in ("http", "https", "mailto", ""), made["body_html"]
                assert ":" not in link or link.startswith(("http:", "https:", "mailto:")), made["body_html"]
    assert "<p>Before</p>" in made["body_html"]


def test_markdown_renders_to_html(tenant: Tenant):
    made = item(tenant, body="# Title\n\n- **bold** [link](https://example.test)\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<h1>Title</h1>" in made["body_html"] and "<strong>bold</strong>" in made["body_html"]
    assert '<a href="https://example.test" rel="noopener noreferrer nofollow">link</a>' in made["body_html"]
    assert "<table>" in made["body_html"]


# ---- review and publishing ---------------------------------------------------------------------


def mailed(cloud, title: str) -> list:
    return [
        m["destinations"]["ToAddresses"]
        for m in outbox.messages(cloud.server.url)
        if f"Review requested: {title}" in m["subject"]
    ]


def test_reviewers_act_in_turn_and_a_manager_publishes(tenant: Tenant, pump_stream, module_cloud):
    # Given a draft and two staff reviewers
    first, second = tenant.user("rev1", Role.STAFF), tenant.user("rev2", Role.STAFF)
    sop = item(tenant, kind="sop", title=f"SOP {secret_word()}", body="Do it.")
    submitted = act(tenant.agent, sop["id"], "submit", {"reviewer_ids": [first.user_id, second.user_id]})
    assert submitted.json["status"] == "in_review", submitted.text
    pump_stream()

    # the second cannot act before the first; the first is emailed
    assert act(second, sop["id"], "approve").problem(409)["current_reviewer_id"] == first.user_id
    assert mailed(module_cloud, sop["title"]) == [[first.email]]
    # the first requests changes: back to draft
    back = act(first, sop["id"], "request-changes", {"comment": "Say how."})
    assert back.json["status"] == "draft"
    edit(tenant.agent, sop["id"], version=back.json["version"], body="Do it like this.")
    act(tenant.agent, sop["id"], "submit", {"reviewer_ids": [first.user_id, second.user_id]})
    assert act(first, sop["id"], "approve", {"comment": "Fine."}).json["review_step"] == 1
    approved = act(second, sop["id"], "approve")
    assert approved.json["status"] == "approved"
    pump_stream()
    pump_stream()  # a redelivery changes nothing
    # each turn was emailed once: the first reviewer twice (two submissions), the second once
    assert sorted(map(tuple, mailed(module_cloud, sop["title"]))) == [(first.email,), (first.email,), (second.email,)]

    # the owner (not a manager) may publish an approved item; a manager may too
    published = act(tenant.manager, sop["id"], "publish")
    assert (published.json["status"], published.json["published_version"]) == ("published", 2)
    history = call(tenant.agent, "GET", "/knowledge/items/{item_id}/reviews", {"item_id": sop["id"]}).json["items"]
    assert [h["action"] for h in history] == [
        "created",
        "submitted",
        "changes_requested",
        "submitted",
        "approved",
        "approved",
        "published",
    ]


def test_only_a_manager_or_the_approved_owner_publishes(tenant: Tenant):
    draft = item(tenant)
    other = tenant.user("other", Role.STAFF)
    assert act(other, draft["id"], "publish").problem(403)
    assert act(tenant.agent, draft["id"], "publish").problem(409)["current_status"] == "draft"  # owner, not approved
    assert act(tenant.manager, draft["id"], "publish").status == 200


def test_a_reviewer_who_is_not_staff_of_the_tenant_is_refused(tenant: Tenant, new_tenant):
    stranger = new_tenant().user("stranger", Role.STAFF)
    draft = item(tenant)
    errors = act(tenant.agent, draft["id"], "submit", {"reviewer_ids": [stranger.user_id]}).field_errors()
    assert "reviewer_ids" in errors


def test_editing_a_published_item_keeps_the_published_version_live_for_portal_users(tenant: Tenant):
    portal = tenant.portal_user(tenant.client()["id"])
    faq = published(tenant, body="Version one.")
    edited = edit(tenant.agent, faq["id"], version=faq["version"], body="Version two, not reviewed.")
    assert (edited.json["status"], edited.json["published_version"], edited.json["current_version"]) == ("draft", 1, 2)

    seen = get(portal, faq["id"]).json
    assert (seen["body"], seen["status"], seen["owner_id"]) == ("Version one.", "published", None)
    assert get(tenant.agent, faq["id"]).json["body"] == "Version two, not reviewed."


def test_portal_users_never_see_internal_or_unpublished_items(tenant: Tenant):
    portal = tenant.portal_user(tenant.client()["id"])
    internal = published(tenant, visibility="internal", title="Internal SOP")
    draft = item(tenant, visibility="public", title="Draft FAQ")
    public = published(tenant, title="Public FAQ")
    for hidden in (internal, draft):
        get(portal, hidden["id"]).problem(404)
        call(portal, "GET", "/knowledge/items/{item_id}/attachments", {"item_id": hidden["id"]}).problem(404)
    listed = call(portal, "GET", "/knowledge/items").json["items"]
    assert [i["id"] for i in listed] == [public["id"]]
    # archiving takes it off the portal at once; so does making it internal
    act(tenant.agent, public["id"], "archive")
    get(portal, public["id"]).problem(404)
    assert call(portal, "GET", "/knowledge/items").json["items"] == []
    for route in ("/knowledge/items/{item_id}/versions", "/knowledge/items/{item_id}/reviews"):
        call(portal, "GET", route, {"item_id": internal["id"]}).problem(403)


def test_making_a_published_item_internal_hides_it_from_the_portal_at_once(tenant: Tenant):
    portal = tenant.portal_user(tenant.client()["id"])
    faq = published(tenant)
    assert edit(tenant.agent, faq["id"], version=faq["version"], visibility="internal").status == 200
    get(portal, faq["id"]).problem(404)


# ---- search ------------------------------------------------------------------------------------


def test_search_ranks_items_with_every_word_first_and_highlights_them(tenant: Tenant, pump_stream):
    word = secret_word()
    both = published(tenant, title=f"Printer {word} setup", body=f"Connect the {word} printer to the network.")
    one = published(tenant, title=f"{word} {word} {word}", body=f"{word} everywhere, {word} again.")
    pump_stream()
    found = search(tenant.agent, f"printers {word}")
    assert [h["id"] for h in found["items"]][:2] == [both["id"], one["id"]]
    assert found["items"][0]["matched_terms"] == 2
    assert f"<mark>{word}</mark>" in found["items"][0]["snippet"]


def test_search_stems_and_folds_accents_and_finds_cjk(tenant: Tenant, pump_stream):
    word = secret_word()
    made = published(tenant, title=f"Café résumé {word}", body=f"Publishing {word}. 知识库的搜索功能 ナレッジベース")
    pump_stream()
    for query in (f"cafe {word}", f"RESUME {word}", f"published {word}", "知识", "搜索功能", "ナレッジ"):
        assert made["id"] in [h["id"] for h in search(tenant.agent, query)["items"]], query


def test_portal_search_and_suggest_show_only_published_public_items(tenant: Tenant, pump_stream):
    word = secret_word()
    portal = tenant.portal_user(tenant.client()["id"])
    public = published(tenant, title=f"Reset your {word} password", kind="faq")
    internal = published(tenant, title=f"Reset the {word} password server", visibility="internal", kind="sop")
    draft = item(tenant, title=f"Reset {word} password draft", visibility="public")
    pump_stream()

    assert {h["id"] for h in search(tenant.agent, word)["items"]} == {public["id"], internal["id"], draft["id"]}
    assert [h["id"] for h in search(portal, word)["items"]] == [public["id"]]
    suggested = call(portal, "GET", "/knowledge/suggest", query={"q": f"I cannot reset my {word} password today"})
    assert [h["id"] for h in suggested.json["items"]] == [public["id"]]


def test_an_edit_is_found_by_its_new_words_and_no_longer_by_the_old(tenant: Tenant, pump_stream):
    old, new = secret_word(), secret_word()
    portal = tenant.portal_user(tenant.client()["id"])
    faq = published(tenant, body=f"About {old}.")
    pump_stream()
    edited = edit(tenant.agent, faq["id"], version=faq["version"], body=f"About {new}.").json
    # before the index catches up the staff see nothing stale; the portal still finds the live version
    assert search(tenant.agent, old)["items"] == []
    assert [h["id"] for h in search(portal, old)["items"]] == [faq["id"]]
    pump_stream()
    assert [h["id"] for h in search(tenant.agent, new)["items"]] == [faq["id"]]
    assert search(portal, new)["items"] == []  # not published yet
    published_again = call(
        tenant.manager,
        "POST",
        "/knowledge/items/{item_id}/publish",
        {"item_id": faq["id"]},
        headers={"If-Match": f'"{edited["version"]}"'},
    )
    assert published_again.status == 200, published_again.text
    pump_stream()
    assert [h["id"] for h in search(portal, new)["items"]] == [faq["id"]]
    assert search(portal, old)["items"] == []


def test_search_filters_by_kind_category_tag_and_status(tenant: Tenant, pump_stream):
    word = secret_word()
    sop = published(tenant, title=f"{word} sop", kind="sop", category="IT", tags=["vpn"])
    faq = item(tenant, title=f"{word} faq", kind="faq", category="HR")
    pump_stream()
    assert [h["id"] for h in search(tenant.agent, word, kind="sop")["items"]] == [sop["id"]]
    assert [h["id"] for h in search(tenant.agent, word, category="HR")["items"]] == [faq["id"]]
    assert [h["id"] for h in search(tenant.agent, word, tag="vpn")["items"]] == [sop["id"]]
    assert [h["id"] for h in search(tenant.agent, word, status="draft")["items"]] == [faq["id"]]


def test_another_tenant_finds_nothing_of_a_tenants_items(tenant: Tenant, new_tenant, pump_stream):
    word = secret_word()
    published(tenant, title=f"Secret {word}")
    pump_stream()
    other = new_tenant()
    for user in (other.agent, other.portal_user(other.client()["id"])):
        assert search(user, word)["items"] == []
        assert call(user, "GET", "/knowledge/suggest", query={"q": word}).json["items"] == []


# ---- verification dates ------------------------------------------------------------------------


def test_an_item_due_for_review_is_listed_and_its_owner_emailed_once(tenant: Tenant, module_cloud):
    made = item(tenant, review_every_days=30)
    stored = KnowledgeItem.get(*KnowledgeItem.key(tenant.id, made["id"]))
    stored.verified_at = now() - timedelta(days=30, minutes=30)
    stored.index()
    stored.save()
    due_list = call(tenant.agent, "GET", "/knowledge/items", query={"due_for_review": "true"}).json["items"]
    assert [i["id"] for i in due_list] == [made["id"]] and due_list[0]["due_for_review"]

    first = due.sweep(now() + timedelta(hours=1))
    second = due.sweep(now() + timedelta(hours=2))
    assert first.notified >= 1 and second.notified == 0
    mails = [m for m in outbox.messages(module_cloud.server.url) if made["title"] in m["subject"]]
    assert len(mails) == 1 and "Due for review" in mails[0]["subject"]

    verified = act(tenant.agent, made["id"], "verify")
    assert verified.json["due_for_review"] is False


# ---- attachments -------------------------------------------------------------------------------


def download(user, attachment_id: str):
    return call(user, "GET", "/attachments/{attachment_id}/download", {"attachment_id": attachment_id})


def test_portal_users_download_only_public_attachments_of_published_public_items(tenant: Tenant):
    # Given a published public FAQ with a public and a private file, and a published internal SOP with a public one
    portal = tenant.portal_user(tenant.client()["id"])
    faq, sop = published(tenant), published(tenant, visibility="internal", kind="sop")
    shown, private = attachment(tenant, faq["id"], public=True), attachment(tenant, faq["id"], public=False)
    internal = attachment(tenant, sop["id"], public=True)

    # Then the portal user lists and downloads the FAQ's public file only
    listed = call(portal, "GET", "/knowledge/items/{item_id}/attachments", {"item_id": faq["id"]}).json["items"]
    assert [a["id"] for a in listed] == [shown]
    assert download(portal, shown).status == 200
    download(portal, private).problem(404)
    download(portal, internal).problem(404)
    assert download(tenant.agent, internal).status == 200  # staff download every clean file

    # and once the FAQ is archived, nothing of it
    act(tenant.agent, faq["id"], "archive")
    download(portal, shown).problem(404)


# ---- the index consumer ------------------------------------------------------------------------


def test_replaying_the_stream_leaves_the_index_and_its_counts_as_they_were(cloud, new_tenant):
    from functions.events import knowledge_index
    from infra.local.lambda_context import LambdaContext
    from shared.knowledge import index
    from tests.integration.api.test_work_order_automation import stream_batch

    # Given a published item edited since, in a fresh table (and so a fresh stream), indexed once
    tenant, word = new_tenant(), secret_word()
    faq = published(tenant, title=f"Replay {word}")
    edit(tenant.agent, faq["id"], version=faq["version"], body=f"More about {word}.")
    records = stream_batch(cloud)
    assert knowledge_index.handler({"Records": records}, LambdaContext("KnowledgeIndex")) == {"batchItemFailures": []}
    counts = index.stats(tenant.id, "staff"), index.stats(tenant.id, "public")
    found = search(tenant.agent, word)["items"]

    # When the same records are delivered twice more
    for _ in range(2):
        answer = knowledge_index.handler({"Records": records}, LambdaContext("KnowledgeIndex"))
        assert answer == {"batchItemFailures": []}

    # Then the counts and the answers are as they were
    assert (index.stats(tenant.id, "staff"), index.stats(tenant.id, "public")) == counts
    assert counts[0][0] == 1 and counts[1][0] == 1
    assert [h["id"] for h in found] == [faq["id"]] and search(tenant.agent, word)["items"] == found
