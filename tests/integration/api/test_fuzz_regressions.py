"""What the contract fuzzer (tests/e2e/test_contract_fuzz.py) found, each pinned by the smallest request
that showed it: time-range filters that crashed the query, and answers the contract did not document."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

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


# ---- the independent fuzz run (issue 12): bodies no parser should see, numbers no table can hold ------

MULTIPART = {"Content-Type": "multipart/form-data"}  # no boundary: Powertools' parser raised ValueError
WRITES = [
    ("POST", "/support/tickets", None),  # portal users may create tickets; the rest are staff-only
    ("POST", "/crm/contacts", None),
    ("POST", "/field-service/technicians", None),
    ("PATCH", "/support/tickets/{ticket_id}", "ticket_id"),
    ("PATCH", "/support/surveys/{survey_id}", "survey_id"),
    ("PATCH", "/field-service/work-orders/{work_order_id}", "work_order_id"),
]


@pytest.mark.parametrize(("method", "path", "param"), WRITES, ids=lambda v: v if isinstance(v, str) else "")
def test_multipart_without_a_boundary_is_a_415_for_who_may_write(tenant: Tenant, method: str, path: str, param):
    # Given a manager and a route that takes JSON (was: 500, "Missing boundary in multipart/form-data")
    params = {param: "01JABCDEFGHJKMNPQRSTVWXYZ0"} if param else None

    # When the body is sent as multipart/form-data without a boundary
    reply = call(tenant.manager, method, path, params, body='{"subject": "x"}', headers=MULTIPART)

    # Then it is refused as a media type DeskOS does not read
    assert reply.problem(415)["detail"] == "Send the body as application/json."


@pytest.mark.parametrize(("method", "path", "param"), WRITES[1:], ids=lambda v: v if isinstance(v, str) else "")
def test_a_portal_user_is_refused_before_the_body_is_read(tenant: Tenant, method: str, path: str, param):
    # Given a portal user on a staff-only write (was: the multipart parser's 500 before the role guard)
    portal = tenant.portal_user(tenant.client()["id"])
    params = {param: "01JABCDEFGHJKMNPQRSTVWXYZ0"} if param else None

    # When it sends an unreadable body / Then the role guard answers first
    for headers in (MULTIPART, {"Content-Type": "text/plain"}):
        assert call(portal, method, path, params, body="x", headers=headers).problem(403)


def test_the_document_is_a_valid_openapi_3_1_document():
    # The validator: 12 201 answers without a description, a $ref to a schema the document dropped
    validate(catalog.openapi())


TINY = 6.655117390619086e-250  # a float, and within the bounds of a latitude; DynamoDB refuses it


def test_a_location_too_precise_for_the_table_is_stored_rounded(tenant: Tenant):
    # When a client is created at a latitude no DynamoDB number can hold (was: 500)
    reply = call(tenant.agent, "POST", "/crm/clients", body={"name": "Tiny", "location": {"lat": TINY, "lng": -0.0922}})

    # Then it is stored, rounded to what the table holds
    assert reply.status == 201, reply.text
    assert reply.json["location"] == {"lat": 0.0, "lng": -0.0922}


def test_replacing_a_technician_with_such_a_location_is_stored_rounded(tenant: Tenant):
    user = technician(tenant, "Tina")
    path, params = "/field-service/technicians/{technician_id}", {"technician_id": user.user_id}
    current = call(tenant.manager, "GET", path, params).json
    body = {
        "name": "Tina",
        "email": user.email,
        "working_hours": current["working_hours"],
        "home": {"lat": -TINY, "lng": 1e-131},
        "service_radius_km": 12.3456789012345,
        "version": current["version"],
    }

    reply = call(tenant.manager, "PUT", path, params, body=body)

    assert reply.status == 200, reply.text
    assert reply.json["home"] == {"lat": 0.0, "lng": 0.0}
    assert reply.json["service_radius_km"] == 12.345678901


@pytest.mark.parametrize("kind", ["nps", "csat", "ces"])
@pytest.mark.parametrize("value", ["0", "1700000000"])
def test_a_summary_bound_must_be_a_date(tenant: Tenant, kind: str, value: str):
    # ?date_to=0 was read as Unix time: 1970-01-01
    reply = call(tenant.manager, "GET", f"/support/survey-responses/{kind}-summary", query={"date_to": value})

    assert "query.date_to" in reply.field_errors()


def test_a_path_parameter_is_measured_in_characters_not_in_its_encoding(tenant: Tenant):
    # "é" * 20 is 120 characters percent-encoded: refused as longer than 64 (was: 422)
    reply = call(tenant.manager, "GET", "/support/tickets/by-number/{number}", {"number": "é" * 20})

    assert reply.problem(404)


def test_version_is_documented_as_required_exactly_where_leaving_it_out_is_refused(tenant: Tenant):
    # Given a ticket / When it is patched without a version (nor If-Match) / Then 422, as documented
    ticket = tenant.ticket()
    path, params = "/support/tickets/{ticket_id}", {"ticket_id": ticket["id"]}
    assert "version" in call(tenant.agent, "PATCH", path, params, body={"subject": "New"}).field_errors()
    patch = operation("PATCH", path)["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert "version" in catalog.openapi()["components"]["schemas"][patch.rsplit("/", 1)[1]]["required"]
    # ... and If-Match still carries it instead
    reply = call(tenant.agent, "PATCH", path, params, body={"subject": "New"}, headers={"If-Match": '"1"'})
    assert reply.status == 200, reply.text
