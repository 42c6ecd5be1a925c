"""/support/notification-templates and /support/mailbox: who may read and change them, what is refused."""

from __future__ import annotations

import pytest

from tests.integration.api.harness import Tenant, call

TEMPLATES = "/support/notification-templates"
PREVIEW = TEMPLATES + "/preview"
MAILBOX = "/support/mailbox"
OVERRIDE = {
    "kind": "ticket_created",
    "subject": "Got it: {{ ticket.subject }}",
    "text": "Dear {{ requester.name }}, thanks!\n",
}


def kinds(tenant: Tenant) -> dict[str, dict]:
    reply = call(tenant.agent, "GET", TEMPLATES)
    assert reply.status == 200, reply.text
    return {t["kind"]: t for t in reply.json["items"]}


def test_staff_read_every_kind_with_its_default(tenant: Tenant):
    found = kinds(tenant)
    assert set(found) == {"ticket_created", "staff_reply", "requester_reply", "ticket_assigned", "ticket_resolved"}
    assert all(not t["customised"] and t["version"] == 0 and t["enabled"] for t in found.values())


def test_a_manager_overrides_a_kind_and_switches_it_off(tenant: Tenant):
    made = call(tenant.manager, "PUT", TEMPLATES, body=OVERRIDE)
    assert made.status == 200, made.text
    assert made.json["customised"] and made.json["version"] == 1 and made.header("ETag") == '"1"'
    changed = call(tenant.manager, "PUT", TEMPLATES, body={**OVERRIDE, "enabled": False}, headers={"If-Match": '"1"'})
    assert changed.json["version"] == 2 and not changed.json["enabled"]
    found = kinds(tenant)
    assert found["ticket_created"]["subject"] == OVERRIDE["subject"] and not found["staff_reply"]["customised"]


def test_a_stale_or_missing_version_is_refused(tenant: Tenant):
    call(tenant.manager, "PUT", TEMPLATES, body=OVERRIDE)
    call(tenant.manager, "PUT", TEMPLATES, body=OVERRIDE).problem(422)  # an override exists: name its version
    assert call(tenant.manager, "PUT", TEMPLATES, body={**OVERRIDE, "version": 7}).problem(409)["current_version"] == 1
    fresh = {**OVERRIDE, "kind": "staff_reply", "version": 3}
    assert call(tenant.manager, "PUT", TEMPLATES, body=fresh).problem(409)["current_version"] == 0


def test_a_syntax_error_gets_422_naming_the_field_and_line(tenant: Tenant):
    broken = {**OVERRIDE, "text": "Hello\n{{ ticket.number \n"}
    error = call(tenant.manager, "PUT", TEMPLATES, body=broken).problem(422)["errors"][0]
    assert error["field"] == "text" and error["line"] == 2
    sandboxed = {**OVERRIDE, "subject": "{% include 'secrets' %}"}
    assert call(tenant.manager, "PUT", TEMPLATES, body=sandboxed).problem(422)["errors"][0]["field"] == "subject"
    assert not kinds(tenant)["ticket_created"]["customised"]


def test_preview_renders_sample_data_with_the_sources_sent_or_stored(tenant: Tenant):
    call(tenant.manager, "PUT", TEMPLATES, body=OVERRIDE)
    stored = call(tenant.manager, "POST", PREVIEW, body={"kind": "ticket_created"})
    assert stored.status == 200 and stored.json["subject"] == "[TK-2026-00042] Got it: The printer is on fire"
    sent = call(tenant.manager, "POST", PREVIEW, body={"kind": "ticket_created", "html": "<b>{{ requester.name }}</b>"})
    assert sent.json["html"] == "<b>Peter Gibbons</b>" and sent.json["text"] == "Dear Peter Gibbons, thanks!\n"
    assert call(tenant.manager, "POST", PREVIEW, body={"kind": "ticket_created", "text": "{% for %}"}).status == 422


def test_an_unknown_kind_is_refused(tenant: Tenant):
    assert "kind" in str(
        call(tenant.manager, "PUT", TEMPLATES, body={**OVERRIDE, "kind": "weekly_digest"}).problem(422)
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", TEMPLATES, OVERRIDE),
        ("POST", PREVIEW, {"kind": "staff_reply"}),
        ("PUT", MAILBOX, {"unknown_senders": "refuse"}),
    ],
)
def test_staff_may_not_change_or_preview(tenant: Tenant, method, path, body):
    call(tenant.agent, method, path, body=body).problem(403)


@pytest.mark.parametrize("path", [TEMPLATES, MAILBOX])
def test_portal_users_see_nothing(tenant: Tenant, path):
    portal = tenant.portal_user(tenant.client()["id"])
    call(portal, "GET", path).problem(403)


def test_another_tenants_override_and_mailbox_stay_theirs(new_tenant):
    owner, other = new_tenant(), new_tenant()
    call(owner.manager, "PUT", TEMPLATES, body=OVERRIDE)
    call(owner.manager, "PUT", MAILBOX, body={"unknown_senders": "refuse"})
    assert not kinds(other)["ticket_created"]["customised"]
    theirs = call(other.agent, "GET", MAILBOX).json
    assert theirs["unknown_senders"] == "ticket" and theirs["support_address"].startswith(f"support@{other.id}.")


def test_the_mailbox_names_its_address_and_takes_a_versioned_setting(tenant: Tenant):
    first = call(tenant.agent, "GET", MAILBOX)
    assert first.json["version"] == 0 and first.json["support_address"] == f"support@{tenant.id}.inbound.deskos.local"
    changed = call(tenant.manager, "PUT", MAILBOX, body={"unknown_senders": "refuse"})
    assert changed.status == 200 and changed.json["version"] == 1
    call(tenant.manager, "PUT", MAILBOX, body={"unknown_senders": "ticket"}).problem(422)
    call(tenant.manager, "PUT", MAILBOX, body={"unknown_senders": "ticket", "version": 5}).problem(409)
    call(tenant.manager, "PUT", MAILBOX, body={"unknown_senders": "maybe", "version": 1}).problem(422)
