"""DynamoDB failing in the middle of a request: throttled after botocore's own retries, or a concurrent
writer between the request's read and its write. The caller gets a retryable 503 (with Retry-After) or
a 409, nothing is half-written, and a retry with the same Idempotency-Key then succeeds."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from functions.api import catalog
from infra.local.lambda_context import LambdaContext
from shared.db.table import BATCH_GET_ATTEMPTS
from tests.integration.api.field_service_helpers import act, technician, work_order
from tests.integration.api.harness import Tenant, call
from tests.integration.faults import Faults, nothing_processed, throttled, transaction_cancelled

TICKETS = "/support/tickets"
TICKET = "/support/tickets/{ticket_id}"
COMMENTS = "/support/tickets/{ticket_id}/comments"


def items_of(cloud, tenant: Tenant) -> dict[tuple[str, str], dict[str, Any]]:
    """Every item of the tenant, in the table, keyed by (PK, SK). A test's own look, not an access pattern."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    pages = (
        cloud.client("dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=cloud.resources.table_name,
            FilterExpression="begins_with(PK, :tenant)",
            ExpressionAttributeValues={":tenant": {"S": f"T#{tenant.id}#"}},
        )
    )
    for page in pages:
        for item in page["Items"]:
            found[(item["PK"]["S"], item["SK"]["S"])] = item
    return found


def ticket_number(n: int) -> str:
    return f"TK-{datetime.now(UTC):%Y}-{n:05d}"


THROTTLES = [
    pytest.param(throttled(), id="throughput-exceeded"),
    pytest.param(
        lambda params: transaction_cancelled(*["ThrottlingError"] * len(params["TransactItems"])),
        id="cancelled-throttled",
    ),
]
CONTENDED = pytest.param(
    lambda params: transaction_cancelled("TransactionConflict", *["None"] * (len(params["TransactItems"]) - 1)),
    id="transaction-conflict",
)


def assert_retryable(reply) -> None:
    reply.problem(503)
    assert int(reply.header("Retry-After")) >= 1


@pytest.mark.parametrize("error", THROTTLES)
def test_a_ticket_create_throttled_at_its_transaction_writes_nothing_and_its_retry_succeeds(
    tenant: Tenant, module_cloud, faults: Faults, error
):
    # Given a tenant with one ticket, and a table that throttles every transaction
    tenant.ticket(subject="First")
    before = items_of(module_cloud, tenant)
    faults.fail("TransactWriteItems", error)
    key = {"Idempotency-Key": "create-1"}

    # When a ticket is created (its reads succeed, its write is throttled)
    reply = call(tenant.agent, "POST", TICKETS, body={"subject": "Second"}, headers=key)

    # Then the caller is told to retry, and nothing was written: no ticket, no number, no idempotency record
    assert_retryable(reply)
    assert faults.calls["BatchGetItem"] >= 1
    assert items_of(module_cloud, tenant) == before

    # When the table recovers and the client retries with the same key
    faults.clear()
    retried = call(tenant.agent, "POST", TICKETS, body={"subject": "Second"}, headers=key)

    # Then the ticket is created with the next number, none skipped
    assert retried.status == 201, retried.text
    assert retried.json["number"] == ticket_number(2)


def test_a_ticket_create_throttled_when_recording_its_idempotency_key_is_a_503(
    tenant: Tenant, module_cloud, faults: Faults
):
    before = items_of(module_cloud, tenant)
    faults.fail("PutItem", throttled(), when=lambda params: "#IDEMPOTENCY" in params["Item"]["PK"]["S"])

    reply = call(tenant.agent, "POST", TICKETS, body={"subject": "Hi"}, headers={"Idempotency-Key": "k"})

    assert_retryable(reply)
    assert items_of(module_cloud, tenant) == before


