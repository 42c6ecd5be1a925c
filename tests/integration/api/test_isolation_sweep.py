"""Every route in the catalog, swept for tenant isolation and role checks.

Generated from ``catalog.routes()``, so a new endpoint is covered the day it is added. What a sweep
needs to know about a route that the catalog does not say is kept in two tables below:
``FACTORIES`` (how to make, as one tenant, an object for a path parameter) and ``BODIES`` (a valid
request body per operation). A route whose path parameter or body has no entry fails loudly.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from functions.api import catalog
from shared.attachments import pipeline, storage
from shared.caller import Role
from shared.settings import settings
from shared.support.surveys import invitations, links, responses
from shared.support.tickets import Ticket
from tests.integration.api import (
    calendar_helpers,
    field_service_helpers,
    knowledge_helpers,
    marketing_helpers,
    onboarding_helpers,
)
from tests.integration.api.conftest import AuditTap
from tests.integration.api.harness import Reply, Tenant, User, call

# ---- what the catalog does not say -------------------------------------------------------------


@dataclass(frozen=True)
class Made:
    value: str  # the path parameter's value
    secrets: tuple[str, ...]  # what no other tenant, and no caller without the role, may read
    client_id: str | None = None  # the client account it belongs to: the portal user who may see it
    portal: User | None = None  # the one portal user who may see it, where not every one of its client may


def secret(label: str) -> str:
    return f"{label} {uuid.uuid4().hex}"


def make_client(tenant: Tenant, made: dict[str, Made]) -> Made:
    client = tenant.client(secret("Client"), address=secret("Address"))
    return Made(client["id"], (client["id"], client["name"], client["address"]), client["id"])


def make_contact(tenant: Tenant, made: dict[str, Made]) -> Made:
    client = made.get("client_id") or make_client(tenant, made)
    contact = tenant.contact(client.value, secret("Contact"), email=f"{uuid.uuid4().hex}@example.test")
    return Made(contact["id"], (contact["id"], contact["name"], contact["email"], *client.secrets), client.value)


def _ticket(tenant: Tenant, made: dict[str, Made], param: str) -> Made:
    client = made.get("client_id") or make_client(tenant, made)
    ticket = tenant.ticket(subject=secret("Subject"), description=secret("Description"), client_id=client.value)
    secrets = (ticket["id"], ticket["number"], ticket["subject"], ticket["description"], *client.secrets)
    return Made(ticket["id" if param == "ticket_id" else param], secrets, client.value)


def make_survey(tenant: Tenant, made: dict[str, Made]) -> Made:
    body = {"name": secret("Survey"), "kind": "nps", "question": secret("Question"), "cooldown_days": 0}
    survey = call(tenant.manager, "POST", "/support/surveys", body=body)
    assert survey.status == 201, survey.text
    # and one answer to it, so that the response list and summaries have something to hide
    client = make_client(tenant, made)
    contact = tenant.contact(client.value, secret("Respondent"), email=f"{uuid.uuid4().hex}@example.test")
    ticket = tenant.ticket(client_id=client.value, requester_contact_id=contact["id"])
    resolved = call(tenant.agent, "POST", "/support/tickets/{ticket_id}/resolve", {"ticket_id": ticket["id"]})
    assert resolved.status == 200, resolved.text
    invitation = invitations.invite(Ticket.get(*Ticket.key(tenant.id, ticket["id"])))
    token = links.issue_token(tenant.id, invitation.id, invitation.expires_at)
    comment = secret("Comment")
    responses.respond_with_token(token, responses.Answer(score=9, comment=comment))
    made_survey = survey.json
    return Made(made_survey["id"], (made_survey["id"], made_survey["name"], made_survey["question"], comment))


def make_attachment(tenant: Tenant, made: dict[str, Made]) -> Made:
    """A clean PNG with its thumbnail, so that its owner reaches every attachment route."""
    ticket = made.get("ticket_id") or _ticket(tenant, made, "ticket_id")
    name, content = f"{uuid.uuid4().hex}.png", png()
    body = {"original_filename": name, "content_type": "image/png", "size": len(content), "is_public": True}
    reply = call(
        tenant.agent, "POST", "/support/tickets/{ticket_id}/attachments", {"ticket_id": ticket.value}, body=body
    )
    assert reply.status == 201, reply.text
    attachment, upload = reply.json["attachment"], reply.json["upload"]
    sent = requests.post(upload["url"], data=upload["fields"], files={"file": (name, content)}, timeout=10)
    assert sent.status_code == 204, sent.text
    key = upload["fields"]["key"]
    etag = storage.s3().head_object(Bucket=settings().bucket_name, Key=key)["ETag"].strip('"')
    assert pipeline.process(key, etag)
    return Made(attachment["id"], (attachment["id"], name, *ticket.secrets), ticket.client_id)


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (32, 16), "teal").save(out, format="PNG")
    return out.getvalue()


def make_policy(tenant: Tenant, made: dict[str, Made]) -> Made:
    body = {
        "name": secret("Policy"),
        "targets": {"normal": {"first_response": 30, "resolution": 480}},
        "calendar": {"time_zone": "Europe/Berlin", "windows": [{"day": "mon", "start": "09:00", "end": "17:00"}]},
    }
    reply = call(tenant.manager, "POST", "/support/sla-policies", body=body)
    assert reply.status == 201, reply.text
    return Made(reply.json["id"], (reply.json["id"], reply.json["name"]))


def make_technician(tenant: Tenant, made: dict[str, Made]) -> Made:
    user_id, name = technician_of(tenant)
    return Made(user_id, (user_id, name))


def technician_of(tenant: Tenant) -> tuple[str, str]:
    """A staff user of the tenant (with its directory profile) given a technician profile."""
    user = tenant.user(f"technician{uuid.uuid4().hex}", Role.STAFF, profile=True)
    body = {"user_id": user.user_id, "name": user.username, "email": user.email, **INTRUDER_TECHNICIAN}
    reply = call(tenant.manager, "POST", "/field-service/technicians", body={**body, "skills": ["networking"]})
    assert reply.status == 201, reply.text
    return user.user_id, user.username


def make_work_order(tenant: Tenant, made: dict[str, Made]) -> Made:
    order = field_service_helpers.work_order(tenant, notes=secret("Notes"))
    return Made(order["id"], (order["id"], order["number"], order["notes"]))


def make_rule(tenant: Tenant, made: dict[str, Made]) -> Made:
    rule = field_service_helpers.rule(tenant, name=secret("Rule"))
    return Made(rule["id"], (rule["id"], rule["name"]))


def make_appointment(tenant: Tenant, made: dict[str, Made]) -> Made:
    client = made.get("client_id") or make_client(tenant, made)
    return Made(*calendar_helpers.made_appointment(tenant, client.value))


def make_poll(tenant: Tenant, made: dict[str, Made]) -> Made:
    client = made.get("client_id") or make_client(tenant, made)
    return Made(*calendar_helpers.made_poll(tenant, client.value))


def make_meeting_workflow(tenant: Tenant, made: dict[str, Made]) -> Made:
    return Made(*calendar_helpers.made_workflow(tenant))


def make_execution(tenant: Tenant, made: dict[str, Made]) -> Made:
    appointment = made.get("appointment_id") or make_appointment(tenant, made)
    flow = made.get("workflow_id") or make_meeting_workflow(tenant, made)
    as_tuple = lambda m: (m.value, m.secrets, m.client_id)  # noqa: E731
    return Made(*calendar_helpers.made_execution(tenant, as_tuple(appointment), as_tuple(flow)))


# path parameter -> a factory of an object of that kind, given what the route's earlier parameters made
FACTORIES: dict[str, Callable[[Tenant, dict[str, Made]], Made]] = {
    "client_id": make_client,
    "contact_id": make_contact,
    "ticket_id": lambda tenant, made: _ticket(tenant, made, "ticket_id"),
    "number": lambda tenant, made: _ticket(tenant, made, "number"),
    "survey_id": make_survey,
    "attachment_id": make_attachment,
    "policy_id": make_policy,
    "technician_id": make_technician,
    "work_order_id": make_work_order,
    "rule_id": make_rule,
    "user_id": lambda tenant, made: make_staff_user(tenant, made),
    "appointment_id": make_appointment,
    "poll_id": make_poll,
    "workflow_id": make_meeting_workflow,
    "execution_id": make_execution,
    "item_id": knowledge_helpers.make_knowledge_item,
    "version_number": knowledge_helpers.make_knowledge_version,
    **onboarding_helpers.FACTORIES,
}
MARKETING_FACTORIES, MARKETING_REFERENCES = marketing_helpers.sweep_factories(Made, secret, make_contact)
FACTORIES.update(MARKETING_FACTORIES)

# path parameters of objects every portal user of their tenant may see, whatever the client (published public
# knowledge): the sweep's "another client" checks do not apply to them (tests/integration/api/test_knowledge_api.py
# proves what portal users must never see of the knowledge base)
SHARED_WITH_EVERY_CLIENT = {"item_id", "version_number"}


def make_staff_user(tenant: Tenant, made: dict[str, Made]) -> Made:
    user = tenant.user(f"staff{uuid.uuid4().hex}", Role.STAFF, profile=True)
    return Made(user.user_id, (user.user_id, user.username))


def make_portal_user(tenant: Tenant, made: dict[str, Made]) -> Made:
    client = make_client(tenant, made)
    user = tenant.user(f"portal{uuid.uuid4().hex}", Role.PORTAL, client_id=client.value, profile=True)
    return Made(user.user_id, (user.user_id, user.username, *client.secrets), client.value)


# a body field or query parameter naming an object -> a factory of such an object
REFERENCES: dict[str, Callable[[Tenant, dict[str, Made]], Made]] = {
    "client_id": make_client,
    "requester_contact_id": make_contact,
    "source_ticket_id": FACTORIES["ticket_id"],
    "technician_id": make_technician,
    "assignee_id": make_staff_user,
    "user_id": make_staff_user,
    "portal_user_id": make_portal_user,
    "survey_id": make_survey,
    "organizer_id": make_staff_user,
    "appointment_id": make_appointment,
    "workflow_id": make_meeting_workflow,
    "owner_id": make_staff_user,
    "process_id": onboarding_helpers.make_process,
    **MARKETING_REFERENCES,
}

INTRUDER_POLICY = {"name": "Intruder", "targets": {"normal": {"first_response": 5}}, "calendar": {"always_open": True}}

INTRUDER_TECHNICIAN = {"working_hours": {"always_open": True}}

INTRUDER_APPOINTMENT = {
    "title": "Intruder",
    "start": "2030-04-02T10:00",
    "end": "2030-04-02T11:00",
    "time_zone": "Europe/Berlin",
}
INTRUDER_POLL = {
    "title": "Intruder",
    "time_zone": "Europe/Berlin",
    "slots": [{"start": "2030-04-02T10:00"}],
    "invitees": [{"email": "intruder@example.test"}],
    "deadline": "2030-03-30T12:00",
}
INTRUDER_WORKFLOW = {
    "name": "Intruder",
    "trigger": {"kind": "booked"},
    "actions": [{"kind": "email", "subject": "Intruder", "text": "was here"}],
}

# operationId -> a valid body, built in the caller's tenant: what is refused must be the caller, not the body
BODIES: dict[str, Callable[[Tenant, dict[str, Made]], dict[str, Any]]] = {
    "CreateClient": lambda tenant, made: {"name": "Intruder Ltd"},
    "CreateContact": lambda tenant, made: {"client_id": make_client(tenant, made).value, "name": "Intruder"},
    "CreateTicket": lambda tenant, made: {"subject": "Intruder"},
    "UpdateTicket": lambda tenant, made: {"version": 1, "subject": "Intruder", "priority": "urgent"},
    "AssignTicket": lambda tenant, made: {"assignee_id": tenant.agent.user_id},
    "PutSequence": lambda tenant, made: {"prefix": "INTRUDER", "padding": 2},
    "CreateSurvey": lambda tenant, made: {"name": "Intruder", "kind": "nps", "question": "?"},
    "UpdateSurvey": lambda tenant, made: {"version": 1, "active": False},
    "AnswerTicketSurvey": lambda tenant, made: {"score": 5},
    "CreateSlaPolicy": lambda tenant, made: INTRUDER_POLICY,
    "ReplaceSlaPolicy": lambda tenant, made: {"version": 1, **INTRUDER_POLICY},
    "AddComment": lambda tenant, made: {"body": "Intruder was here", "public": True},
    "CreateTechnician": lambda tenant, made: {
        "user_id": tenant.user("t", Role.STAFF, profile=True).user_id,
        "name": "Intruder",
        "email": "intruder@example.test",
        **INTRUDER_TECHNICIAN,
    },
    "ReplaceTechnician": lambda tenant, made: {
        "version": 1,
        "name": "Intruder",
        "email": "intruder@example.test",
        **INTRUDER_TECHNICIAN,
    },
    "CreateWorkOrder": lambda tenant, made: {"type": "repair"},
    "UpdateWorkOrder": lambda tenant, made: {"notes": "Intruder", "version": 1},
    "AssignWorkOrder": lambda tenant, made: {"technician_id": technician_of(tenant)[0]},
    "ScheduleWorkOrder": lambda tenant, made: {"scheduled_start": "2030-01-07T09:00:00Z"},
    "CreateWorkOrderRule": lambda tenant, made: {"name": "Intruder"},
    "ReplaceWorkOrderRule": lambda tenant, made: {"name": "Intruder", "version": 1},
    "InviteUser": lambda tenant, made: {
        "email": f"intruder-{uuid.uuid4().hex}@example.test",
        "name": "Intruder",
        "role": "portal",
        "client_id": make_client(tenant, made).value,
    },
    "ChangeUserRole": lambda tenant, made: {"role": "managers", "version": 1},
    "ReplaceSettings": lambda tenant, made: {"name": "Intruder", "time_zone": "Europe/Paris", "version": 1},
    "ReplaceNotificationTemplate": lambda tenant, made: {"kind": "ticket_created", "subject": "x", "text": "Intruder"},
    "PreviewNotificationTemplate": lambda tenant, made: {"kind": "ticket_created", "text": "Intruder"},
    "ReplaceMailbox": lambda tenant, made: {"unknown_senders": "refuse"},
    "CreateAppointment": lambda tenant, made: INTRUDER_APPOINTMENT,
    "UpdateAppointment": lambda tenant, made: {"version": 1, "title": "Intruder"},
    "CreateMeetingPoll": lambda tenant, made: INTRUDER_POLL,
    "UpdateMeetingPoll": lambda tenant, made: {"version": 1, "title": "Intruder"},
    "VoteSignedIn": lambda tenant, made: {"choices": {"S1": "yes"}},
    "BookMeetingPoll": lambda tenant, made: {"slot": "S1"},
    "CreateMeetingWorkflow": lambda tenant, made: INTRUDER_WORKFLOW,
    "ReplaceMeetingWorkflow": lambda tenant, made: {"version": 1, **INTRUDER_WORKFLOW},
    "CreateTicketAttachment": lambda tenant, made: {
        "original_filename": "intruder.txt",
        "content_type": "text/plain",
        "size": 10,
    },
    "CreateKnowledgeItem": lambda tenant, made: {"title": "Intruder", "kind": "faq", "body": "Intruder"},
    "UpdateKnowledgeItem": lambda tenant, made: {"version": 2, "title": "Intruder"},  # made, then published
    "RestoreKnowledgeVersion": lambda tenant, made: {},
    "SubmitKnowledgeItem": lambda tenant, made: {"reviewer_ids": [make_staff_user(tenant, made).value]},
    "ApproveKnowledgeItem": lambda tenant, made: {},
    "RequestKnowledgeChanges": lambda tenant, made: {"comment": "Intruder"},
    "CreateKnowledgeAttachment": lambda tenant, made: {
        "original_filename": "intruder.txt",
        "content_type": "text/plain",
        "size": 10,
    },
    **onboarding_helpers.BODIES,
    **marketing_helpers.sweep_bodies(make_contact),
}

# operationId -> the query a read needs (a search's words: the object's secrets, which another tenant never finds)
QUERIES: dict[str, Callable[[dict[str, Made]], dict[str, str]]] = {
    "SearchKnowledge": lambda made: {"q": " ".join(made["item_id"].secrets[1:]) if "item_id" in made else "knowledge"},
    "SuggestKnowledge": lambda made: {"q": " ".join(made["item_id"].secrets[1:]) if "item_id" in made else "knowledge"},
}

# managers ⊃ staff (docs/architecture.md, "Roles"): the groups a token may carry and the roles each grants
GRANTS = {"managers": {"managers", "staff"}, "staff": {"staff"}, "portal": {"portal"}}


# ---- reading the catalog -----------------------------------------------------------------------

ROUTES = catalog.routes()
AUTHENTICATED = [r for r in ROUTES if r.roles is not None]


def params_of(route: catalog.Route) -> list[str]:
    return re.findall(r"{(\w+)}", route.path)


def operation(route: catalog.Route) -> dict[str, Any]:
    return catalog.openapi()["paths"][route.path][route.method.lower()]


def is_list(route: catalog.Route) -> bool:
    schema = operation(route).get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
    return schema.get("schema", {}).get("$ref", "").startswith("#/components/schemas/PageOut")


def named_groups(route: catalog.Route) -> list[str]:
    """The roles the route names (a manager, also staff, is tried where managers are named)."""
    return [g for g in GRANTS if g in (route.roles or ())]


def denied_groups(route: catalog.Route) -> list[str]:
    return [g for g in GRANTS if not GRANTS[g] & set(route.roles or ())]


def rid(route: catalog.Route) -> str:
    return f"{route.method} {route.path}"


def is_reference(name: str) -> bool:
    return name.endswith("_id")


def body_references(route: catalog.Route) -> list[str]:
    """The body's fields that name an object (``…_id``)."""
    schema = operation(route).get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" not in schema:
        return []
    model = catalog.openapi()["components"]["schemas"][schema["$ref"].rpartition("/")[2]]
    return [name for name in model.get("properties", {}) if is_reference(name)]


