"""Scene-setting for the onboarding tests (and the isolation sweep's factories): templates, processes, a file
scanned for a document, all made through the API and the real pipeline."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import requests

from shared.attachments import pipeline, storage
from shared.caller import Role
from shared.settings import settings
from tests.integration.api.harness import Tenant, User, call

TEMPLATES = "/onboarding/templates"
CREATE_PROCESS = "/onboarding/templates/{template_id}/create-process"
PROCESS = "/onboarding/processes/{process_id}"
TASK = "/onboarding/tasks/{task_id}"
DOCUMENT = "/onboarding/documents/{document_id}"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

STANDARD = {
    "name": "Standard onboarding",
    "tasks": [
        {"title": "Kick-off call", "assignee_kind": "staff", "due_offset_days": 1, "order": 1},
        {"title": "Set up the client's ledger", "assignee_kind": "staff", "due_offset_days": 5, "order": 2},
        {"title": "Sign the engagement letter", "assignee_kind": "client", "due_offset_days": 3, "order": 3},
    ],
    "documents": [
        {"name": "Passport", "required": True, "due_offset_days": 7},
        {"name": "Last year's accounts", "required": False, "due_offset_days": 14},
    ],
}


def template(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    reply = call(tenant.manager, "POST", TEMPLATES, body={**STANDARD, **fields})
    assert reply.status == 201, reply.text
    return reply.json


def staff_user(tenant: Tenant, name: str = "owner") -> User:
    return tenant.user(f"{name}{uuid.uuid4().hex[:8]}", Role.STAFF, profile=True)


def process(
    tenant: Tenant,
    client_id: str | None = None,
    *,
    owner: str | None = None,
    template_id: str | None = None,
    start: date | None = None,
    started: bool = False,
    by: User | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """A process of ``client_id`` (a new client if None) from ``template_id`` (the standard one if None)."""
    body = {
        "client_id": client_id or tenant.client()["id"],
        "owner_id": owner or staff_user(tenant).user_id,
        "start_date": (start or date.today()).isoformat(),
    }
    headers = {"Idempotency-Key": key} if key else None
    params = {"template_id": template_id or template(tenant)["id"]}
    reply = call(by or tenant.agent, "POST", CREATE_PROCESS, params, body=body, headers=headers)
    assert reply.status == 201, reply.text
    made = reply.json
    if started:
        reply = act(tenant.agent, "processes", made["id"], "start")
        assert reply.status == 200, reply.text
        made = reply.json
    return made


def act(user: User, kind: str, entity_id: str, action: str, body: dict | None = None, **kw: Any):
    name = {"processes": "process_id", "tasks": "task_id", "documents": "document_id"}[kind]
    return call(user, "POST", f"/onboarding/{kind}/{{{name}}}/{action}", {name: entity_id}, body=body or {}, **kw)


def items(user: User, kind: str, **query: str) -> list[dict[str, Any]]:
    reply = call(user, "GET", f"/onboarding/{kind}", query={"limit": "100", **query})
    assert reply.status == 200, reply.text
    return reply.json["items"]


def upload(user: User, document_id: str, name: str, content: bytes, content_type: str) -> dict[str, Any]:
    """Upload a file for the document through the presigned POST and scan it, as the upload queue would."""
    body = {"original_filename": name, "content_type": content_type, "size": len(content)}
    reply = call(user, "POST", DOCUMENT + "/upload", {"document_id": document_id}, body=body)
    assert reply.status == 201, reply.text
    upload = reply.json["upload"]
    sent = requests.post(upload["url"], data=upload["fields"], files={"file": (name, content)}, timeout=10)
    assert sent.status_code == 204, sent.text
    key = upload["fields"]["key"]
    etag = storage.s3().head_object(Bucket=settings().bucket_name, Key=key)["ETag"].strip('"')
    assert pipeline.process(key, etag).status is not None
    return reply.json["attachment"]


def days_ago(days: int) -> date:
    return date.today() - timedelta(days=days)
