"""The API as a client sees it, without HTTP: API Gateway REST proxy events built from the canonical
fixture, handed to the route's own handler (found in the route catalog), answers read back as a client
would; and tenants with their people, made as the product makes them."""

from __future__ import annotations

import copy
import importlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import quote

from functions.api import catalog
from infra.local.lambda_context import LambdaContext
from shared.caller import Role
from shared.directory import save_profile

CANONICAL_EVENT = json.loads((Path(__file__).parents[2] / "events" / "api_gateway_rest.json").read_text())
GROUPS = ("managers", "staff", "portal")


# ---- who calls ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    """A signed-in user, as the claims API Gateway's Cognito authorizer hands to the function."""

    tenant_id: str
    username: str
    groups: tuple[str, ...]
    client_id: str | None = None
    user_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def email(self) -> str:
        return f"{self.username}@{self.tenant_id}.test"

    def claims(self) -> dict[str, Any]:
        claims = dict(CANONICAL_EVENT["requestContext"]["authorizer"]["claims"])
        claims.update(
            {
                "sub": self.user_id,
                # API Gateway flattens the groups list to a string; the local authorizer passes a list
                "cognito:groups": list(self.groups) if len(self.groups) > 1 else self.groups[0],
                "cognito:username": self.email,
                "email": self.email,
                "custom:tenant_id": self.tenant_id,
            }
        )
        if self.client_id is not None:
            claims["custom:client_id"] = self.client_id
        return claims


# ---- what is sent, what comes back -------------------------------------------------------------


def api_event(
    method: str,
    template: str,
    params: Mapping[str, str] | None = None,
    *,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    claims: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event for ``method template`` (OpenAPI ``{param}`` syntax).

    ``body``: a dict/list is sent as JSON, a str as is. ``claims=None``: no authorizer (no token)."""
    params = dict(params or {})
    path = template.format(**{k: quote(v, safe="") for k, v in params.items()})
    event = copy.deepcopy(CANONICAL_EVENT)
    event.update(
        resource=template,
        path=path,
        httpMethod=method,
        headers={**event["headers"], **(headers or {})},
        queryStringParameters=dict(query) if query else None,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
        pathParameters=params or None,
        body=json.dumps(body) if isinstance(body, dict | list) else body,
    )
    context = event["requestContext"]
    context.update(
        httpMethod=method,
        resourcePath=template,
        path=f"/{context['stage']}{path}",
        requestId=str(uuid.uuid4()),
    )
    if claims is None:
        context.pop("authorizer")
        event["headers"].pop("Authorization")
    else:
        context["authorizer"] = {"claims": dict(claims)}
    return event


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    @cached_property
    def json(self) -> Any:
        return json.loads(self.text)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0]

    def problem(self, status: int) -> dict[str, Any]:
        """The RFC 9457 body of an expected error, checked for its shape."""
        assert self.status == status, f"expected {status}, got {self.status}: {self.text}"
        assert self.content_type == "application/problem+json", self.headers
        body = self.json
        assert body["status"] == status and body["title"] and body["type"]
        return body

    def field_errors(self) -> dict[str, str]:
        """A 422's per-field errors, as field -> message."""
        return {e["field"]: e["message"] for e in self.problem(422)["errors"]}


def route_for(method: str, template: str) -> catalog.Route:
    for route in catalog.routes():
        if route.method == method and route.path == template:
            return route
    raise AssertionError(f"{method} {template} is not in the route catalog")


def invoke(event: dict[str, Any]) -> Reply:
    """Hand the event to the Lambda handler that serves its route, as API Gateway would."""
    route = route_for(event["httpMethod"], event["resource"])
    handler = importlib.import_module(route.module).handler
    response = handler(event, LambdaContext(route.operation_id))
    headers = {k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update(response.get("headers") or {})
    return Reply(response["statusCode"], headers, response.get("body") or "")


def call(
    user: User | Mapping[str, Any] | None,
    method: str,
    template: str,
    params: Mapping[str, str] | None = None,
    **kw: Any,
) -> Reply:
    """Call a route as ``user`` (or with these raw claims; None: without a token)."""
    claims = user.claims() if isinstance(user, User) else user
    return invoke(api_event(method, template, params, claims=claims, **kw))


# ---- a tenant with its people ------------------------------------------------------------------


class Tenant:
    """A fresh tenant: a manager, a staff agent, and one portal user per client account it opens.

    Users get a directory profile, as ``deskos`` and /admin/users make them, unless ``profiles`` is
    false: only assignments read profiles, and a sweep of a hundred tenants is faster without."""

    def __init__(self, *, profiles: bool = True):
        self.id = f"t-{uuid.uuid4().hex[:16]}"
        self.profiles = profiles
        self.manager = self.user("manager", Role.MANAGERS)
        self.agent = self.user("agent", Role.STAFF)

    def user(self, name: str, role: Role, *, client_id: str | None = None, profile: bool | None = None) -> User:
        user = User(self.id, name, (str(role),), client_id=client_id)
        if self.profiles if profile is None else profile:
            save_profile(
                self.id,
                user_id=user.user_id,
                username=user.email,
                email=user.email,
                name=name,
                role=role,
                client_id=client_id,
                actor="tests",
            )
        return user

    # Shortcuts that expect success: setting the scene, not the behaviour under test.

    def client(self, name: str = "Initech", **fields: Any) -> dict[str, Any]:
        reply = call(self.agent, "POST", "/crm/clients", body={"name": name, **fields})
        assert reply.status == 201, reply.text
        return reply.json

    def contact(self, client_id: str, name: str = "Peter Gibbons", **fields: Any) -> dict[str, Any]:
        reply = call(self.agent, "POST", "/crm/contacts", body={"client_id": client_id, "name": name, **fields})
        assert reply.status == 201, reply.text
        return reply.json

    def portal_user(self, client_id: str, name: str = "portal") -> User:
        return self.user(name, Role.PORTAL, client_id=client_id)

    def ticket(self, by: User | None = None, subject: str = "Printer on fire", **fields: Any) -> dict[str, Any]:
        reply = call(by or self.agent, "POST", "/support/tickets", body={"subject": subject, **fields})
        assert reply.status == 201, reply.text
        return reply.json