def query_references(route: catalog.Route) -> list[str]:
    return [p["name"] for p in operation(route).get("parameters", []) if p["in"] == "query" and is_reference(p["name"])]


WITH_IDS = [r for r in AUTHENTICATED if params_of(r)]
READS_WITHOUT_IDS = [r for r in AUTHENTICATED if r.method == "GET" and not params_of(r)]
BODY_REFERENCES = [(r, f) for r in AUTHENTICATED for f in body_references(r)]
QUERY_REFERENCES = [(r, f) for r in READS_WITHOUT_IDS for f in query_references(r)]


# ---- the scene ---------------------------------------------------------------------------------


def secretive_tenant() -> Tenant:
    """A tenant whose ticket numbers no other tenant could share by chance."""
    tenant = Tenant(profiles=False)
    prefix = "S" + uuid.uuid4().hex[:9].upper()
    reply = call(tenant.manager, "PUT", "/support/ticket-number-sequence", body={"prefix": prefix})
    assert reply.status == 200, reply.text
    return tenant


def make_for(route: catalog.Route, tenant: Tenant) -> dict[str, Made]:
    made: dict[str, Made] = {}
    for param in params_of(route):
        made[param] = FACTORIES[param](tenant, made)
    return made


def caller(tenant: Tenant, group: str, made: dict[str, Made]) -> User:
    """A user of ``tenant`` in ``group``; a portal user belongs to the client account of the objects
    made (even when they were made in another tenant), or to a new one if they have none."""
    if group == "portal":
        invited = next((m.portal for m in made.values() if m.portal and m.portal.tenant_id == tenant.id), None)
        if invited is not None:
            return invited
        client_id = next((m.client_id for m in made.values() if m.client_id), None)
        return tenant.portal_user(client_id or make_client(tenant, {}).value)
    return {"managers": tenant.manager, "staff": tenant.agent}[group]