def test_a_ticket_created_whose_idempotency_record_cannot_be_marked_done_is_still_answered_201(
    tenant: Tenant, faults: Faults
):
    # Given the table throttles the write that marks the key's record done, after the ticket is written
    faults.fail("UpdateItem", throttled(), when=lambda params: "#IDEMPOTENCY" in params["Key"]["PK"]["S"])

    reply = call(tenant.agent, "POST", TICKETS, body={"subject": "Hi"}, headers={"Idempotency-Key": "done"})

    # Then the caller learns of the ticket that exists, rather than being asked to make another
    assert reply.status == 201, reply.text
    faults.clear()
    assert [t["id"] for t in call(tenant.agent, "GET", TICKETS).json["items"]] == [reply.json["id"]]


@pytest.mark.parametrize("error", [*THROTTLES, CONTENDED])
def test_a_comment_throttled_at_its_transaction_writes_nothing_and_its_retry_succeeds(
    tenant: Tenant, module_cloud, faults: Faults, error
):
    ticket = tenant.ticket()
    before = items_of(module_cloud, tenant)
    faults.fail("TransactWriteItems", error)
    params = {"ticket_id": ticket["id"]}

    reply = call(tenant.agent, "POST", COMMENTS, params, body={"body": "On it", "public": True})

    assert_retryable(reply)
    assert items_of(module_cloud, tenant) == before
    faults.clear()
    assert call(tenant.agent, "POST", COMMENTS, params, body={"body": "On it", "public": True}).status == 201
    assert [c["body"] for c in call(tenant.agent, "GET", COMMENTS, params).json["items"]] == ["On it"]


def test_a_comment_whose_transaction_gets_no_answer_is_a_503_to_retry(tenant: Tenant, faults: Faults):
    ticket = tenant.ticket()
    faults.fail("TransactWriteItems", ReadTimeoutError(endpoint_url="http://dynamodb"), times=1)

    reply = call(tenant.agent, "POST", COMMENTS, {"ticket_id": ticket["id"]}, body={"body": "On it", "public": True})

    assert_retryable(reply)


def test_a_work_order_completion_throttled_leaves_the_order_and_its_technicians_load_as_they_were(
    tenant: Tenant, module_cloud, faults: Faults
):
    # Given a work order in progress with a technician whose load counts it
    tech = technician(tenant, "theo")
    order = work_order(tenant)
    for action, body in (("assign", {"technician_id": tech.user_id}), ("start", {})):
        assert act(tenant.agent, order["id"], action, body).status == 200
    before = items_of(module_cloud, tenant)
    faults.fail("TransactWriteItems", throttled())

    # When its completion (the order and the technician's load, together) is throttled
    reply = act(tenant.agent, order["id"], "complete")

    # Then neither the order nor the load changed, and completing again works
    assert_retryable(reply)
    assert items_of(module_cloud, tenant) == before
    faults.clear()
    assert act(tenant.agent, order["id"], "complete").json["status"] == "completed"


def test_a_patch_whose_ticket_changes_between_its_read_and_its_write_is_a_409_and_the_other_change_stands(
    tenant: Tenant, module_cloud, faults: Faults
):
    # Given a ticket at version 1
    ticket = tenant.ticket(subject="Original")
    params = {"ticket_id": ticket["id"]}

    theirs: list[dict] = []

    def someone_else_edits(_params) -> None:
        reply = call(tenant.manager, "PATCH", TICKET, params, body={"version": 1, "subject": "Theirs"})
        assert reply.status == 200, reply.text
        theirs.append(items_of(module_cloud, tenant))

    # When another writer saves the ticket after this request read it and before it writes
    for operation in ("PutItem", "TransactWriteItems"):
        faults.before(operation, someone_else_edits, when=lambda p: "TICKET#" in str(p))
    reply = call(tenant.agent, "PATCH", TICKET, params, body={"version": 1, "priority": "urgent"})

    # Then this request is a conflict, and the table is exactly what the other writer left
    reply.problem(409)
    faults.clear()
    assert items_of(module_cloud, tenant) == theirs[0]
    now = call(tenant.agent, "GET", TICKET, params).json
    assert (now["subject"], now["priority"], now["version"]) == ("Theirs", "normal", 2)


