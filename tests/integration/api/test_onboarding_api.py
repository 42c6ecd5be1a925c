"""Onboarding through the handlers: templates, processes materialised whole (also 200 items, also after a crash),
tasks and documents with exact progress, uploads judged by the real scan, the welcome email and the reminder job."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, timedelta

import pytest

from functions.events import onboarding as onboarding_consumer
from infra.local import outbox
from shared import mail
from shared.caller import TenantContext
from shared.db.table import get_or_none
from shared.errors import NotFound
from shared.onboarding import processes, reminders, tasks
from shared.onboarding.reminders import ReminderCursor
from shared.tenants import create_tenant
from tests.integration.api.harness import Tenant, call
from tests.integration.api.onboarding_helpers import (
    CREATE_PROCESS,
    DOCUMENT,
    PROCESS,
    STANDARD,
    TASK,
    TEMPLATES,
    act,
    days_ago,
    items,
    process,
    staff_user,
    template,
    upload,
)
from tests.samples import EICAR, PDF


@pytest.fixture
def mailbox(module_cloud):
    mail._ses.cache_clear()  # the module's moto server, not another module's
    yield lambda address: [
        m for m in outbox.messages(module_cloud.server.url) if address in m["destinations"]["ToAddresses"]
    ]
    mail._ses.cache_clear()


@pytest.fixture
def fresh_cursor(module_cloud):
    """Reminder runs at moved clocks must not leave the job's cursor ahead of another test's clock."""

    def reset() -> None:
        found = get_or_none(ReminderCursor, ReminderCursor.KEY)
        if found:
            found.delete()

    reset()
    yield
    reset()


def ctx_of(tenant: Tenant) -> TenantContext:
    user = tenant.agent
    return TenantContext(tenant.id, user.user_id, user.username, frozenset({"staff"}))


# ---- templates ---------------------------------------------------------------------------------


def test_a_manager_builds_a_template_and_replaces_it_with_the_version_read(tenant):
    made = template(tenant)
    assert made["tasks"][0]["title"] == "Kick-off call" and made["version"] == 1

    stale = call(
        tenant.manager,
        "PUT",
        TEMPLATES + "/{template_id}",
        {"template_id": made["id"]},
        body={**STANDARD, "name": "Renamed", "version": 7},
    )
    replaced = call(
        tenant.manager,
        "PUT",
        TEMPLATES + "/{template_id}",
        {"template_id": made["id"]},
        body={**STANDARD, "name": "Renamed", "version": 1},
    )

    assert stale.problem(409)["current_version"] == 1
    assert replaced.status == 200 and replaced.json["name"] == "Renamed" and replaced.json["version"] == 2


def test_a_template_of_more_than_200_items_or_a_bad_task_is_refused_with_field_errors(tenant):
    too_many = {
        "name": "Huge",
        "tasks": [{"title": f"T{i}"} for i in range(150)],
        "documents": [{"name": f"D{i}"} for i in range(51)],
    }
    bad_kind = {"name": "Bad", "tasks": [{"title": "Who?", "assignee_kind": "robot", "due_offset_days": -1}]}

    assert "200" in str(call(tenant.manager, "POST", TEMPLATES, body=too_many).field_errors())
    errors = call(tenant.manager, "POST", TEMPLATES, body=bad_kind).field_errors()
    assert {"tasks.0.assignee_kind", "tasks.0.due_offset_days"} <= set(errors)
    assert call(tenant.agent, "POST", TEMPLATES, body=STANDARD).status == 403


# ---- processes ---------------------------------------------------------------------------------


def test_a_process_materialises_the_template_with_due_dates_from_its_start(tenant):
    owner = staff_user(tenant)
    made = process(tenant, owner=owner.user_id, start=date(2030, 3, 1))

    task_list = items(tenant.agent, "tasks", process_id=made["id"])
    documents = items(tenant.agent, "documents", process_id=made["id"])

    assert made["status"] == "not_started" and made["progress"] == {"done": 0, "total": 5}
    assert made["target_date"] == "2030-03-15"
    assert [(t["title"], t["due_date"], t["assignee_id"]) for t in task_list] == [
        ("Kick-off call", "2030-03-02", owner.user_id),
        ("Set up the client's ledger", "2030-03-06", owner.user_id),
        ("Sign the engagement letter", "2030-03-04", None),
    ]
    assert [(d["name"], d["required"], d["status"]) for d in documents] == [
        ("Passport", True, "requested"),
        ("Last year's accounts", False, "requested"),
    ]


def test_another_tenants_client_or_a_non_staff_owner_is_refused_and_nothing_is_written(tenant, new_tenant):
    other = new_tenant()
    made = template(tenant)
    body = {"client_id": other.client()["id"], "owner_id": staff_user(tenant).user_id, "start_date": "2030-01-01"}
    no_client = call(tenant.agent, "POST", CREATE_PROCESS, {"template_id": made["id"]}, body=body)
    body = {**body, "client_id": tenant.client()["id"], "owner_id": tenant.portal_user(body["client_id"]).user_id}
    no_owner = call(tenant.agent, "POST", CREATE_PROCESS, {"template_id": made["id"]}, body=body)

    assert no_client.field_errors() == {"client_id": "No such client."}
    assert "owner_id" in no_owner.field_errors()
    assert items(tenant.agent, "processes") == [] and items(tenant.agent, "tasks") == []


def test_a_retried_create_with_the_same_idempotency_key_returns_the_same_process(tenant):
    client_id, owner = tenant.client()["id"], staff_user(tenant).user_id
    made = template(tenant)
    first = process(tenant, client_id, owner=owner, template_id=made["id"], key="retry-1")
    again = process(tenant, client_id, owner=owner, template_id=made["id"], key="retry-1")

    assert again["id"] == first["id"]
    assert len(items(tenant.agent, "processes")) == 1


def big_template(tenant: Tenant) -> dict:
    return template(
        tenant,
        name="Everything",
        tasks=[
            {"title": f"Task {i}", "assignee_kind": "client" if i % 2 else "staff", "due_offset_days": i % 30}
            for i in range(150)
        ],
        documents=[{"name": f"Document {i}", "required": i % 3 == 0} for i in range(50)],
    )


def all_pages(user, kind: str, **query: str) -> list[dict]:
    found, cursor = [], None
    while True:
        reply = call(
            user,
            "GET",
            f"/onboarding/{kind}",
            query={"limit": "100", **query, **({"cursor": cursor} if cursor else {})},
        )
        assert reply.status == 200, reply.text
        found += reply.json["items"]
        cursor = reply.json["next_cursor"]
        if not cursor:
            return found


def test_a_200_item_template_materialises_whole_even_after_a_crash_between_its_transactions(
    tenant, pump_stream, monkeypatch, caplog
):
    # as deployed: the consumer's INFO lines run (its module loaded first: its Logger sets the level it is given)
    caplog.set_level(logging.INFO, logger=onboarding_consumer.logger.name)
    # Given a template of 150 tasks and 50 documents, and a create that dies after its first transaction
    made, client_id, owner = big_template(tenant), tenant.client()["id"], staff_user(tenant)
    real_stage, calls = processes._stage, []

    def crash_after_first(process, chunk):
        calls.append(len(chunk))
        if len(calls) == 2:
            raise RuntimeError("the function died")
        return real_stage(process, chunk)

    monkeypatch.setattr(processes, "_stage", crash_after_first)
    body = {"client_id": client_id, "owner_id": owner.user_id, "start_date": "2030-01-01"}
    headers = {"Idempotency-Key": "big-1"}
    crashed = call(tenant.agent, "POST", CREATE_PROCESS, {"template_id": made["id"]}, body=body, headers=headers)
    pump_stream()

    # Then nothing of it shows anywhere
    assert crashed.status == 500
    assert items(tenant.agent, "processes") == [] and items(tenant.agent, "tasks") == []
    assert items(tenant.agent, "documents") == []

    # When the client retries with the same key
    monkeypatch.setattr(processes, "_stage", real_stage)
    retried = call(tenant.agent, "POST", CREATE_PROCESS, {"template_id": made["id"]}, body=body, headers=headers)
    again = call(tenant.agent, "POST", CREATE_PROCESS, {"template_id": made["id"]}, body=body, headers=headers)

    # Then the process is whole: 200 items through its id at once, and in every list once published
    assert retried.status == 201, retried.text
    assert again.json["id"] == retried.json["id"]
    process_id = retried.json["id"]
    assert retried.json["progress"] == {"done": 0, "total": 200}
    assert len(all_pages(tenant.agent, "tasks", process_id=process_id)) == 150
    assert len(all_pages(tenant.agent, "documents", process_id=process_id)) == 50
    pump_stream()
    assert len(all_pages(tenant.agent, "tasks", assignee_id=owner.user_id)) == 75
    assert len(all_pages(tenant.agent, "documents", client_id=client_id)) == 50
    assert len(items(tenant.agent, "processes")) == 1


def test_the_portal_user_sees_only_the_clients_processes_and_client_tasks(tenant):
    mine, theirs = tenant.client()["id"], tenant.client()["id"]
    own = process(tenant, mine, started=True)
    process(tenant, theirs, started=True)
    portal = tenant.portal_user(mine)

    listed = items(portal, "processes")
    to_dos = items(portal, "tasks")
    staff_task = next(t for t in items(tenant.agent, "tasks", process_id=own["id"]) if t["assignee_kind"] == "staff")

    assert [p["id"] for p in listed] == [own["id"]]
    assert [t["title"] for t in to_dos] == ["Sign the engagement letter"]
    assert call(portal, "GET", TASK, {"task_id": staff_task["id"]}).status == 404
    for kind in ("tasks", "documents"):  # another client's process, by its id
        assert (
            call(tenant.portal_user(theirs), "GET", f"/onboarding/{kind}", query={"process_id": own["id"]}).status
            == 404
        )
    assert act(portal, "tasks", staff_task["id"], "complete").status == 404
    done = act(portal, "tasks", to_dos[0]["id"], "complete")
    assert done.status == 200 and done.json["status"] == "done"


def test_complete_names_what_is_missing_until_it_is_done_and_a_manager_may_force_it(tenant):
    made = process(tenant, started=True)
    for task in items(tenant.agent, "tasks", process_id=made["id"])[:2]:
        assert act(tenant.agent, "tasks", task["id"], "complete").status == 200

    refused = act(tenant.agent, "processes", made["id"], "complete")
    not_allowed = act(tenant.agent, "processes", made["id"], "complete", {"force": True})
    forced = act(tenant.manager, "processes", made["id"], "complete", {"force": True})

    problem = refused.problem(409)
    assert [(m["kind"], m["name"]) for m in problem["missing"]] == [
        ("task", "Sign the engagement letter"),
        ("document", "Passport"),
    ]
    assert not_allowed.status == 403
    assert forced.status == 200 and forced.json["forced"] is True and forced.json["progress"]["done"] == 2


def test_progress_stays_exact_under_concurrent_completions(tenant):
    made = process(
        tenant,
        started=True,
        template_id=template(tenant, tasks=[{"title": f"Step {i}"} for i in range(12)], documents=[])["id"],
    )
    task_ids = [t["id"] for t in items(tenant.agent, "tasks", process_id=made["id"])]
    replies = []

    def complete(task_id: str) -> None:
        replies.append(act(tenant.agent, "tasks", task_id, "complete"))

    threads = [threading.Thread(target=complete, args=(task_id,)) for task_id in task_ids * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    done = sum(r.status == 200 for r in replies)
    after = call(tenant.agent, "GET", PROCESS, {"process_id": made["id"]}).json
    assert done == 12 and all(r.status in (200, 409, 503) for r in replies)
    assert after["progress"] == {"done": 12, "total": 12}
    reopened = act(tenant.agent, "tasks", task_ids[0], "reopen")
    assert reopened.status == 200
    assert call(tenant.agent, "GET", PROCESS, {"process_id": made["id"]}).json["progress"]["done"] == 11


def test_a_closed_process_refuses_changes_to_its_items(tenant):
    made = process(tenant, started=True)
    task = items(tenant.agent, "tasks", process_id=made["id"])[0]
    assert act(tenant.agent, "processes", made["id"], "cancel").json["status"] == "cancelled"

    refused = act(tenant.agent, "tasks", task["id"], "complete")

    assert refused.problem(409)["detail"].startswith("The onboarding process is closed")
    assert act(tenant.agent, "processes", made["id"], "start").problem(409)["current_status"] == "cancelled"


# ---- documents ---------------------------------------------------------------------------------


def test_a_clean_file_uploads_the_document_an_infected_one_leaves_it_requested_and_tells_the_owner(
    tenant, pump_stream, mailbox
):
    owner = staff_user(tenant)
    client_id = tenant.client()["id"]
    made = process(tenant, client_id, owner=owner.user_id, started=True)
    passport, accounts = items(tenant.agent, "documents", process_id=made["id"])
    portal = tenant.portal_user(client_id)

    upload(portal, passport["id"], "passport.pdf", PDF, "application/pdf")
    upload(portal, accounts["id"], "accounts.pdf", EICAR, "application/pdf")
    pump_stream()

    uploaded = call(portal, "GET", DOCUMENT, {"document_id": passport["id"]}).json
    refused = call(portal, "GET", DOCUMENT, {"document_id": accounts["id"]}).json
    assert uploaded["status"] == "uploaded" and uploaded["attachment_id"]
    assert refused["status"] == "requested" and "Eicar" in refused["status_reason"]
    told = [m for m in mailbox(owner.email) if "Onboarding file refused" in m["subject"]]  # (and staff's scan notice)
    assert len(told) == 1 and "accounts.pdf" in told[0]["body"]

    # a rejected document takes another file; every file stays listed
    rejected = act(tenant.agent, "documents", passport["id"], "reject", {"note": "Blurry"})
    assert rejected.json["status"] == "rejected"
    upload(portal, passport["id"], "passport-2.pdf", PDF, "application/pdf")
    pump_stream()
    files = call(portal, "GET", DOCUMENT + "/files", {"document_id": passport["id"]}).json["items"]
    assert [f["original_filename"] for f in files] == ["passport-2.pdf", "passport.pdf"]
    approved = act(tenant.agent, "documents", passport["id"], "approve", {})
    assert approved.json["status"] == "approved"
    assert call(tenant.agent, "GET", PROCESS, {"process_id": made["id"]}).json["progress"]["done"] == 1


def test_another_clients_portal_user_cannot_upload_for_a_document(tenant):
    made = process(tenant, started=True)
    document = items(tenant.agent, "documents", process_id=made["id"])[0]
    stranger = tenant.portal_user(tenant.client()["id"])
    body = {"original_filename": "x.pdf", "content_type": "application/pdf", "size": 10}

    assert call(stranger, "POST", DOCUMENT + "/upload", {"document_id": document["id"]}, body=body).status == 404


# ---- emails ------------------------------------------------------------------------------------


def test_starting_a_process_welcomes_the_clients_portal_users_once(tenant, pump_stream, mailbox):
    client_id = tenant.client()["id"]
    portal = tenant.portal_user(client_id, name=f"welcome-{tenant.id}")
    made = process(tenant, client_id, started=True)
    pump_stream()
    act(tenant.agent, "tasks", items(tenant.agent, "tasks", process_id=made["id"])[0]["id"], "complete")
    pump_stream()

    welcomes = mailbox(portal.email)
    assert len(welcomes) == 1
    assert "Sign the engagement letter" in welcomes[0]["body"] and "Passport" in welcomes[0]["body"]


def zone_at(hour: int, at: datetime) -> str:
    """A time zone whose local time at ``at`` is ``hour`` o'clock (give or take the minutes)."""
    offset = hour - at.hour
    offset = (offset + 12) % 24 - 12
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def test_an_overdue_task_is_reminded_once_a_day_however_often_the_job_runs(tenant, mailbox, fresh_cursor):
    # Given a tenant at 10:00 local time, and a started process whose staff tasks are overdue
    at = datetime.now(UTC)
    create_tenant(tenant.id, "Reminded", time_zone=zone_at(10, at))
    owner = staff_user(tenant)
    made = process(tenant, owner=owner.user_id, start=days_ago(10), started=True)

    # When the job runs twice
    first, second = reminders.run(at), reminders.run(at + timedelta(minutes=15))
    for notice in first.notices + second.notices:
        reminders.notify(notice)

    # Then the owner got one email listing both overdue tasks, and the client's items went to nobody (no portal user)
    told = mailbox(owner.email)
    assert len(told) == 1 and "Kick-off call" in told[0]["body"] and "ledger" in told[0]["body"]
    task_list = items(tenant.agent, "tasks", process_id=made["id"])
    assert {t["reminded_on"] for t in task_list} == {
        at.astimezone(reminders.ZoneInfo(zone_at(10, at))).date().isoformat()
    }


