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
