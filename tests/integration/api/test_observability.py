"""Every API function traced with its tenant, and log lines that carry the request they belong to.

Outside Lambda the Tracer records nothing (functions/observability.py); here it is given the real X-Ray recorder,
enabled, with an emitter that keeps what it would send to the daemon."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from functions.api.core import logger
from functions.events import audit_trail
from functions.events.batches import record_tenant
from functions.observability import tracer
from infra.local.lambda_context import LambdaContext
from shared.support import tickets
from tests.integration.api.harness import Tenant, User, api_event, catalog, invoke

AUTHENTICATED = [r for r in catalog.routes() if r.roles is not None]
SOME_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


class Kept:
    """An X-Ray emitter that keeps the segments instead of sending them over UDP."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self.sent: list[dict[str, Any]] = []

    def annotations(self) -> list[dict[str, Any]]:
        """Ends the test's segment; the annotations of every subsegment in it, however deep."""
        self.recorder.end_segment()
        found, stack = [], [*self.sent]
        while stack:
            entity = stack.pop()
            found.append({"name": entity.get("name"), **entity.get("annotations", {})})
            stack.extend(entity.get("subsegments", []))
        return found

    def send_entity(self, entity: Any) -> None:
        self.sent.append(json.loads(entity.serialize()))

    def set_daemon_address(self, address: str | None) -> None: ...

    @property
    def daemon_address(self) -> None:
        return None


@pytest.fixture
def traces(monkeypatch) -> Iterator[Kept]:
    from aws_xray_sdk import global_sdk_config
    from aws_xray_sdk.core import xray_recorder
    from aws_xray_sdk.core.context import Context

    kept = Kept(xray_recorder)
    xray_recorder.configure(sampling=False, context=Context(), emitter=kept)
    global_sdk_config.set_sdk_enabled(True)
    monkeypatch.setattr(tracer, "provider", xray_recorder)
    monkeypatch.setattr(tracer, "disabled", False)
    xray_recorder.begin_segment("test")  # in Lambda, the function's own segment
    try:
        yield kept
    finally:
        global_sdk_config.set_sdk_enabled(False)


def caller_for(tenant: Tenant, route: catalog.Route) -> User:
    if "staff" in route.roles or "managers" in route.roles:
        return tenant.manager
    return tenant.portal_user(SOME_ID)  # made without a request, so the trace holds only the one under test


@pytest.mark.parametrize("route", AUTHENTICATED, ids=lambda r: f"{r.method} {r.path}")
def test_every_api_function_traces_its_request_with_the_tenant_annotated(tenant, traces, route):
    # Given a caller the route admits, and ids that name nothing
    params = {name: SOME_ID for name in re.findall(r"{(\w+)}", route.path)}
    body = {} if route.method in ("POST", "PUT", "PATCH") else None
    # When the route's own Lambda handler serves the request (whatever it answers: 200, 404 or 422)
    reply = invoke(api_event(route.method, route.path, params, body=body, claims=caller_for(tenant, route).claims()))
    assert reply.status < 500, reply.text
    # Then the handler's subsegment carries the caller's tenant (and Powertools' own annotations)
    [handled] = [a for a in traces.annotations() if a["name"] == "## _serve"]
    assert handled["tenant_id"] == tenant.id
    assert handled["Service"] == "deskos"


def test_a_stream_consumer_traces_each_record_with_its_tenant(tenant, traces):
    # Given a stream record of a tenant's ticket
    item = {"PK": {"S": f"T#{tenant.id}#TICKET#{SOME_ID}"}, "SK": {"S": "TICKET"}}
    record = {"eventID": "1", "eventName": "REMOVE", "eventSource": "aws:dynamodb", "awsRegion": "eu-west-1"}
    record["dynamodb"] = {"Keys": item, "OldImage": item, "SequenceNumber": "1", "ApproximateCreationDateTime": 1}
    # When the audit trail consumes it
    assert audit_trail.handler({"Records": [record]}, LambdaContext("AuditTrail")) == {"batchItemFailures": []}
    # Then the record's subsegment names the tenant
    assert {"name": "## record", "tenant_id": tenant.id} in traces.annotations()


def test_the_tenant_of_a_record_comes_from_its_item_or_object_key():
    assert record_tenant({"dynamodb": {"Keys": {"PK": {"S": "T#acme#TICKET#1"}}}}) == "acme"
    assert record_tenant({"dynamodb": {"Keys": {"PK": {"S": "SYS#SLASWEEP"}}}}) is None
    upload = {"Records": [{"s3": {"object": {"key": "t/acme/ticket/1/2"}}}]}
    assert record_tenant({"body": json.dumps(upload)}) == "acme"
    assert record_tenant({"body": json.dumps({"Event": "s3:TestEvent"})}) is None
    assert record_tenant({"body": "not json"}) is None


@pytest.fixture
def logged() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The API functions' log lines from here on, as they would reach CloudWatch."""
    stream = io.StringIO()
    previous = logger.registered_handler.setStream(stream)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.registered_handler.setStream(previous)


def test_a_log_line_carries_the_request_id_the_tenant_and_the_lambda_context(tenant, logged, monkeypatch):
    # Given a request whose handling fails with a bug (which is logged)
    monkeypatch.setattr(tickets.Ticket, "load", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("bug")))
    event = api_event("GET", "/support/tickets/{ticket_id}", {"ticket_id": SOME_ID}, claims=tenant.agent.claims())
    event["requestContext"]["requestId"] = "req-observed-1"
    # When it is served
    assert invoke(event).status == 500
    # Then its log line names the request (as the correlation id), the tenant, the user and the function
    [line] = [entry for entry in logged() if entry.get("message") == "Unhandled error"]
    assert line["correlation_id"] == "req-observed-1"
    assert line["tenant_id"] == tenant.id and line["user"] == tenant.agent.user_id
    assert line["function_name"] == "GetTicket" and line["function_request_id"]


def test_a_request_does_not_log_with_the_previous_requests_tenant(new_tenant, logged, monkeypatch):
    # Given a request of one tenant served, then a public request (no tenant) that logs a bug
    first = new_tenant()
    assert invoke(api_event("GET", "/me", claims=first.agent.claims())).status == 200
    monkeypatch.setattr(catalog, "openapi", lambda: 1 / 0)  # the documentation route fails: a bug, logged
    event = api_event("GET", "/openapi.json")
    event["requestContext"]["requestId"] = "req-observed-2"
    assert invoke(event).status == 500
    # Then that line has its own request id and no tenant
    [line] = [entry for entry in logged() if entry.get("message") == "Unhandled error"]
    assert line["correlation_id"] == "req-observed-2"
    assert "tenant_id" not in line and "user" not in line