def test_reminders_wait_for_09_00_local_follow_the_cadence_and_stop_when_done(tenant, mailbox, fresh_cursor):
    # Given a tenant reminded every 2 days, at 05:00 local time, with a task due tomorrow
    at = datetime.now(UTC)
    zone = zone_at(5, at)
    create_tenant(tenant.id, "Cadence", time_zone=zone)
    from shared.tenants import Tenant as TenantItem

    stored = TenantItem.get(*TenantItem.key(tenant.id))
    stored.update(actions=[TenantItem.onboarding_reminder_every_days.set(2)])
    owner = staff_user(tenant)
    local_today = at.astimezone(reminders.ZoneInfo(zone)).date()
    made = process(
        tenant,
        owner=owner.user_id,
        start=local_today,
        started=True,
        template_id=template(tenant, tasks=[{"title": "Due tomorrow", "due_offset_days": 1}], documents=[])["id"],
    )

    early = reminders.run(at)  # 05:00: not yet
    later = reminders.run(at + timedelta(hours=5))  # 10:00
    next_day = reminders.run(at + timedelta(days=1, hours=5))  # cadence 2: not today
    task = items(tenant.agent, "tasks", process_id=made["id"])[0]
    act(tenant.agent, "tasks", task["id"], "complete")
    after_done = reminders.run(at + timedelta(days=2, hours=5))

    mine = lambda result: [n for n in result.notices if n.tenant_id == tenant.id]  # noqa: E731
    assert mine(early) == [] and [len(n.items) for n in mine(later)] == [1]
    assert mine(next_day) == [] and mine(after_done) == []