def body_for(route: catalog.Route, tenant: Tenant) -> dict[str, Any] | None:
    if "requestBody" not in operation(route):
        return None
    return BODIES[route.operation_id](tenant, {})


class Writes:
    """What the table's stream gets from now on: ``to(*tenants)``, the writes to those tenants' items, so
    that none after a request means it left nothing behind. (The stream has a record of every write; a Scan of
    the module's table before and after each request would cost in proportion to all the module wrote.)"""

    def __init__(self, cloud) -> None:
        self.streams = cloud.client("dynamodbstreams")
        arns = [s["StreamArn"] for s in self.streams.list_streams(TableName=cloud.resources.table_name)["Streams"]]
        self.iterators = [
            self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST")[
                "ShardIterator"
            ]
            for arn in arns
            for shard in self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        ]

    def to(self, *tenants: Tenant) -> list[tuple[str, dict[str, Any]]]:
        prefixes = tuple(f"T#{t.id}#" for t in tenants)
        written = []
        for start in self.iterators:
            iterator = start
            while iterator:
                page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                if not page["Records"]:
                    break
                written += [(r["eventName"], r["dynamodb"]["Keys"]) for r in page["Records"]]
                iterator = page.get("NextShardIterator")
        return [(event, keys) for event, keys in written if keys["PK"]["S"].startswith(prefixes)]


