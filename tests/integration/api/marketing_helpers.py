"""Scene-setting for the marketing tests (and the isolation sweep's factories): tags, segments, templates and
campaigns made through the API, campaigns sent by the sending job's own code, the outbox read back."""

from __future__ import annotations

import time
import uuid
from typing import Any

from infra.local import outbox
from shared.marketing import sending
from tests.integration.api.harness import Tenant, call

TEMPLATE = {
    "name": "Newsletter",
    "subject": "News for {{ client.name }}",
    "html": '<p>Hello {{ contact.first_name | default("there") }},</p><p><a href="https://example.com/news">Read</a></p>',
}


def tag(tenant: Tenant, name: str | None = None, **fields: Any) -> dict[str, Any]:
    reply = call(tenant.agent, "POST", "/marketing/tags", body={"name": name or f"tag-{uuid.uuid4().hex}", **fields})
    assert reply.status == 201, reply.text
    return reply.json


def apply(tenant: Tenant, tag_id: str, kind: str, entity_id: str) -> dict[str, Any]:
    body = {"tag_id": tag_id, "entity_kind": kind, "entity_id": entity_id}
    reply = call(tenant.agent, "POST", "/marketing/entity-tags", body=body)
    assert reply.status in (200, 201), reply.text
    return reply.json


def segment(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"name": f"segment-{uuid.uuid4().hex}", **fields}
    reply = call(tenant.manager, "POST", "/marketing/segments", body=body)
    assert reply.status == 201, reply.text
    return reply.json


def static_segment(tenant: Tenant, contact_ids: list[str], **fields: Any) -> dict[str, Any]:
    made = segment(tenant, kind="static", **fields)
    reply = call(
        tenant.manager,
        "POST",
        "/marketing/segments/{segment_id}/members/add",
        {"segment_id": made["id"]},
        body={"contact_ids": contact_ids},
    )
    assert reply.status == 200, reply.text
    return made


def refreshed(tenant: Tenant, segment_id: str) -> dict[str, Any]:
    reply = call(tenant.manager, "POST", "/marketing/segments/{segment_id}/refresh", {"segment_id": segment_id})
    assert reply.status == 200, reply.text
    return reply.json


def members(tenant: Tenant, segment_id: str) -> list[dict[str, Any]]:
    reply = call(
        tenant.agent,
        "GET",
        "/marketing/segments/{segment_id}/members",
        {"segment_id": segment_id},
        query={"limit": "100"},
    )
    assert reply.status == 200, reply.text
    return reply.json["items"]


