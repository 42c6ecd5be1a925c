"""Scene-setting for the knowledge tests (and the isolation sweep's factories): items written, published and
indexed through the API."""

from __future__ import annotations

import uuid
from typing import Any

from tests.integration.api.harness import Reply, Tenant, User, call


def item(tenant: Tenant, by: User | None = None, **fields: Any) -> dict[str, Any]:
    body = {"title": "Resetting a password", "kind": "faq", "body": "Use **Forgot password** on the sign-in page."}
    reply = call(by or tenant.agent, "POST", "/knowledge/items", body={**body, **fields})
    assert reply.status == 201, reply.text
    return reply.json


def act(user: User, item_id: str, action: str, body: dict[str, Any] | None = None) -> Reply:
    return call(user, "POST", f"/knowledge/items/{{item_id}}/{action}", {"item_id": item_id}, body=body or {})


def edit(user: User, item_id: str, **fields: Any) -> Reply:
    return call(user, "PATCH", "/knowledge/items/{item_id}", {"item_id": item_id}, body=fields)


def published(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    """An item written by the agent and published by the manager (public unless told otherwise)."""
    made = item(tenant, **{"visibility": "public", **fields})
    reply = act(tenant.manager, made["id"], "publish")
    assert reply.status == 200, reply.text
    return reply.json


def secret_word() -> str:
    """A word no other test writes: a search for it finds only what carries it."""
    return "zq" + uuid.uuid4().hex[:12]


# ---- the isolation sweep's factories -----------------------------------------------------------


def make_knowledge_item(tenant: Tenant, made: dict[str, Any]) -> Any:
    """A published public item (which every portal user of its tenant may read) with a public attachment."""
    from tests.integration.api.test_isolation_sweep import Made, secret

    title, body = secret("Knowledge"), secret("Body")
    faq = published(tenant, title=title, body=body)
    upload = {"original_filename": "guide.txt", "content_type": "text/plain", "size": 10, "is_public": True}
    reply = call(tenant.agent, "POST", "/knowledge/items/{item_id}/attachments", {"item_id": faq["id"]}, body=upload)
    assert reply.status == 201, reply.text
    return Made(faq["id"], (faq["id"], title, body))


def make_knowledge_version(tenant: Tenant, made: dict[str, Any]) -> Any:
    from tests.integration.api.test_isolation_sweep import Made

    return Made("1", made["item_id"].secrets)


def attachment(tenant: Tenant, item_id: str, *, public: bool) -> str:
    """A clean text file attached to the item (uploaded to S3 and scanned), its id."""
    import requests

    from shared.attachments import pipeline, storage
    from shared.settings import settings

    name, content = f"{uuid.uuid4().hex}.txt", b"Steps, in order.\n"
    body = {"original_filename": name, "content_type": "text/plain", "size": len(content), "is_public": public}
    reply = call(tenant.agent, "POST", "/knowledge/items/{item_id}/attachments", {"item_id": item_id}, body=body)
    assert reply.status == 201, reply.text
    upload = reply.json["upload"]
    sent = requests.post(upload["url"], data=upload["fields"], files={"file": (name, content)}, timeout=10)
    assert sent.status_code == 204, sent.text
    key = upload["fields"]["key"]
    etag = storage.s3().head_object(Bucket=settings().bucket_name, Key=key)["ETag"].strip('"')
    assert pipeline.process(key, etag)
    return reply.json["attachment"]["id"]