def secrets_of(made: dict[str, Made]) -> list[str]:
    return [s for m in made.values() for s in m.secrets]


def assert_leaks_nothing(reply: Reply, secrets: list[str]) -> None:
    leaked = [s for s in secrets if s in reply.text or s in str(reply.headers)]
    assert not leaked, f"{leaked} in {reply.status} {reply.headers} {reply.text}"


def query_for(route: catalog.Route, made: dict[str, Made]) -> dict[str, str] | None:
    make = QUERIES.get(route.operation_id)
    return None if make is None else make(made)


def case_id(value: Any) -> str:
    return rid(value) if isinstance(value, catalog.Route) else str(value)


def by_domain(cases: list) -> list:
    """Each case in the xdist group of its route's module, so that the sweep spreads over the workers (the
    cases a worker runs share its module cloud)."""
    return [
        pytest.param(*case, marks=pytest.mark.xdist_group(f"isolation-sweep-{case[0].module.rpartition('.')[2]}"))
        for case in (c if isinstance(c, tuple) else (c,) for c in cases)
    ]


READS = pytest.mark.xdist_group("isolation-sweep-reads")  # the reads share one scene (``two_tenants``)


# ---- the catalog is fully described ------------------------------------------------------------


def test_the_sweep_covers_routes_with_ids_lists_and_reads():
    assert WITH_IDS and READS_WITHOUT_IDS and any(is_list(r) for r in READS_WITHOUT_IDS)
    assert BODY_REFERENCES and QUERY_REFERENCES