def test_a_comment_whose_ticket_changes_meanwhile_is_added_to_the_ticket_as_it_now_is(
    tenant: Tenant, module_cloud, faults: Faults
):
    ticket = tenant.ticket(subject="Original")
    params = {"ticket_id": ticket["id"]}

    def someone_else_edits(_params) -> None:
        assert call(tenant.manager, "PATCH", TICKET, params, body={"version": 1, "subject": "Theirs"}).status == 200

    faults.before("TransactWriteItems", someone_else_edits)
    reply = call(tenant.agent, "POST", COMMENTS, params, body={"body": "Seen", "public": True})

    assert reply.status == 201, reply.text
    faults.clear()
    assert call(tenant.agent, "GET", TICKET, params).json["subject"] == "Theirs"
    assert [c["body"] for c in call(tenant.agent, "GET", COMMENTS, params).json["items"]] == ["Seen"]


READS = [r for r in catalog.routes() if r.method == "GET" and r.roles is not None]
SOME_ID = "01JABCDEFGHJKMNPQRSTVWXYZ0"


@pytest.mark.parametrize("route", READS, ids=lambda r: r.path)
def test_every_read_answers_a_throttled_table_with_a_503(tenant: Tenant, faults: Faults, route):
    # Given a table that throttles every call
    for operation in ("GetItem", "Query", "BatchGetItem", "TransactGetItems"):
        faults.fail(operation, throttled())
    params = {name[1:-1]: SOME_ID for name in route.path.split("/") if name.startswith("{")}
    if "number" in params:
        params["number"] = "TK-2026-00001"

    # When the route is read
    reply = call(tenant.manager, "GET", route.path, params)

    # Then the caller is told to retry (unless the route needed no table at all)
    if sum(faults.calls.values()):
        assert_retryable(reply)
    else:
        assert reply.status < 500, reply.text


def test_a_create_whose_key_record_cannot_be_removed_either_blocks_its_key_only_for_the_invocations_time(
    tenant: Tenant, module_cloud, faults: Faults, monkeypatch: pytest.MonkeyPatch
):
    # Given an invocation with 1.5 s left, and a table throttling the ticket's write and the clean-up after it
    monkeypatch.setattr(LambdaContext, "get_remaining_time_in_millis", lambda self: 1500)
    faults.fail("TransactWriteItems", throttled())
    faults.fail("DeleteItem", throttled(), when=lambda params: "#IDEMPOTENCY" in params["Key"]["PK"]["S"])
    key = {"Idempotency-Key": "stuck"}

    # When the create fails, its in-progress record left behind
    assert_retryable(call(tenant.agent, "POST", TICKETS, body={"subject": "Hi"}, headers=key))
    faults.clear()

    # Then a retry at once is told the first attempt may still be running; once its time is over, it succeeds
    assert call(tenant.agent, "POST", TICKETS, body={"subject": "Hi"}, headers=key).problem(409)
    time.sleep(1.6)
    retried = call(tenant.agent, "POST", TICKETS, body={"subject": "Hi"}, headers=key)
    assert retried.status == 201, retried.text
    assert retried.json["number"] == ticket_number(1)


def test_a_batch_read_dynamodb_keeps_leaving_unprocessed_is_a_503_after_a_few_tries_not_a_spin(
    tenant: Tenant, faults: Faults
):
    # Given a table that hands every key of a batch read back unprocessed (as it does when throttled)
    ticket = tenant.ticket()
    faults.answer("BatchGetItem", nothing_processed, times=100)
    faults.calls.clear()

    # When a comment is added (its first read is a BatchGetItem of the ticket and the SLA policies)
    reply = call(tenant.agent, "POST", COMMENTS, {"ticket_id": ticket["id"]}, body={"body": "Hi", "public": True})

    # Then the caller is told to retry after a handful of backed-off attempts
    assert_retryable(reply)
    assert faults.calls["BatchGetItem"] <= BATCH_GET_ATTEMPTS
