"""Client onboarding over real HTTP, as the issue's "done when" reads: a manager's template, a process for the demo
client started (the portal user welcomed), the portal user's to-do and uploads judged by the real ClamAV (EICAR),
complete refused until the approval, one reminder for an overdue staff task although the job runs twice, nothing
for another tenant or another client's portal user; and a 200-item template materialised whole, retried alike."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests

from tests.e2e.conftest import AGENT, PORTAL
from tests.e2e.waits import PUMP_WAIT_SECONDS
from tests.samples import EICAR, PDF

STRANGER_PASSWORD = "Stranger-pass-3!"
TEMPLATE = {
    "name": "New client (e2e)",
    "tasks": [
        {"title": "Kick-off call (e2e)", "assignee_kind": "staff", "due_offset_days": 1, "order": 1},
        {"title": "Open the ledger (e2e)", "assignee_kind": "staff", "due_offset_days": 2, "order": 2},
        {"title": "Sign the engagement letter (e2e)", "assignee_kind": "client", "due_offset_days": 3, "order": 3},
    ],
    "documents": [
        {"name": "Passport (e2e)", "required": True, "due_offset_days": 5},
        {"name": "Last accounts (e2e)", "required": False, "due_offset_days": 5},
    ],
}


def ok(response: requests.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def until(read, done, what: str) -> Any:
    """Poll ``read()`` until ``done(value)`` (the pump delivers within a second or so)."""
    deadline = time.monotonic() + PUMP_WAIT_SECONDS
    while True:
        value = read()
        if done(value):
            return value
        assert time.monotonic() < deadline, f"{what}: still {value}"
        time.sleep(0.3)


def mails(deskos, to: str, text: str) -> list[dict[str, Any]]:
    return [m for m in json.loads(deskos("outbox", "--json", "--to", to)) if text in m["subject"] + m["body"]]


def zone_at(hour: int, at: datetime) -> str:
    """A time zone whose local time is ``hour`` o'clock at ``at``: the reminder job runs at 09:00 local time."""
    offset = (hour - at.hour + 12) % 24 - 12
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def upload(api, as_: str, document_id: str, name: str, content: bytes) -> dict[str, Any]:
    body = {"original_filename": name, "content_type": "application/pdf", "size": len(content)}
    started = ok(api.post(f"/onboarding/documents/{document_id}/upload", as_=as_, json=body), 201)
    post = started["upload"]
    sent = requests.post(post["url"], data=post["fields"], files={"file": (name, content)}, timeout=15)
    assert sent.status_code == 204, sent.text
    return started["attachment"]


@pytest.fixture
def morning(api, demo):
    """The demo tenant at noon local time while the test runs (its settings put back afterwards)."""
    settings = ok(api.get("/admin/settings", as_=demo.manager))
    keep = {k: v for k, v in settings.items() if k not in ("tenant_id", "updated_at")}
    changed = ok(
        api.put("/admin/settings", as_=demo.manager, json={**keep, "time_zone": zone_at(12, datetime.now(UTC))})
    )
    yield
    ok(api.put("/admin/settings", as_=demo.manager, json={**keep, "version": changed["version"]}))


