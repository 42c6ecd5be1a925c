"""Contract fuzzing: schemathesis drives every operation of the live ``/openapi.json`` over real HTTP,
as each role (manager, staff agent, technician, portal user) with a real Cognito token, and with none.

Every answer must keep the contract: no 5xx, only documented status codes and content types, bodies
that match their documented schemas, and data the schema forbids refused with a 4xx. Path parameters
are either generated or the ids of real objects, so the fuzzer reaches past the 404s.

The fuzzer writes whatever the schema allows (rules, SLA policies, the ticket number format…), so it
works in a tenant of its own, with the demo tenant's four kinds of user: the session's other tests keep
the demo tenant as the seed made it. Generation is bounded (a fixed number of examples per operation
and caller) and derandomized, and no Hypothesis database is written: every run is the same run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from functions.api import catalog
from infra.local.seed import DEMO_TECHNICIAN_HOURS
from tests.e2e.conftest import Api, LocalCloud

TENANT = "fuzz"
PASSWORD = "Fuzz-pass-3!"
EXAMPLES = 3  # per operation and caller who may call it: generated, negative and real-id cases mixed
REFUSED_EXAMPLES = 1  # per operation and caller who may not: the gateway or the role guard answers first
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
CALLERS = ("manager", "agent", "technician", "portal", "anonymous")
CALLER_ROLES = {"manager": {"managers", "staff"}, "agent": {"staff"}, "technician": {"staff"}, "portal": {"portal"}}
DOCUMENT = "/openapi.json"  # schemathesis leaves out the document it was loaded from: it has fetched it already
ROUTES = tuple(route for route in catalog.routes() if route.path != DOCUMENT)


@dataclass(frozen=True)
class FuzzTenant:
    tokens: dict[str, str]  # caller -> id token
    ids: dict[str, str]  # path parameter name -> the id of a real object of the tenant


def _user(deskos: Callable[..., str], role: str, email: str, *extra: str) -> str:
    made = deskos("user", "create", "--tenant", TENANT, "--role", role, "--email", email, "--password", PASSWORD,
                  *extra)  # fmt: skip
    return json.loads(made)["user_id"]


def _created(response: requests.Response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def fuzz_tenant(deskos: Callable[..., str], token: Callable[..., str], api: Api) -> FuzzTenant:
    """A tenant with a manager, an agent, a technician (with a profile), a portal user of a client, and one
    real object of each kind a path can name."""
    email = {caller: f"{caller}@fuzz.example" for caller in CALLERS[:-1]}
    deskos("tenant", "create", TENANT, "--name", "Fuzz Ltd", "--manager-email", email["manager"],
           "--manager-password", PASSWORD)  # fmt: skip
    manager = token(email["manager"], PASSWORD)
    client = _created(api.post("/crm/clients", as_=manager, json={"name": "Fuzz Client"}))
    _user(deskos, "staff", email["agent"])
    _user(deskos, "staff", email["technician"])
    _user(deskos, "portal", email["portal"], "--client-id", client["id"])
    spare = _user(deskos, "staff", "spare@fuzz.example")  # for /admin/users/{user_id}: no caller's own account
    tokens = {caller: token(address, PASSWORD) for caller, address in email.items()}
    technician_id = api.user_id(tokens["technician"])
    profile = {"user_id": technician_id, "name": "Tess Tech", "email": email["technician"],
               "working_hours": DEMO_TECHNICIAN_HOURS}  # fmt: skip
    _created(api.post("/field-service/technicians", as_=manager, json=profile))
    contact = _created(api.post("/crm/contacts", as_=manager, json={"client_id": client["id"], "name": "Cy Contact"}))
    ticket = api.create_ticket(tokens["portal"])
    order = _created(
        api.post("/field-service/work-orders", as_=tokens["agent"], json={"source_ticket_id": ticket["id"]})
    )
    upload = {"original_filename": "a.txt", "content_type": "text/plain", "size": 3}
    attachment = _created(api.post(f"/support/tickets/{ticket['id']}/attachments", as_=tokens["portal"], json=upload))
    faq = {"title": "Fuzz FAQ", "kind": "faq", "visibility": "public", "body": "Answers."}
    item = _created(api.post("/knowledge/items", as_=manager, json=faq))
    assert api.post(f"/knowledge/items/{item['id']}/publish", as_=manager).status_code == 200
    ids = {
        **_calendar(api, manager, tokens["agent"], client["id"]),
        **_onboarding(api, manager, tokens["agent"], client["id"], technician_id),
        "client_id": client["id"],
        "contact_id": contact["id"],
        "ticket_id": ticket["id"],
        "number": ticket["number"],
        "work_order_id": order["id"],
        "technician_id": technician_id,
        "attachment_id": attachment["attachment"]["id"],
        "user_id": spare,
        "item_id": item["id"],
        "version_number": "1",
        "name": "swagger-ui.css",
    }
    return FuzzTenant(tokens, ids)


def _calendar(api: Api, manager: str, agent: str, client_id: str) -> dict[str, str]:
    """A meeting workflow, then an appointment (whose execution of it the event pump plans) and a poll."""
    people = [{"email": "cy@fuzz.example", "name": "Cy"}, {"user_id": api.user_id(agent)}]
    agenda = {"kind": "email", "subject": "{{ appointment.title }}", "text": "{{ appointment.when }}"}
    flow = {"name": "Fuzz agenda", "trigger": {"kind": "before_start", "minutes": 60}, "actions": [agenda]}
    workflow = _created(api.post("/calendar/meeting-workflows", as_=manager, json=flow))
    meeting = {"title": "Fuzz meeting", "start": "2030-04-02T10:00", "end": "2030-04-02T11:00"}
    appointment = _created(
        api.post(
            "/calendar/appointments",
            as_=agent,
            json={**meeting, "time_zone": "Europe/Berlin", "client_id": client_id, "attendees": people},
        )
    )
    poll = _created(api.post("/calendar/meeting-polls", as_=agent, json={
        "title": "Fuzz poll", "time_zone": "Europe/Berlin", "slots": [{"start": "2030-04-02T10:00"}],
        "invitees": people, "deadline": "2030-03-30T12:00", "client_id": client_id}))  # fmt: skip
    return {
        "appointment_id": appointment["id"],
        "poll_id": poll["id"],
        "workflow_id": workflow["id"],
        "execution_id": appointment["id"] + workflow["id"],
    }


def _onboarding(api: Api, manager: str, agent: str, client_id: str, owner_id: str) -> dict[str, str]:
    """A started onboarding process of the client: its template, a client task and a document."""
    body = {"name": "Fuzz onboarding", "tasks": [{"title": "Sign", "assignee_kind": "client"}],
            "documents": [{"name": "Passport"}]}  # fmt: skip
    template = _created(api.post("/onboarding/templates", as_=manager, json=body))
    made = {"client_id": client_id, "owner_id": owner_id, "start_date": "2030-01-07"}
    process = _created(api.post(f"/onboarding/templates/{template['id']}/create-process", as_=agent, json=made))
    assert api.post(f"/onboarding/processes/{process['id']}/start", as_=agent).status_code == 200
    of = {"process_id": process["id"], "limit": 1}
    task = api.get("/onboarding/tasks", as_=agent, params=of).json()["items"][0]
    document = api.get("/onboarding/documents", as_=agent, params=of).json()["items"][0]
    ids = {"template_id": template["id"], "process_id": process["id"], "task_id": task["id"]}
    return {**ids, "document_id": document["id"]}


@pytest.fixture(scope="module")
def contract(cloud: LocalCloud) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{cloud.api_url}{DOCUMENT}", config=schemathesis.Config())


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as opened:
        yield opened


def test_the_live_contract_has_every_route_of_the_catalog(contract: schemathesis.BaseSchema) -> None:
    # Given the live document / When its operations are listed / Then they are the route table's
    live = {(op.ok().method.upper(), op.ok().path) for op in contract.get_all_operations()}
    assert live == {(route.method, route.path) for route in ROUTES}


def test_the_live_document_is_valid_openapi(cloud: LocalCloud, session: requests.Session) -> None:
    # The validator found 201 answers without a description and a $ref to a schema the document dropped
    validate(session.get(f"{cloud.api_url}{DOCUMENT}", timeout=15).json())


def _may_call(route: catalog.Route, caller: str) -> bool:
    return route.roles is None or bool(CALLER_ROLES.get(caller, set()) & set(route.roles))


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_answer_keeps_the_contract(
    route: catalog.Route,
    caller: str,
    contract: schemathesis.BaseSchema,
    cloud: LocalCloud,
    fuzz_tenant: FuzzTenant,
    session: requests.Session,
) -> None:
    # Given one operation of the live contract and a caller (a role's real token, or none)
    operation = contract[route.path][route.method]
    headers = {"Authorization": f"Bearer {fuzz_tenant.tokens[caller]}"} if caller in fuzz_tenant.tokens else {}
    real = {p.name: fuzz_tenant.ids[p.name] for p in operation.path_parameters if p.name in fuzz_tenant.ids}
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real),
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    examples = EXAMPLES if _may_call(route, caller) else REFUSED_EXAMPLES

    @hypothesis.settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),  # a failure is reported as found: shrinking costs minutes
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def fuzz(case: schemathesis.Case) -> None:
        # When the generated request is sent / Then the answer is one the contract documents
        case.call_and_validate(base_url=cloud.api_url, session=session, headers=headers, checks=CHECKS, timeout=15)

    fuzz()


# ---- what a schema-driven fuzzer does not send: other methods, other media types ----------------------

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
PATHS = sorted({route.path for route in ROUTES})
MEDIA_TYPES = {  # a body DeskOS does not read, as each media type would carry it
    "multipart-without-boundary": ("multipart/form-data", b'{"name": "x"}'),
    "form": ("application/x-www-form-urlencoded", b"name=x"),
    "text": ("text/plain", b"name"),
    "multipart": (
        "multipart/form-data; boundary=b",
        b'--b\r\nContent-Disposition: form-data; name="n"\r\n\r\nx\r\n--b--',
    ),
}


def _url(cloud: LocalCloud, path: str, fuzz_tenant: FuzzTenant) -> str:
    """The path with the tenant's real ids, and an id of nothing where it has none of that kind: what is
    tested here is refused before any lookup."""
    return cloud.api_url + re.sub(r"\{(\w+)\}", lambda m: fuzz_tenant.ids.get(m[1], "01JNOTHINGNOTHINGNOTHING00"), path)


@pytest.mark.parametrize("path", PATHS)
def test_every_method_a_path_does_not_take_is_a_405_naming_those_it_does(
    path: str, cloud: LocalCloud, fuzz_tenant: FuzzTenant, session: requests.Session
) -> None:
    # Given a path of the contract and the methods it routes (those the contract fuzz drives)
    routed = {route.method for route in ROUTES if route.path == path}
    headers = {"Authorization": f"Bearer {fuzz_tenant.tokens['manager']}"}
    for method in sorted(set(METHODS) - routed - {"OPTIONS"}):
        # When another method is sent (TRACE was answered with http.server's 501 HTML page)
        response = session.request(method, _url(cloud, path, fuzz_tenant), headers=headers, data=b"{}", timeout=15)

        # Then it is refused as a method of a path that exists
        assert response.status_code == 405, (method, response.status_code, response.text)
        assert response.headers["Allow"] == ", ".join(sorted(routed))
    # ... and a CORS preflight is answered, whatever the path
    assert session.options(_url(cloud, path, fuzz_tenant), headers=headers, timeout=15).status_code < 500


OPERATIONS = catalog.openapi()["paths"]
BODY_ROUTES = tuple(route for route in ROUTES if "requestBody" in OPERATIONS[route.path][route.method.lower()])


@pytest.mark.parametrize("caller", ["manager", "portal", "anonymous"])
@pytest.mark.parametrize("media", MEDIA_TYPES)
@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_a_body_that_is_not_json_is_refused_after_the_role_check(
    route: catalog.Route, media: str, caller: str, cloud: LocalCloud, fuzz_tenant: FuzzTenant, session: requests.Session
) -> None:
    # Given an operation that takes a JSON body, and a caller
    content_type, body = MEDIA_TYPES[media]
    headers = {"Content-Type": content_type}
    if caller in fuzz_tenant.tokens:
        headers["Authorization"] = f"Bearer {fuzz_tenant.tokens[caller]}"

    # When the body comes as another media type (multipart without a boundary was a 500)
    url = _url(cloud, route.path, fuzz_tenant)
    response = session.request(route.method, url, headers=headers, data=body, timeout=15)

    # Then who may not call the operation learns only that; who may, that the body must be JSON
    expected = 415 if _may_call(route, caller) else 401 if caller == "anonymous" else 403
    assert response.status_code == expected, response.text
    assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("route", BODY_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_a_body_without_a_media_type_is_read_as_json(
    route: catalog.Route, cloud: LocalCloud, fuzz_tenant: FuzzTenant, session: requests.Session
) -> None:
    # Given a body no operation accepts (an unknown field), sent without Content-Type
    headers = {"Authorization": f"Bearer {fuzz_tenant.tokens['manager']}"}
    url = _url(cloud, route.path, fuzz_tenant)

    # When it is sent / Then it is judged as JSON: a 4xx about what it says, never a 5xx
    response = session.request(route.method, url, headers=headers, data=b'{"\\u00e9": 1}', timeout=15)
    assert 400 <= response.status_code < 500, response.text
    assert response.status_code != 415
