"""Input no route accepts is refused by the function itself, as a clean 4xx problem, before any parser
or model sees it: API Gateway lets bodies of up to 10 MB through, and the cloud has no local API in
front of the function to cap them."""

from __future__ import annotations

import base64
import json

import pytest

from functions.api.core.limits import MAX_BODY_BYTES, MAX_JSON_DEPTH
from tests.integration.api.harness import Tenant, api_event, call, invoke

TICKETS = "/support/tickets"


def tickets_of(tenant: Tenant) -> list[str]:
    reply = call(tenant.agent, "GET", TICKETS)
    assert reply.status == 200, reply.text
    return [t["id"] for t in reply.json["items"]]


def post_raw(tenant: Tenant, raw: bytes) -> dict:
    """A POST whose body API Gateway passes on base64-encoded, as it does for bytes it treats as binary."""
    event = api_event("POST", TICKETS, body=base64.b64encode(raw).decode(), claims=tenant.agent.claims())
    event["isBase64Encoded"] = True
    return event


def nested(depth: int) -> str:
    return '{"subject": "Deep", "tags": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def test_a_body_over_256_kb_is_refused_with_413_and_nothing_is_created(tenant: Tenant):
    body = {"subject": "big", "description": "x" * MAX_BODY_BYTES}

    problem = call(tenant.agent, "POST", TICKETS, body=body).problem(413)

    assert problem["limit"] == MAX_BODY_BYTES
    assert tickets_of(tenant) == []


def test_the_limit_counts_bytes_not_characters(tenant: Tenant):
    # 100,000 characters, 300,000 bytes in UTF-8
    reply = call(tenant.agent, "POST", TICKETS, body={"subject": "big", "description": "€" * 100_000})

    reply.problem(413)


def test_a_base64_body_is_measured_decoded(tenant: Tenant):
    just_under = json.dumps({"subject": "s", "description": "x" * 19_000}).encode()
    over = json.dumps({"subject": "s", "description": "x" * MAX_BODY_BYTES}).encode()

    # 256 KB decoded is about 341 KB encoded: the encoded length alone would refuse the first
    assert invoke(post_raw(tenant, just_under)).status == 201
    invoke(post_raw(tenant, over)).problem(413)


def test_a_base64_body_that_is_not_utf8_is_a_bad_request(tenant: Tenant):
    problem = invoke(post_raw(tenant, b'{"subject": "\xff\xfe"}')).problem(400)

    assert "UTF-8" in problem["detail"]
    assert tickets_of(tenant) == []


@pytest.mark.parametrize(
    "body", ["[" * 100_000, '{"a": ' * 20_000, nested(MAX_JSON_DEPTH + 1)], ids=["brackets", "braces", "33"]
)
def test_json_nested_deeper_than_32_levels_is_a_bad_request(tenant: Tenant, body):
    problem = call(tenant.agent, "POST", TICKETS, body=body).problem(400)

    assert f"{MAX_JSON_DEPTH} levels" in problem["detail"]
    assert tickets_of(tenant) == []


def test_json_nested_32_levels_reaches_validation(tenant: Tenant):
    reply = call(tenant.agent, "POST", TICKETS, body=nested(MAX_JSON_DEPTH))

    assert "tags.0" in reply.field_errors()  # a list is not a tag: the model, not the depth check, says so


def test_a_number_too_long_to_read_is_a_bad_request(tenant: Tenant):
    ticket = call(tenant.agent, "POST", TICKETS, body={"subject": "Hi"}).json

    reply = call(
        tenant.agent,
        "PATCH",
        "/support/tickets/{ticket_id}",
        {"ticket_id": ticket["id"]},
        body='{"subject": "X", "version": ' + "9" * 5000 + "}",
    )

    reply.problem(400)


def test_a_version_beyond_its_range_is_refused_on_that_field(tenant: Tenant):
    ticket = call(tenant.agent, "POST", TICKETS, body={"subject": "Hi"}).json

    reply = call(
        tenant.agent,
        "PATCH",
        "/support/tickets/{ticket_id}",
        {"ticket_id": ticket["id"]},
        body={"subject": "X", "version": 10**40},
    )

    assert "version" in reply.field_errors()


def test_a_list_longer_than_its_limit_is_refused_on_that_field(tenant: Tenant):
    reply = call(tenant.agent, "POST", TICKETS, body={"subject": "Hi", "tags": ["t"] * 10_000})

    assert "tags" in reply.field_errors()
    assert tickets_of(tenant) == []