@pytest.mark.parametrize("route", AUTHENTICATED, ids=rid)
def test_every_path_parameter_has_a_factory(route):
    missing = [p for p in params_of(route) if p not in FACTORIES]
    assert not missing, f"{rid(route)}: add a factory for {missing} to FACTORIES"


@pytest.mark.parametrize(("route", "name"), BODY_REFERENCES + QUERY_REFERENCES, ids=case_id)
def test_every_id_in_a_body_or_query_has_a_factory(route, name):
    assert name in REFERENCES, f"{rid(route)}: add a factory for {name} to REFERENCES"


@pytest.mark.parametrize("route", AUTHENTICATED, ids=rid)
def test_every_request_body_has_an_example(route):
    if "requestBody" in operation(route):
        assert route.operation_id in BODIES, f"{rid(route)}: add a valid body for {route.operation_id} to BODIES"


def test_the_write_check_sees_what_a_request_writes_and_whose_it_is(module_cloud):
    tenant, other = Tenant(profiles=False), Tenant(profiles=False)
    writes = Writes(module_cloud)
    make_client(tenant, {})
    assert writes.to(tenant) and not writes.to(other)


# ---- another tenant's id: not found, and nothing learnt ----------------------------------------


@pytest.mark.parametrize(
    ("route", "group"), by_domain([(r, g) for r in WITH_IDS for g in named_groups(r)]), ids=case_id
)
def test_another_tenants_object_is_not_found_and_stays_untouched(module_cloud, route, group):
    # Given an object of tenant A, and a user of tenant B in a role the route names
    # (B's portal user even carries the id of A's client account)
    owner, intruder = Tenant(profiles=False), Tenant(profiles=False)
    made = make_for(route, owner)
    user, body = caller(intruder, group, made), body_for(route, intruder)
    writes = Writes(module_cloud)

    # When B calls the route with A's id
    reply = call(user, route.method, route.path, {p: m.value for p, m in made.items()}, body=body)

    # Then it is not found, the answer names nothing of A's, and neither tenant changed
    reply.problem(404)
    assert_leaks_nothing(reply, secrets_of(made))
    assert writes.to(owner, intruder) == []
    if route.method == "GET":  # while A, in the same role, does reach it: the 404 is not vacuous
        path = {p: m.value for p, m in made.items()}
        assert call(caller(owner, group, made), "GET", route.path, path).status == 200