def test_a_client_is_onboarded_from_template_to_completion(api, demo, deskos, token, other_tenant, morning):
    # Given a manager's template, and staff who create a process for the demo client (started 10 days ago) and start it
    template = ok(api.post("/onboarding/templates", as_=demo.manager, json=TEMPLATE), 201)
    client_id = ok(api.get("/me", as_=demo.portal))["client_id"]
    agent_id = api.user_id(demo.agent)
    body = {"client_id": client_id, "owner_id": agent_id, "start_date": (date.today() - timedelta(days=10)).isoformat()}
    created = ok(api.post(f"/onboarding/templates/{template['id']}/create-process", as_=demo.agent, json=body), 201)
    process = ok(api.post(f"/onboarding/processes/{created['id']}/start", as_=demo.agent))
    other_client = ok(api.post("/crm/clients", as_=demo.agent, json={"name": f"Other {uuid.uuid4().hex[:6]}"}), 201)
    others = ok(api.post(f"/onboarding/templates/{template['id']}/create-process", as_=demo.agent,
                         json={**body, "client_id": other_client["id"]}), 201)  # fmt: skip

    # Then the portal user is welcomed, and sees that process (and other e2e tests' ones of its client), never
    # the other client's, with its own to-do
    welcome = until(lambda: mails(deskos, PORTAL, TEMPLATE["name"]), bool, "welcome email")
    assert len(welcome) == 1 and "Passport (e2e)" in welcome[0]["body"]
    listed = ok(api.get("/onboarding/processes", as_=demo.portal, params={"limit": 100}))["items"]
    assert process["id"] in [p["id"] for p in listed] and others["id"] not in [p["id"] for p in listed]
    assert {p["client_id"] for p in listed} == {client_id}
    [to_do] = ok(api.get("/onboarding/tasks", as_=demo.portal, params={"process_id": process["id"]}))["items"]
    assert to_do["title"] == "Sign the engagement letter (e2e)"

    # When the portal user completes it, uploads a PDF for the passport and EICAR for the accounts
    assert ok(api.post(f"/onboarding/tasks/{to_do['id']}/complete", as_=demo.portal))["status"] == "done"
    passport, accounts = ok(api.get("/onboarding/documents", as_=demo.portal, params={"process_id": process["id"]}))[
        "items"
    ]
    upload(api, demo.portal, passport["id"], "passport.pdf", PDF)
    upload(api, demo.portal, accounts["id"], "accounts.pdf", EICAR)

    # Then the passport is uploaded once scanned clean; the accounts stay requested with the reason
    document = lambda d: ok(api.get(f"/onboarding/documents/{d['id']}", as_=demo.portal))  # noqa: E731
    assert until(lambda: document(passport), lambda d: d["status"] == "uploaded", "clean PDF")["attachment_id"]
    refused = until(lambda: document(accounts), lambda d: d["status_reason"], "EICAR verdict")
    assert refused["status"] == "requested" and "accounts.pdf" in refused["status_reason"], refused
    until(lambda: mails(deskos, AGENT, "Onboarding file refused"), bool, "the owner's email about EICAR")

    # And the overdue staff tasks are reminded once, although the job runs twice at once (the cloud's own run may
    # be a third, and claim them first: its email follows its claim, so it is waited for)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: deskos("schedule", "run", "OnboardingReminders"), range(2)))
    reminders = lambda: [m for m in mails(deskos, AGENT, "Kick-off call (e2e)") if "reminder" in m["subject"]]  # noqa: E731
    assert len(until(reminders, bool, "the reminder")) == 1

    # When staff complete while their tasks and the passport's approval are missing: 409 naming them
    missing = api.post(f"/onboarding/processes/{process['id']}/complete", as_=demo.agent, json={})
    assert missing.status_code == 409
    names = [m["name"] for m in missing.json()["missing"]]
    assert names == ["Kick-off call (e2e)", "Open the ledger (e2e)", "Passport (e2e)"], names
    staff_tasks = ok(api.get("/onboarding/tasks", as_=demo.agent, params={"process_id": process["id"]}))["items"]
    for task in staff_tasks:
        if task["assignee_kind"] == "staff":
            ok(api.post(f"/onboarding/tasks/{task['id']}/complete", as_=demo.agent))
    still = api.post(f"/onboarding/processes/{process['id']}/complete", as_=demo.agent, json={})
    assert [m["name"] for m in still.json()["missing"]] == ["Passport (e2e)"]
    ok(api.post(f"/onboarding/documents/{passport['id']}/approve", as_=demo.agent, json={"note": "Thanks"}))
    completed = ok(api.post(f"/onboarding/processes/{process['id']}/complete", as_=demo.agent, json={}))
    assert completed["status"] == "completed" and completed["progress"] == {"done": 4, "total": 5}

    # And another tenant and another client's portal user get 404 everywhere
    email = f"stranger-{uuid.uuid4().hex[:8]}@other.example"
    deskos("user", "create", "--tenant", "demo", "--role", "portal", "--client-id", other_client["id"],
           "--email", email, "--password", STRANGER_PASSWORD)  # fmt: skip
    stranger = token(email, STRANGER_PASSWORD)
    paths = [
        f"/onboarding/processes/{process['id']}",
        f"/onboarding/tasks/{to_do['id']}",
        f"/onboarding/documents/{passport['id']}",
        f"/onboarding/documents/{passport['id']}/files",
    ]
    for caller in (stranger, other_tenant.staff_token):
        for path in paths:
            assert api.get(path, as_=caller).status_code == 404, path
        assert api.post(f"/onboarding/tasks/{to_do['id']}/reopen", as_=caller).status_code == 404
        upload_body = {"original_filename": "x.pdf", "content_type": "application/pdf", "size": 10}
        assert (
            api.post(f"/onboarding/documents/{accounts['id']}/upload", as_=caller, json=upload_body).status_code == 404
        )
    assert api.post(f"/onboarding/processes/{process['id']}/cancel", as_=other_tenant.staff_token).status_code == 404
    assert process["id"] not in [p["id"] for p in ok(api.get("/onboarding/processes", as_=stranger))["items"]]


def test_a_200_item_template_materialises_whole_and_a_retried_create_returns_the_same_process(api, demo):
    big = {
        "name": "Everything (e2e)",
        "tasks": [{"title": f"Step {i}", "assignee_kind": "client" if i % 2 else "staff"} for i in range(150)],
        "documents": [{"name": f"Paper {i}", "required": i % 2 == 0} for i in range(50)],
    }
    template = ok(api.post("/onboarding/templates", as_=demo.manager, json=big), 201)
    body = {
        "client_id": ok(api.post("/crm/clients", as_=demo.agent, json={"name": "Big Co (e2e)"}), 201)["id"],
        "owner_id": api.user_id(demo.agent),
        "start_date": date.today().isoformat(),
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}
    path = f"/onboarding/templates/{template['id']}/create-process"

    first = ok(api.post(path, as_=demo.agent, json=body, headers=key), 201)
    again = ok(api.post(path, as_=demo.agent, json=body, headers=key), 201)

    assert again["id"] == first["id"] and first["progress"] == {"done": 0, "total": 200}
    for kind, count in (("tasks", 150), ("documents", 50)):
        found, cursor = 0, None
        while True:
            params = {"process_id": first["id"], "limit": 100, **({"cursor": cursor} if cursor else {})}
            page = ok(api.get(f"/onboarding/{kind}", as_=demo.agent, params=params))
            found, cursor = found + len(page["items"]), page["next_cursor"]
            if not cursor:
                break
        assert found == count, kind