def template(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    reply = call(tenant.manager, "POST", "/marketing/email-templates", body={**TEMPLATE, **fields})
    assert reply.status == 201, reply.text
    return reply.json


def campaign(
    tenant: Tenant, template_id: str, segment_id: str, *, scheduled: bool = True, name: str | None = None
) -> dict[str, Any]:
    body = {"name": name or f"campaign-{uuid.uuid4().hex}", "template_id": template_id, "segment_id": segment_id}
    reply = call(tenant.manager, "POST", "/marketing/campaign-executions", body=body)
    assert reply.status == 201, reply.text
    if not scheduled:
        return reply.json
    path = "/marketing/campaign-executions/{campaign_id}/schedule"
    scheduled_reply = call(tenant.manager, "POST", path, {"campaign_id": reply.json["id"]}, body={})
    assert scheduled_reply.status == 200, scheduled_reply.text
    return scheduled_reply.json


def send(tenant: Tenant, campaign_id: str, seconds: float = 60) -> sending.Run:
    """Run the sender on the campaign until it finishes (or the time is up)."""
    return sending.send(tenant.id, campaign_id, time.monotonic() + seconds)


def get_campaign(tenant: Tenant, campaign_id: str) -> dict[str, Any]:
    reply = call(tenant.agent, "GET", "/marketing/campaign-executions/{campaign_id}", {"campaign_id": campaign_id})
    assert reply.status == 200, reply.text
    return reply.json


def mails_of(aws_url: str, campaign_id: str) -> list[dict[str, Any]]:
    """The outbox's emails of one campaign."""
    return [m for m in outbox.messages(aws_url) if f"/{campaign_id}/" in m["headers"].get("X-DeskOS-Campaign", "")]


def recipients(mails: list[dict[str, Any]]) -> list[str]:
    return sorted(a for m in mails for a in m["destinations"]["ToAddresses"])


# ---- the isolation sweep's factories (tests/integration/api/test_isolation_sweep.py) -------------


def sweep_factories(made_type, secret, make_contact):
    """FACTORIES entries for the marketing routes' path parameters, given the sweep's own ``Made``, ``secret``
    and ``make_contact`` (so that this module does not import the sweep)."""

    def make_tag(tenant: Tenant, made: dict) -> Any:
        created = tag(tenant, secret("Tag"), description=secret("About"))
        return made_type(created["id"], (created["id"], created["name"], created["description"]))

    def make_entity(tenant: Tenant, made: dict) -> Any:
        contact = make_contact(tenant, made)
        if "tag_id" in made:
            apply(tenant, made["tag_id"].value, "contact", contact.value)
        return contact

    def make_segment(tenant: Tenant, made: dict) -> Any:
        contact = make_contact(tenant, made)
        created = static_segment(tenant, [contact.value], name=secret("Segment"))
        return made_type(created["id"], (created["id"], created["name"], *contact.secrets))

    def make_template(tenant: Tenant, made: dict) -> Any:
        created = template(tenant, name=secret("Template"), subject=secret("Subject"))
        return made_type(created["id"], (created["id"], created["name"], created["subject"]))

    def make_campaign(tenant: Tenant, made: dict) -> Any:
        segment_made, template_made = make_segment(tenant, made), make_template(tenant, made)
        created = campaign(tenant, template_made.value, segment_made.value, scheduled=False, name=secret("Campaign"))
        return made_type(created["id"], (created["id"], created["name"]))

    factories = {
        "tag_id": make_tag,
        "entity_kind": lambda tenant, made: made_type("contact", ()),
        "entity_id": make_entity,
        "segment_id": make_segment,
        "email_template_id": make_template,
        "campaign_id": make_campaign,
    }
    references = {
        "tag_id": make_tag,
        "entity_id": make_contact,
        "segment_id": make_segment,
        "template_id": make_template,
    }
    return factories, references


CRITERIA = {"match": "all", "conditions": [{"field": "client.customer_type", "operator": "equals", "value": "premium"}]}


def sweep_bodies(make_contact):
    """BODIES entries for the marketing routes: valid bodies in the caller's tenant."""

    def contact_ids(tenant: Tenant, made: dict) -> dict:
        return {"contact_ids": [make_contact(tenant, made).value]}

    def application(tenant: Tenant, made: dict) -> dict:
        return {"tag_id": tag(tenant)["id"], "entity_kind": "contact", "entity_id": make_contact(tenant, made).value}

    def bulk(tenant: Tenant, made: dict) -> dict:
        return {"tag_id": tag(tenant)["id"], "entities": [{"kind": "contact", "id": make_contact(tenant, made).value}]}

    def new_campaign(tenant: Tenant, made: dict) -> dict:
        segment_id = segment(tenant, kind="static")["id"]
        return {"name": "Intruder", "template_id": template(tenant)["id"], "segment_id": segment_id}

    return {
        "CreateTag": lambda tenant, made: {"name": f"intruder-{uuid.uuid4().hex}"},
        "UpdateTag": lambda tenant, made: {"name": f"intruder-{uuid.uuid4().hex}", "version": 1},
        "ApplyTag": application,
        "BulkApplyTag": bulk,
        "BulkRemoveTag": bulk,
        "PreviewSegment": lambda tenant, made: {"criteria": CRITERIA},
        "CreateSegment": lambda tenant, made: {"name": "Intruder", "criteria": CRITERIA},
        "UpdateSegment": lambda tenant, made: {"name": "Intruder", "version": 1},
        "AddSegmentMembers": contact_ids,
        "RemoveSegmentMembers": contact_ids,
        "CreateEmailTemplate": lambda tenant, made: {**TEMPLATE, "name": "Intruder"},
        "UpdateEmailTemplate": lambda tenant, made: {"name": "Intruder", "version": 1},
        "CreateCampaign": new_campaign,
        "ScheduleCampaign": lambda tenant, made: {},
    }


def segment_of(tenant: Tenant, segment_id: str) -> dict[str, Any]:
    reply = call(tenant.agent, "GET", "/marketing/segments/{segment_id}", {"segment_id": segment_id})
    assert reply.status == 200, reply.text
    return reply.json
