"""What the contract fuzzer (tests/e2e/test_contract_fuzz.py) found, each pinned by the smallest request
that showed it: time-range filters that crashed the query, and answers the contract did not document."""

from __future__ import annotations

import pytest

from functions.api import catalog
from functions.api.core.problems import PROBLEM
from tests.integration.api.field_service_helpers import act, technician, work_order
from tests.integration.api.harness import Tenant, call

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def operation(method: str, path: str) -> dict:
    return catalog.openapi()["paths"][path][method.lower()]


# ---- time ranges: an open start became an empty key value, a reversed range a refused BETWEEN ---------


@pytest.mark.parametrize(
    ("path", "end"),
    [("/audit", "until"), ("/support/tickets", "created_to"), ("/support/survey-responses", "responded_to")],
)
def test_a_range_with_only_an_end_is_answered(tenant: Tenant, path: str, end: str):
    # Given only the end of a time range (the fuzzer sent /audit?until=0374-12-14T21:34:13.81Z: a 500)
    # When a manager lists
    reply = call(tenant.manager, "GET", path, query={end: "0374-12-14T21:34:13.81Z"})

    # Then the list answers, empty: nothing is that old
    assert reply.status == 200, reply.text
    assert reply.json["items"] == []


@pytest.mark.parametrize(
    ("path", "start", "end"),
    [
        ("/audit", "since", "until"),
        ("/support/tickets", "created_from", "created_to"),
        ("/support/survey-responses", "responded_from", "responded_to"),
    ],
)
def test_a_range_that_ends_before_it_starts_is_a_422_naming_its_start(tenant: Tenant, path: str, start, end):
    reply = call(tenant.manager, "GET", path, query={start: "2026-02-01T00:00:00Z", end: "2026-01-01T00:00:00+01:00"})

    assert reply.field_errors() == {start: f"{start} is after {end}."}


# ---- the contract: what the routes really answer is what the document says ----------------------------


def test_every_error_answer_is_documented_as_a_problem_and_only_the_problem_shape():
    document = catalog.openapi()
    assert {"HTTPValidationError", "ValidationError"}.isdisjoint(document["components"]["schemas"])
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            errors = {status: r for status, r in op["responses"].items() if status >= "400"}
            assert all(r["content"] == {PROBLEM: {"schema": PROBLEM_REF}} for r in errors.values()), (method, path)
            if "security" in op:
                assert {"401", "403"} <= set(errors), (method, path)


def test_only_routes_that_take_a_body_document_413_and_415():
    # Given a create (a body) and a read (none)
    create, read = operation("POST", "/support/tickets"), operation("GET", "/support/tickets")

    # Then only the create documents the body cap and the JSON-only rule
    assert {"413", "415"} <= set(create["responses"])
    assert {"413", "415"}.isdisjoint(read["responses"])


def test_deleting_an_attachment_is_documented_as_the_204_it_answers():
    # The fuzzer: DELETE /attachments/{id} answered 204, the document said 200 with a JSON null
    responses = operation("DELETE", "/attachments/{attachment_id}")["responses"]

    assert responses["204"] == {"description": "No Content"}
    assert "200" not in responses


def test_a_204_is_documented_without_a_body():
    # The fuzzer: DELETE /field-service/technicians/{id} answered an empty 204, documented as JSON to parse
    assert operation("DELETE", "/field-service/technicians/{technician_id}")["responses"]["204"] == {
        "description": "No Content"
    }


def test_the_documentation_pages_document_the_media_types_they_serve():
    # The fuzzer: /docs answered text/html and its assets text/css, documented as application/json
    page = operation("GET", "/docs")["responses"]["200"]["content"]
    assets = operation("GET", "/docs/assets/{name}")["responses"]["200"]["content"]

    assert set(page) == {"text/html"}
    assert set(assets) == {"application/javascript", "text/css"}


def test_an_unknown_documentation_asset_is_a_problem_404():
    # The fuzzer: /docs/assets/<unknown> answered a text/plain 404
    reply = call(None, "GET", "/docs/assets/{name}", {"name": "nothing.js"})

    assert reply.problem(404)["detail"] == "No such asset."


# ---- instants at the far ends of datetime's range -----------------------------------------------------


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00", "0001-01-01T00:30:00+01:00", "9999-12-31T23:59:59-05:00"])
def test_a_filter_at_the_far_end_of_time_is_answered(tenant: Tenant, instant: str):
    # The probe after #1: created_from=0001-01-01T00:00:00 or created_to=9999-12-31T23:59:59-05:00 was a 500
    reply = call(tenant.manager, "GET", "/support/tickets", query={"created_from": instant, "created_to": instant})

    assert reply.status == 200, reply.text


@pytest.mark.parametrize("start", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00"])
def test_scheduling_a_work_order_at_the_far_end_of_time_is_a_422(tenant: Tenant, start: str):
    # Given an assigned work order
    tech = technician(tenant, "Tina")
    order = work_order(tenant)
    assert act(tenant.agent, order["id"], "assign", {"technician_id": tech.user_id}).status == 200

    # When it is scheduled at an instant UTC cannot hold (was: 500, OverflowError storing it)
    reply = act(tenant.agent, order["id"], "schedule", {"scheduled_start": start})

    # Then the field is refused
    assert "scheduled_start" in reply.field_errors()