# ---- another tenant's id in a body: refused as a missing one is, and nothing reached -----------


def staff_group(route: catalog.Route) -> str:
    return "managers" if "managers" in (route.roles or ()) else "staff"


def missing_id(value: str) -> str:
    """An id of the same shape that names nothing."""
    return value[:-4] + ("1111" if value.endswith("0000") else "0000")


def referring_body(route: catalog.Route, tenant: Tenant, made: dict[str, Made], name: str, value: str, client_id):
    body = {**BODIES[route.operation_id](tenant, made), name: value}
    if name != "client_id" and client_id and "client_id" in body_references(route):
        body["client_id"] = client_id  # the named object's own client: the body is consistent
    return body


def assert_answers_alike(reply: Reply, value: str, missing: Reply, missing_value: str) -> None:
    """The same status and body, but for the id each names: one id of another tenant tells nothing
    that an id of nothing does not."""
    assert (reply.status, reply.text.replace(value, "<id>")) == (
        missing.status,
        missing.text.replace(missing_value, "<id>"),
    )


@pytest.mark.parametrize(("route", "name"), by_domain(BODY_REFERENCES), ids=case_id)
def test_another_tenants_id_in_a_body_is_refused_as_a_missing_one_and_reaches_nothing(module_cloud, route, name):
    # Given an object of tenant A, and a staff user of tenant B with what the route's path needs
    owner, intruder = Tenant(profiles=False), Tenant(profiles=False)
    named = REFERENCES[name](owner, {})
    made = make_for(route, intruder)
    user, path = caller(intruder, staff_group(route), made), {p: m.value for p, m in made.items()}
    body = referring_body(route, intruder, made, name, named.value, named.client_id)
    writes = Writes(module_cloud)

    # When B sends A's id in the body, and then an id of nothing
    reply = call(user, route.method, route.path, path, body=body)
    nothing = missing_id(named.value)
    missing = call(user, route.method, route.path, path, body={**body, name: nothing})

    # Then both are refused alike, the answer names nothing else of A's, and neither tenant changed
    assert 400 <= reply.status < 500, reply.text
    assert_answers_alike(reply, named.value, missing, nothing)
    assert_leaks_nothing(reply, [s for s in named.secrets if s != named.value])
    assert writes.to(owner, intruder) == []
    # while A, sending the same body, succeeds: the refusal is the other tenant's id, not the body
    own = make_for(route, owner)
    mine = referring_body(route, owner, own, name, named.value, named.client_id)
    accepted = call(
        caller(owner, staff_group(route), own),
        route.method,
        route.path,
        {p: m.value for p, m in own.items()},
        body=mine,
    )
    assert 200 <= accepted.status < 300, accepted.text


# ---- a portal user of another client of the same tenant: not found, and nothing learnt ---------


PORTAL_WITH_IDS = [
    r for r in WITH_IDS if "portal" in (r.roles or ()) and not SHARED_WITH_EVERY_CLIENT & set(params_of(r))
]


