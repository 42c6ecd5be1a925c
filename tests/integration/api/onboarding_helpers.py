"""Scene-setting for the onboarding tests (and the isolation sweep's factories): templates, processes, a file
scanned for a document, all made through the API and the real pipeline."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import requests

from shared.attachments import pipeline, storage
from shared.caller import Role
from shared.onboarding import upload_links
from shared.onboarding.model import Document
from shared.settings import settings
from tests.integration.api.harness import Tenant, User, call

TEMPLATES = "/onboarding/templates"
CREATE_PROCESS = "/onboarding/templates/{template_id}/create-process"
PROCESS = "/onboarding/processes/{process_id}"
TASK = "/onboarding/tasks/{task_id}"
DOCUMENT = "/onboarding/documents/{document_id}"

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
    return _send(call(user, "POST", DOCUMENT + "/upload", {"document_id": document_id}, body=body), name, content)


def link_token(tenant_id: str, document_id: str) -> str:
    """The upload link's token for the document, as its request emails carry it."""
    return upload_links.token(Document.find(tenant_id, document_id))


def upload_by_link(token: str, document_id: str, name: str, content: bytes, content_type: str) -> dict[str, Any]:
    """``upload``, through the emailed link's public route."""
    body = {"original_filename": name, "content_type": content_type, "size": len(content)}
    reply = call(
        None, "POST", DOCUMENT + "/upload-by-link", {"document_id": document_id}, body=body, query={"token": token}
    )
    return _send(reply, name, content)


def _send(reply: Any, name: str, content: bytes) -> dict[str, Any]:
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


# ---- the isolation sweep's factories (tests/integration/api/test_isolation_sweep.py) -------------


def _secret(label: str) -> str:
    return f"{label} {uuid.uuid4().hex}"


def make_template(tenant: Tenant, made: dict) -> Any:
    from tests.integration.api.test_isolation_sweep import Made

    name, task = _secret("Template"), _secret("Task")
    made_template = template(tenant, name=name, tasks=[{"title": task, "assignee_kind": "client"}])
    return Made(made_template["id"], (made_template["id"], name, task))


def make_process(tenant: Tenant, made: dict) -> Any:
    """A started process of the scene's client (a new one if none), owned by the scene's technician if any (so
    that filters by owner and assignee find it), with a staff task, a client task and a document."""
    from tests.integration.api.test_isolation_sweep import Made, make_client

    client = made.get("client_id") or make_client(tenant, made)
    owner = made["technician_id"].value if "technician_id" in made else staff_user(tenant).user_id
    name, task, document = _secret("Template"), _secret("Task"), _secret("Document")
    source = template(
        tenant,
        name=name,
        tasks=[{"title": _secret("Staff task")}, {"title": task, "assignee_kind": "client", "order": 1}],
        documents=[{"name": document}],
    )
    made_process = process(tenant, client.value, owner=owner, template_id=source["id"], started=True)
    return Made(made_process["id"], (made_process["id"], name, task, document, *client.secrets), client.value)


def _item_of(tenant: Tenant, made: dict, kind: str) -> Any:
    from tests.integration.api.test_isolation_sweep import Made

    parent = made.get("process_id") or make_process(tenant, made)
    found = items(tenant.agent, kind, process_id=parent.value)
    item = next(i for i in found if kind == "documents" or i["assignee_kind"] == "client")  # what the portal sees
    return Made(item["id"], (item["id"], *parent.secrets), parent.client_id)


def make_task(tenant: Tenant, made: dict) -> Any:
    return _item_of(tenant, made, "tasks")


def make_document(tenant: Tenant, made: dict) -> Any:
    return _item_of(tenant, made, "documents")


FACTORIES = {
    "template_id": make_template,
    "process_id": make_process,
    "task_id": make_task,
    "document_id": make_document,
}


def process_body(tenant: Tenant, made: dict) -> dict[str, Any]:
    from tests.integration.api.test_isolation_sweep import make_client

    owner = staff_user(tenant).user_id
    return {"client_id": make_client(tenant, made).value, "owner_id": owner, "start_date": "2030-01-07"}


BODIES = {
    "CreateOnboardingTemplate": lambda tenant, made: {"name": "Intruder", "tasks": [{"title": "Intrude"}]},
    "ReplaceOnboardingTemplate": lambda tenant, made: {"name": "Intruder", "version": 1},
    "CreateOnboardingProcess": process_body,
    "CompleteOnboardingProcess": lambda tenant, made: {"force": False},
    "AssignOnboardingTask": lambda tenant, made: {"assignee_id": staff_user(tenant).user_id},
    "UploadOnboardingDocument": lambda tenant, made: {
        "original_filename": "intruder.pdf",
        "content_type": "application/pdf",
        "size": 10,
    },
    "ApproveOnboardingDocument": lambda tenant, made: {"note": "Intruder"},
    "RejectOnboardingDocument": lambda tenant, made: {"note": "Intruder"},
}

# the isolation sweep's signed links: (path parameter, the link's token for the factory's object, a body)
SIGNED_LINKS = {
    "GetDocumentRequestByLink": ("document_id", lambda tenant, made: link_token(tenant.id, made.value), None),
    "UploadOnboardingDocumentByLink": (
        "document_id",
        lambda tenant, made: link_token(tenant.id, made.value),
        {"original_filename": "linked.pdf", "content_type": "application/pdf", "size": 10},
    ),
}