# ---- for other modules -------------------------------------------------------------------------


def test_another_module_adds_a_task_to_the_clients_open_process(tenant):
    client_id = tenant.client()["id"]
    made = process(tenant, client_id, started=True)

    added = tasks.add_task(
        ctx_of(tenant), client_id, tasks.NewTask(title="Prepare for the meeting", assignee_kind="client")
    )

    assert added.process_id == made["id"] and added.assignee_kind == "client"
    after = call(tenant.agent, "GET", PROCESS, {"process_id": made["id"]}).json
    assert after["progress"] == {"done": 0, "total": 6}
    with pytest.raises(NotFound):
        tasks.add_task(ctx_of(tenant), tenant.client()["id"], tasks.NewTask(title="Nowhere"))


def test_the_audit_trail_has_each_item_change_and_no_bookkeeping(tenant, stream_to_audit):
    made = process(tenant, started=True)
    task = items(tenant.agent, "tasks", process_id=made["id"])[0]
    act(tenant.agent, "tasks", task["id"], "complete")
    stream_to_audit(tenant)

    def trail(entity: str) -> list[tuple[str, list[str]]]:
        reply = call(tenant.manager, "GET", "/audit", query={"entity": entity})
        return [(e["action"], e["changed"]) for e in reply.json["items"]]

    assert ("update", ["completed_at", "completed_by", "status"]) in trail("onboarding_task")
    assert ("update", ["started_at", "status"]) in trail("onboarding_process")
    assert all(changed != [] for action, changed in trail("onboarding_process") if action == "update")
    assert len(trail("onboarding_document")) == 2 and trail("onboarding_template")