@pytest.mark.parametrize("route", by_domain(PORTAL_WITH_IDS), ids=rid)
def test_a_portal_user_of_another_client_does_not_reach_the_object(module_cloud, route):
    # Given an object of a client account, and a portal user of another client of the same tenant
    tenant = Tenant(profiles=False)
    made = make_for(route, tenant)
    stranger, path = tenant.portal_user(make_client(tenant, {}).value), {p: m.value for p, m in made.items()}
    body = body_for(route, tenant)
    writes = Writes(module_cloud)

    # When that portal user calls the route with the object's id
    reply = call(stranger, route.method, route.path, path, body=body)

    # Then it is not found, the answer names nothing of it, and nothing changed
    reply.problem(404)
    assert_leaks_nothing(reply, secrets_of(made))
    assert writes.to(tenant) == []
    if route.method == "GET":  # while the object's own client's portal user reaches it
        assert call(caller(tenant, "portal", made), "GET", route.path, path).status == 200


# ---- a role the route does not name, or no usable token: refused, and nothing learnt -----------


def _without(claim: str) -> Callable[[Tenant], dict[str, Any]]:
    return lambda tenant: {k: v for k, v in tenant.agent.claims().items() if k != claim}


# name -> (status, the claims API Gateway would pass; None: no token at all)
IDENTITIES: dict[str, tuple[int, Callable[[Tenant], dict[str, Any] | None]]] = {
    "no-token": (401, lambda tenant: None),
    "no-tenant": (403, _without("custom:tenant_id")),
    "no-group": (403, _without("cognito:groups")),
    "unknown-group": (403, lambda tenant: {**tenant.agent.claims(), "cognito:groups": "admins"}),
    "portal-without-client": (403, lambda tenant: User(tenant.id, "orphan", ("portal",)).claims()),
}

REFUSALS = [(r, g) for r in AUTHENTICATED for g in denied_groups(r)] + [
    (r, i) for r in AUTHENTICATED for i in IDENTITIES
]


@pytest.mark.parametrize(("route", "who"), by_domain(REFUSALS), ids=case_id)
def test_a_caller_the_route_does_not_admit_is_refused_and_learns_nothing(module_cloud, route, who):
    # Given objects of a tenant, and a caller of that tenant the route does not admit
    tenant = Tenant(profiles=False)
    made = make_for(route, tenant)
    if who in IDENTITIES:
        status, claims = IDENTITIES[who][0], IDENTITIES[who][1](tenant)
    else:
        status, claims = 403, caller(tenant, who, made).claims()
    body = body_for(route, tenant)
    writes = Writes(module_cloud)

    # When they call the route
    path = {p: m.value for p, m in made.items()}
    reply = call(claims, route.method, route.path, path, body=body, query=query_for(route, made))

    # Then they are refused, learn nothing of the objects, and nothing changed
    reply.problem(status)
    assert_leaks_nothing(reply, secrets_of(made))
    assert writes.to(tenant) == []


# ---- reads without an id: another tenant's data never shows ------------------------------------


@pytest.fixture(scope="module")
def two_tenants(module_cloud) -> tuple[Tenant, Tenant, dict[str, Made]]:
    """Tenant A with one object of every kind, all of one client (and their audit trail); tenant B
    with a little of its own."""
    audit_tap = AuditTap(module_cloud).from_now()  # (the stream holds the module's earlier tests' changes)
    owner, other = secretive_tenant(), Tenant(profiles=False)
    made: dict[str, Made] = {}
    for param, factory in FACTORIES.items():
        made[param] = factory(owner, made)
    other.ticket(client_id=other.client()["id"])
    # what the filters name: A's ticket assigned, and A's work order given, to A's technician
    made["assignee_id"] = made["owner_id"] = made["technician_id"]  # (the onboarding process's owner too)
    made["organizer_id"] = Made(owner.agent.user_id, (owner.agent.user_id,))  # who made A's appointments
    for path, params, body in (
        ("/support/tickets/{ticket_id}/assign", {"ticket_id": made["ticket_id"].value}, "assignee_id"),
        (
            "/field-service/work-orders/{work_order_id}/assign",
            {"work_order_id": made["work_order_id"].value},
            "technician_id",
        ),
    ):
        reply = call(owner.agent, "POST", path, params, body={body: made["technician_id"].value})
        assert reply.status == 200, reply.text
    audit_tap(owner, other)
    return owner, other, made


@READS
@pytest.mark.parametrize(("route", "group"), [(r, g) for r in READS_WITHOUT_IDS for g in named_groups(r)], ids=case_id)
def test_a_read_without_an_id_shows_nothing_of_another_tenant(two_tenants, route, group):
    # Given tenant A with one object of every kind, and tenant B with a little of its own
    owner, other, made = two_tenants
    secrets = [*secrets_of(made), owner.agent.user_id, owner.manager.user_id]

    # When B reads without an id
    reply = call(caller(other, group, {}), "GET", route.path, query=query_for(route, made))

    # Then nothing of A's shows
    assert reply.status == 200, reply.text
    assert_leaks_nothing(reply, secrets)
    if is_list(route):
        # (and the owner's own call does show them: the check above is not vacuous)
        own = call(caller(owner, group, made), "GET", route.path, query=query_for(route, made))
        assert any(s in own.text for s in secrets), own.text


