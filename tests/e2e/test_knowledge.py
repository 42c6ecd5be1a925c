"""The knowledge base over real HTTP with real tokens, as the issue's "done when" tells it: an SOP written,
edited, diffed, restored, reviewed in turn and published; the live version kept while it is edited again; a
public FAQ found by the portal user through search and suggest, an internal SOP never; no script in body_html.
The search index is kept by the stream consumer the local cloud's pump runs: searches poll with a deadline."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import requests

from tests.e2e.waits import PUMP_WAIT_SECONDS


def ok(response: requests.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


def eventually(probe: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + PUMP_WAIT_SECONDS
    while not probe():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.25)
    return True


def found_ids(api, token: str, path: str, q: str) -> list[str]:
    return [hit["id"] for hit in ok(api.get(path, as_=token, params={"q": q}))["items"]]


def test_an_sop_is_versioned_reviewed_in_turn_and_published_while_the_portal_sees_only_what_is_public(api, demo):
    agent, manager, technician, portal = demo.agent, demo.manager, demo.technician, demo.portal
    word = "kb" + uuid.uuid4().hex[:10]

    # staff write an SOP and edit it twice: three versions
    body = {"title": f"Escalation SOP {word}", "kind": "sop", "visibility": "public", "body": "Call the lead."}
    sop = ok(api.post("/knowledge/items", as_=agent, json=body), 201)
    sop = ok(
        api.patch(f"/knowledge/items/{sop['id']}", as_=agent, json={"version": 1, "body": "Call the lead.\nLog it."})
    )
    sop = ok(
        api.patch(f"/knowledge/items/{sop['id']}", as_=agent, json={"version": 2, "body": "Page the lead.\nLog it."})
    )
    versions = ok(api.get(f"/knowledge/items/{sop['id']}/versions", as_=agent))["items"]
    assert [v["number"] for v in versions] == [3, 2, 1]
    diff = ok(api.get(f"/knowledge/items/{sop['id']}/versions/3", as_=agent, params={"against": 1}))["diff"]
    assert "-Call the lead." in diff["unified"] and "+Page the lead." in diff["unified"]

    # version 1 restored as version 4
    restored = ok(api.post(f"/knowledge/items/{sop['id']}/versions/1/restore", as_=agent, json={"version": 3}))
    assert (restored["current_version"], restored["body"]) == (4, "Call the lead.")

    # two reviewers: the second cannot act before the first; the first requests changes
    first, second = api.user_id(technician), api.user_id(manager)
    ok(api.post(f"/knowledge/items/{sop['id']}/submit", as_=agent, json={"reviewer_ids": [first, second]}))
    early = api.post(f"/knowledge/items/{sop['id']}/approve", as_=manager, json={})
    assert early.status_code == 409 and early.json()["current_reviewer_id"] == first
    back = ok(api.post(f"/knowledge/items/{sop['id']}/request-changes", as_=technician, json={"comment": "Say who."}))
    assert back["status"] == "draft"

    # after the edit both approve, and a manager publishes
    edited = ok(
        api.patch(f"/knowledge/items/{sop['id']}", as_=agent, json={"version": back["version"], "body": "Call Ana."})
    )
    ok(api.post(f"/knowledge/items/{sop['id']}/submit", as_=agent, json={"reviewer_ids": [first, second]}))
    ok(api.post(f"/knowledge/items/{sop['id']}/approve", as_=technician, json={"comment": "Good."}))
    assert ok(api.post(f"/knowledge/items/{sop['id']}/approve", as_=manager, json={}))["status"] == "approved"
    live = ok(api.post(f"/knowledge/items/{sop['id']}/publish", as_=manager))
    assert (live["status"], live["published_version"]) == ("published", edited["current_version"])
    history = ok(api.get(f"/knowledge/items/{sop['id']}/reviews", as_=agent))["items"]
    assert [h["action"] for h in history][-4:] == ["submitted", "approved", "approved", "published"]

    # editing again keeps the published version live for the portal user
    ok(api.patch(f"/knowledge/items/{sop['id']}", as_=agent, json={"version": live["version"], "body": "Draft."}))
    seen = ok(api.get(f"/knowledge/items/{sop['id']}", as_=portal))
    assert (seen["body"], seen["status"]) == ("Call Ana.", "published")
    assert ok(api.get(f"/knowledge/items/{sop['id']}", as_=agent))["body"] == "Draft."


def test_a_public_faq_is_found_by_the_portal_user_and_an_internal_sop_never_appears(api, demo):
    agent, manager, portal = demo.agent, demo.manager, demo.portal
    word = "kb" + uuid.uuid4().hex[:10]
    faq_body = {
        "title": f"Quarterly {word} export fails",
        "kind": "faq",
        "visibility": "public",
        "body": f"Re-run the quarterly {word} export from the Reports page.",
    }
    faq = ok(api.post("/knowledge/items", as_=agent, json=faq_body), 201)
    ok(api.post(f"/knowledge/items/{faq['id']}/publish", as_=manager))
    secret = {"title": f"Internal {word} SOP", "kind": "sop", "body": f"Quarterly {word} export: the admin password."}
    sop = ok(api.post("/knowledge/items", as_=agent, json=secret), 201)
    ok(api.post(f"/knowledge/items/{sop['id']}/publish", as_=manager))

    # the portal user finds the FAQ through search, and through suggest for a subject sharing two of its words
    assert eventually(lambda: found_ids(api, portal, "/knowledge/search", f"{word} export") == [faq["id"]])
    subject = f"my quarterly {word} is broken since monday please help me"  # ten words, two of the FAQ's
    assert found_ids(api, portal, "/knowledge/suggest", subject) == [faq["id"]]
    assert eventually(lambda: set(found_ids(api, agent, "/knowledge/search", word)) == {faq["id"], sop["id"]})
    hit = ok(api.get("/knowledge/search", as_=portal, params={"q": word}))["items"][0]
    assert f"<mark>{word}</mark>" in hit["snippet"]

    # the internal SOP never appears to the portal user, in any answer
    answers = [
        api.get("/knowledge/items", as_=portal, params={"limit": 100}),
        api.get(f"/knowledge/items/{sop['id']}", as_=portal),
        api.get(f"/knowledge/items/{sop['id']}/versions", as_=portal),
        api.get(f"/knowledge/items/{sop['id']}/attachments", as_=portal),
        api.get("/knowledge/search", as_=portal, params={"q": f"internal {word} admin password"}),
        api.get("/knowledge/suggest", as_=portal, params={"q": f"internal {word} admin password"}),
    ]
    for answer in answers:
        assert sop["id"] not in answer.text and "admin password" not in answer.text, answer.text
    assert [a.status_code for a in answers[1:4]] == [404, 403, 404]


def test_script_and_javascript_links_never_reach_body_html(api, demo):
    body = "Hello <script>alert('x')</script> and [click me](javascript:alert(1)) <img src=x onerror=alert(1)>"
    made = ok(api.post("/knowledge/items", as_=demo.agent, json={"title": "XSS", "kind": "article", "body": body}), 201)
    assert "<script" not in made["body_html"] and 'href="javascript:' not in made["body_html"]
    assert "<img" not in made["body_html"]
    assert made["body"] == body  # the Markdown is kept as written; only what is shown is made safe