@READS
@pytest.mark.parametrize(
    ("route", "name", "group"), [(r, f, g) for r, f in QUERY_REFERENCES for g in named_groups(r)], ids=case_id
)
def test_another_tenants_id_in_a_filter_shows_nothing_a_missing_one_does_not(two_tenants, route, name, group):
    # Given tenant A with one object of every kind, and a user of tenant B
    # (B's portal user even carries the id of A's client account)
    owner, other, made = two_tenants
    named, user = made[name], caller(other, group, made)

    # When B filters a read by A's id, and by an id of nothing
    reply = call(user, "GET", route.path, query={name: named.value})
    nothing = missing_id(named.value)
    missing = call(user, "GET", route.path, query={name: nothing})

    # Then both answer alike and nothing of A's shows
    assert_answers_alike(reply, named.value, missing, nothing)
    secrets = [s for s in secrets_of(made) if s != named.value]
    assert_leaks_nothing(reply, secrets)
    if is_list(route):  # while A's own user, filtering alike, does see them
        own = call(caller(owner, group, made), "GET", route.path, query={name: named.value})
        assert any(s in own.text for s in secrets), own.text


@READS
@pytest.mark.parametrize("route", [r for r in READS_WITHOUT_IDS if "portal" in (r.roles or ())], ids=rid)
def test_a_read_without_an_id_shows_a_portal_user_nothing_of_another_client(two_tenants, route):
    # Given tenant A with one object of every kind, and a portal user of another client of A
    owner, _, made = two_tenants
    stranger = owner.portal_user(make_client(owner, {}).value)

    # When that portal user reads without an id
    reply = call(stranger, "GET", route.path, query=query_for(route, made))

    # Then nothing of the other client's shows
    assert reply.status == 200, reply.text
    client_secrets = {p: m for p, m in made.items() if p not in SHARED_WITH_EVERY_CLIENT}
    assert_leaks_nothing(reply, secrets_of(client_secrets))


# ---- signed links: a link for one object or tenant reaches no other ---------------------------------

# operationId of a public route with an id in its path -> (that parameter, a link's token for an object made
# by its factory, a valid body or None); the token goes as ?token=
SIGNED_LINKS: dict[str, tuple[str, Callable[[Tenant, Made], str], dict[str, Any] | None]] = {
    "VoteByLink": (
        "poll_id",
        lambda tenant, made: calendar_helpers.vote_link(tenant.id, made.value),
        {"choices": {"S1": "yes"}},
    ),
    "GetBallotByLink": ("poll_id", lambda tenant, made: calendar_helpers.vote_link(tenant.id, made.value), None),
    **onboarding_helpers.SIGNED_LINKS,
}
# every public route but the documentation's answers to a signed link
PUBLIC_WITH_IDS = [r for r in ROUTES if r.roles is None and params_of(r) and r.module != "functions.api.docs"]


@pytest.mark.parametrize("route", PUBLIC_WITH_IDS, ids=rid)
def test_every_signed_link_route_has_a_link_factory(route):
    assert route.operation_id in SIGNED_LINKS, f"{rid(route)}: add its link to SIGNED_LINKS"


@pytest.mark.parametrize("route", by_domain(PUBLIC_WITH_IDS), ids=rid)
def test_a_link_reaches_only_its_own_object_and_tenant(module_cloud, route):
    # Given an object of tenant B with its link, another object of B, and an object of tenant A
    param, link, body = SIGNED_LINKS[route.operation_id]
    owner, holder = Tenant(profiles=False), Tenant(profiles=False)
    theirs, mine, sibling = FACTORIES[param](owner, {}), FACTORIES[param](holder, {}), FACTORIES[param](holder, {})
    token = link(holder, mine)
    writes = Writes(module_cloud)

    # When the link is used on A's object, and on B's other object
    for target in (theirs, sibling):
        reply = call(None, route.method, route.path, {param: target.value}, body=body, query={"token": token})

        # Then it is not found, tells nothing, and nothing changed
        reply.problem(404)
        assert_leaks_nothing(reply, [*theirs.secrets, *sibling.secrets])
    assert writes.to(owner, holder) == []
    # while on its own object the link works: the 404 is not vacuous
    own = call(None, route.method, route.path, {param: mine.value}, body=body, query={"token": token})
    assert 200 <= own.status < 300, own.text
