"""DynamoDB round trips per request, for every authenticated route of the catalog.

Starts moto in-process on loopback, creates the table from ``infra.resources``, seeds one tenant
through ``shared`` (a staff profile, a client, a contact, tickets), then invokes each route's
handler with the canonical API Gateway event and counts the DynamoDB calls the request makes
(every botocore client, PynamoDB's included). Powertools idempotency records (``#IDEMPOTENCY``
keys) are counted apart. Targets (docs/architecture.md): a read 1, a list page 1, creating a ticket <= 2;
other writes are reported. Prints figures; exits 0.

    .venv/bin/python -m bench.round_trips
"""

from __future__ import annotations

import copy
import importlib
import json
import logging
import os
import socket
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.client import BaseClient
from moto.server import ThreadedMotoServer

from functions.api import catalog
from functions.api.catalog import Route
from infra.local.lambda_context import LambdaContext
from infra.local.provision import ensure_bucket, ensure_sender, ensure_user_pool
from infra.resources import table_definition
from shared import sessions
from shared.admin import users
from shared.attachments import service as attachments
from shared.calendar import appointments as meetings
from shared.calendar import executions as meeting_executions
from shared.calendar import polls as meeting_polls
from shared.calendar import workflows as meeting_workflows
from shared.caller import Role, TenantContext
from shared.clock import now
from shared.crm import clients, contacts
from shared.directory import save_profile
from shared.field import rules, technicians, work_orders
from shared.knowledge import index as knowledge_index
from shared.knowledge import items as knowledge
from shared.knowledge import reviews as knowledge_reviews
from shared.knowledge.schemas import Decision, NewItem, Submit
from shared.marketing import campaigns, entity_tags, segments, tags, templates
from shared.onboarding import processes as onboarding_processes
from shared.onboarding import tasks as onboarding_tasks
from shared.onboarding import templates as onboarding_templates
from shared.onboarding import upload_links
from shared.onboarding.model import Document, Task
from shared.settings import settings
from shared.support import sla_policies, tickets
from shared.support.surveys import definitions as surveys
from shared.tenants import create_tenant

APPOINTMENT = {
    "title": "Kick-off",
    "start": "2030-04-02T10:00",
    "end": "2030-04-02T11:00",
    "time_zone": "Europe/Berlin",
}
POLL = {
    "title": "Review",
    "time_zone": "Europe/Berlin",
    "slots": [{"start": "2030-04-02T10:00"}, {"start": "2030-04-03T10:00"}],
    "deadline": "2030-03-30T12:00",
}
WORKFLOW = {
    "name": "Agenda",
    "trigger": {"kind": "before_start", "minutes": 1440},
    "actions": [{"kind": "email", "subject": "Tomorrow: {{ appointment.title }}", "text": "{{ appointment.when }}"}],
}
PORTAL_POLL_ROUTES = ("ListMeetingPolls", "GetMeetingPoll", "GetMeetingPollResults", "VoteSignedIn")
ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "events" / "api_gateway_rest.json"
TABLE = "deskos-bench"
REGION = "eu-west-1"
IDEMPOTENCY_MARK = "#IDEMPOTENCY"
TECHNICIAN = {
    "name": "Theo",
    "email": "theo@bench.example",
    "skills": ["networking"],
    "capacity": 1000,
    "working_hours": {"always_open": True},
}
WORK_ORDER_RULE = {"name": "Installations", "assignment": {"logic": "workload", "required_skills": ["networking"]}}
SLA_POLICY = {
    "name": "Standard",
    "targets": {"normal": {"first_response": 30, "next_response": 60, "resolution": 480}},
    "calendar": {"time_zone": "Europe/Berlin", "windows": [{"day": "mon", "start": "09:00", "end": "17:00"}]},
}


# ---- counting ----------------------------------------------------------------------------------


@dataclass
class Recording:
    thread: int
    calls: list[tuple[str, bool]] = field(default_factory=list)  # (operation, is idempotency record)

    def operations(self, idempotency: bool) -> list[str]:
        return [op for op, idem in self.calls if idem is idempotency]


_recording: Recording | None = None
POOL = "ThreadPoolExecutor"
_make_api_call = BaseClient._make_api_call


def _counting_make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
    rec = _recording
    # this thread's calls, and those of the pools a request runs its reads on (a search's terms, side by side)
    here = rec is not None and (rec.thread == threading.get_ident() or threading.current_thread().name.startswith(POOL))
    if here and client.meta.service_model.service_name == "dynamodb":
        key = params.get("Key") or params.get("Item") or {}
        rec.calls.append((operation, IDEMPOTENCY_MARK in str(key.get("PK", ""))))
    return _make_api_call(client, operation, params)


@contextmanager
def recording() -> Iterator[Recording]:
    """Records the DynamoDB calls this thread makes through any botocore client."""
    global _recording
    _recording = Recording(threading.get_ident())
    BaseClient._make_api_call = _counting_make_api_call
    try:
        yield _recording
    finally:
        BaseClient._make_api_call = _make_api_call
        _recording = None


# ---- the local cloud and its data --------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto() -> ThreadedMotoServer:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log lines between the figures
    # The product never registers a Lambda context with IdempotencyConfig: Powertools warns on each call.
    warnings.filterwarnings("ignore", message="Couldn't determine the remaining time left")
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    os.environ.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_SESSION_TOKEN="bench",
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
        DESKOS_TABLE=TABLE,
        DESKOS_BUCKET="deskos-bench-uploads",
        DESKOS_CURSOR_SECRET="bench-only-cursor-secret",
        POWERTOOLS_METRICS_DISABLED="true",  # keep EMF lines out of the table
    )
    settings.cache_clear()  # already read at import: PynamoDB probes Meta.region when shared.db.table loads
    return server


@dataclass
class World:
    """The seeded tenant; ``fresh_ticket`` makes a ticket (outside any recording) for one write."""

    values: dict[str, str]  # path parameter -> value
    fresh_ticket: Callable[[bool], tickets.Ticket]
    fresh_survey: Callable[[], surveys.Survey]
    fresh_policy: Callable[[], sla_policies.SlaPolicy]
    fresh: dict[str, Callable[[str], str]] = field(default_factory=dict)  # path parameter -> maker of a fresh id
    portal: dict[str, str] = field(default_factory=dict)  # the claims of a portal user the seeded polls invite


def seed_tenant(claims: dict[str, Any]) -> TenantContext:
    """The claims' tenant, with the caller as its staff agent."""
    ctx = TenantContext.from_claims(claims)
    create_tenant(ctx.tenant_id, "Bench Ltd")
    save_profile(
        ctx.tenant_id,
        user_id=ctx.user_id,
        username=ctx.username,
        email=ctx.email or "agent@bench.example",
        name="Bench Agent",
        role=Role.STAFF,
        client_id=None,
        actor="bench",
    )
    return ctx


def seed(claims: dict[str, Any]) -> World:
    boto3.client("dynamodb").create_table(**table_definition(TABLE))
    ensure_bucket(boto3.client("s3"), settings().bucket_name, settings().region)
    os.environ["DESKOS_USER_POOL_ID"] = ensure_user_pool(boto3.client("cognito-idp"))[0]
    ensure_sender(boto3.client("ses"))
    ctx = seed_tenant(claims)
    client = clients.create(ctx, clients.NewClient(name="Acme"))
    contact = contacts.create(ctx, contacts.NewContact(client_id=client.id, name="Ada", email="ada@acme.example"))

    def fresh_ticket(closed: bool) -> tickets.Ticket:
        ticket = tickets.create(
            ctx, tickets.NewTicket(subject="Printer on fire", client_id=client.id, requester_contact_id=contact.id)
        )
        return tickets.close(ctx, ticket.id, None) if closed else ticket

    def fresh_policy() -> sla_policies.SlaPolicy:
        return sla_policies.create(ctx, sla_policies.SlaPolicyIn.model_validate(SLA_POLICY))

    def staff_user() -> str:
        user_id = str(uuid.uuid4())
        save_profile(
            ctx.tenant_id,
            user_id=user_id,
            username=f"{user_id}@bench.example",
            email=f"{user_id}@bench.example",
            name="Tech",
            role=Role.STAFF,
            client_id=None,
            actor="bench",
        )
        return user_id

    def fresh_technician(_operation: str) -> str:
        return technicians.create(ctx, technicians.NewTechnician(user_id=staff_user(), **TECHNICIAN)).id

    def fresh_work_order(operation: str) -> str:
        order = work_orders.create(ctx, work_orders.NewWorkOrder())
        if operation in ("ScheduleWorkOrder", "StartWorkOrder", "CompleteWorkOrder"):
            work_orders.assign(ctx, order.id, work_orders.AssignWorkOrder(technician_id=technician_id), None)
        if operation == "CompleteWorkOrder":
            work_orders.start(ctx, order.id, None)
        return order.id

    def fresh_rule(_operation: str) -> str:
        return rules.create(ctx, rules.RuleIn.model_validate(WORK_ORDER_RULE)).id

    def fresh_user(operation: str) -> str:
        body = users.NewUser(email=f"{uuid.uuid4().hex}@bench.example", name="Nia", role=Role.STAFF)
        user_id = users.invite(ctx, body, password="Bench-pass-1!").user_id
        if operation == "ReactivateUser":
            users.deactivate(ctx, user_id, None)
        return user_id

    def onboarding_template(items: int = 5) -> str:
        body = onboarding_templates.TemplateIn(
            name="New client",
            tasks=[onboarding_templates.TemplateTask(title=f"Step {i}") for i in range(items - items // 4)],
            documents=[onboarding_templates.TemplateDocument(name=f"Paper {i}") for i in range(items // 4)],
        )
        return onboarding_templates.create(ctx, body).id

    def onboarding_process(operation: str = "", *, items: int = 5) -> str:
        body = onboarding_processes.NewProcess(client_id=client.id, owner_id=ctx.user_id, start_date="2030-01-07")
        made = onboarding_processes.create(ctx, onboarding_template(items), body)
        if operation not in ("StartOnboardingProcess", "CancelOnboardingProcess"):
            onboarding_processes.start(ctx, made.id, None)
        return made.id

    def onboarding_task(operation: str) -> str:
        process = onboarding_processes.Process.find(ctx.tenant_id, onboarding_process())
        task_id = next(i.id for i in onboarding_processes.items_of(process) if isinstance(i, Task))
        if operation == "ReopenOnboardingTask":
            onboarding_tasks.complete(ctx, task_id, None)
        return task_id

    def onboarding_document(operation: str) -> str:
        process = onboarding_processes.Process.find(ctx.tenant_id, onboarding_process())
        document = next(i for i in onboarding_processes.items_of(process) if isinstance(i, Document))
        if operation == "GetOnboardingDocument":  # the one the reads use: with a file, as its file list is read
            owner = attachments.Owner(kind="onboarding_document", id=document.id, client_id=client.id)
            attachments.create(
                ctx,
                owner,
                attachments.NewAttachment(original_filename="id.pdf", content_type="application/pdf", size=10),
            )
        if operation in ("ApproveOnboardingDocument", "RejectOnboardingDocument"):
            document.status = "uploaded"  # as a clean scan leaves it
            document.save()
        return document.id

    technician_id = fresh_technician("GetTechnician")
    policy = fresh_policy()  # tickets get an SLA clock, so their writes are measured with it
    ticket = fresh_ticket(False)

    def fresh_survey() -> surveys.Survey:
        return surveys.create(ctx, surveys.NewSurvey(name="After resolve", kind="nps", question="Recommend us?"))

    survey = fresh_survey()

    def fresh_appointment(_operation: str) -> str:
        people = [{"contact_id": contact.id}, {"user_id": ctx.user_id}]
        body = meetings.NewAppointment.model_validate({**APPOINTMENT, "client_id": client.id, "attendees": people})
        return meetings.create(ctx, body).id

    def fresh_poll(_operation: str) -> str:
        people = [{"contact_id": contact.id}, {"user_id": ctx.user_id}]
        body = meeting_polls.NewPoll.model_validate({**POLL, "client_id": client.id, "invitees": people})
        return meeting_polls.create(ctx, body).id

    def fresh_workflow(_operation: str) -> str:
        return meeting_workflows.create(ctx, meeting_workflows.WorkflowIn.model_validate(WORKFLOW)).id

    appointment_id, workflow_id = fresh_appointment("GetAppointment"), fresh_workflow("GetMeetingWorkflow")
    meeting_executions.plan(meetings.Appointment.find(ctx.tenant_id, appointment_id), ("before_start",), now())

    def fresh_item(operation: str) -> str:
        """An item in the state the operation accepts, the bench's caller its owner and (in review) reviewer."""
        body = NewItem(title="VPN setup", kind="sop", body="Install the client.", review_every_days=90)
        made = knowledge.create(ctx, body).id
        if operation in ("ApproveKnowledgeItem", "RequestKnowledgeChanges", "PublishKnowledgeItem"):
            knowledge_reviews.submit(ctx, made, Submit(reviewer_ids=[ctx.user_id]), None)
        if operation == "PublishKnowledgeItem":
            knowledge_reviews.approve(ctx, made, Decision(), None)
        if operation == "UnarchiveKnowledgeItem":
            knowledge.archive(ctx, made, None)
        return made

    public = NewItem(title="Reset a password", kind="faq", body="Use the link.", visibility="public")
    faq = knowledge.create(ctx, public)
    knowledge_reviews.publish(manager_ctx(ctx), faq.id, None)
    for scope in ("staff", "public"):  # what the index consumer makes of it (no stream runs here)
        terms = knowledge_index.analyse(public.title, public.tags, public.category, public.body)
        knowledge_index.apply(None, knowledge_index.Document(ctx.tenant_id, faq.id, scope, 1, dict(terms)))
    owner = attachments.Owner(kind="ticket", id=ticket.id, client_id=client.id)
    upload = attachments.NewAttachment(original_filename="notes.txt", content_type="text/plain", size=10)
    values = {
        "survey_id": survey.id,
        "attachment_id": judged_clean(ctx.tenant_id, attachments.create(ctx, owner, upload).attachment.id),
        "ticket_id": ticket.id,
        "number": ticket.number,
        "client_id": client.id,
        "contact_id": contact.id,
        "assignee_id": ctx.user_id,
        "policy_id": policy.id,
        "technician_id": technician_id,
        "staff_user_id": staff_user(),
        "work_order_id": fresh_work_order("GetWorkOrder"),
        "rule_id": fresh_rule("GetWorkOrderRule"),
        "user_id": fresh_user("GetUser"),
        "appointment_id": appointment_id,
        "poll_id": fresh_poll("GetMeetingPoll"),
        "workflow_id": workflow_id,
        "execution_id": appointment_id + workflow_id,
        "item_id": faq.id,
        "version_number": "1",
        "template_id": onboarding_template(),
        "process_id": onboarding_process(),
        "task_id": onboarding_task("GetOnboardingTask"),
        "document_id": onboarding_document("GetOnboardingDocument"),
        "big_template_id": onboarding_template(200),
    }
    fresh = {
        "appointment_id": fresh_appointment,
        "poll_id": fresh_poll,
        "workflow_id": fresh_workflow,
        "technician_id": fresh_technician,
        "work_order_id": fresh_work_order,
        "rule_id": fresh_rule,
        "user_id": fresh_user,
        "item_id": fresh_item,
        "template_id": lambda _operation: onboarding_template(),
        "process_id": lambda operation: onboarding_process(operation, items=0 if "Complete" in operation else 5),
        "task_id": onboarding_task,
        "document_id": onboarding_document,
        "attachment_id": lambda _operation: judged_clean(
            ctx.tenant_id, attachments.create(ctx, owner, upload).attachment.id
        ),
    }
    marketing_values, marketing_fresh = seed_marketing(ctx, contact)
    values.update(marketing_values)
    fresh.update(marketing_fresh)
    # the contact invited to the polls (no portal login: its address is the login of a portal user who has it)
    portal = {"cognito:groups": "portal", "custom:client_id": client.id, "email": contact.email}
    return World(values, fresh_ticket, fresh_survey, fresh_policy, fresh, portal)


def judged_clean(tenant_id: str, attachment_id: str) -> str:
    """The seeded attachment as the scan leaves a clean image: downloadable, with a thumbnail."""
    record = attachments.Attachment.get(*attachments.Attachment.key(tenant_id, attachment_id))
    thumbnail = record.s3_key + ".thumb.webp"
    record.update([attachments.Attachment.status.set("clean"), attachments.Attachment.thumbnail_key.set(thumbnail)])
    return attachment_id


def seed_marketing(ctx: TenantContext, contact: contacts.Contact) -> tuple[dict[str, str], dict[str, Callable]]:
    """A tag on the contact, a static segment holding it, a template and a draft campaign; makers of fresh ones
    for the writes (a campaign to schedule or cancel starts as a draft)."""

    def fresh_tag(_operation: str) -> str:
        return tags.create(ctx, tags.NewTag(name=f"tag-{uuid.uuid4().hex}")).id

    def fresh_segment(operation: str) -> str:
        kind = "dynamic" if operation in ("RefreshSegment", "UpdateSegment") else "static"
        body = segments.NewSegment(name="Bench", kind=kind, criteria=CRITERIA if kind == "dynamic" else None)
        return segments.create(ctx, body)[0].id

    def fresh_template(_operation: str) -> str:
        return templates.create(ctx, templates.NewEmailTemplate(**TEMPLATE))[0].id

    def fresh_campaign(_operation: str) -> str:
        body = campaigns.NewCampaign(name="Bench", template_id=template_id, segment_id=segment_id)
        return campaigns.create(ctx, body)[0].id

    tag_id = fresh_tag("")
    entity_tags.apply(ctx, entity_tags.Application(tag_id=tag_id, entity_kind="contact", entity_id=contact.id))
    segment_id, template_id = fresh_segment(""), fresh_template("")
    segments.add_members(ctx, segment_id, segments.ContactIds(contact_ids=[contact.id]))
    values = {
        "tag_id": tag_id,
        "entity_kind": "contact",
        "entity_id": contact.id,
        "segment_id": segment_id,
        "email_template_id": template_id,
        "campaign_id": fresh_campaign(""),
    }
    makers = {"segment_id": fresh_segment, "email_template_id": fresh_template, "campaign_id": fresh_campaign}
    return values, {"tag_id": fresh_tag, **makers}


CRITERIA = {"match": "all", "conditions": [{"field": "client.customer_type", "operator": "equals", "value": "premium"}]}
TEMPLATE = {"name": "Newsletter", "subject": "News for {{ client.name }}", "html": "<p>Hi {{ contact.first_name }}</p>"}


# ---- requests ----------------------------------------------------------------------------------


DOCUMENT_FILE = {"original_filename": "id.pdf", "content_type": "application/pdf", "size": 10}


def body_for(operation_id: str, values: dict[str, str]) -> dict[str, Any] | None:
    return {
        "CreateClient": {"name": "Globex"},
        "CreateContact": {"client_id": values["client_id"], "name": "Grace", "email": "grace@acme.example"},
        "CreateTicket": {
            "subject": "VPN down",
            "client_id": values["client_id"],
            "requester_contact_id": values["contact_id"],
        },
        "UpdateTicket": {"priority": "high"},
        "AssignTicket": {"assignee_id": values["assignee_id"]},
        "PutSequence": {"prefix": "TK", "padding": 6},
        "CreateSurvey": {"name": "CSAT", "kind": "csat", "question": "Satisfied?"},
        "UpdateSurvey": {"version": 1, "cooldown_days": 7},
        "CreateTicketAttachment": {"original_filename": "notes.txt", "content_type": "text/plain", "size": 10},
        "CreateSlaPolicy": SLA_POLICY,
        "ReplaceSlaPolicy": SLA_POLICY,
        "AddComment": {"body": "On it.", "public": True},
        "CreateTechnician": {"user_id": values["staff_user_id"], **TECHNICIAN},
        "ReplaceTechnician": {**TECHNICIAN, "name": "Theo T"},
        "CreateWorkOrder": {"type": "repair", "source_ticket_id": values["ticket_id"]},
        "UpdateWorkOrder": {"notes": "Parts ordered"},
        "AssignWorkOrder": {"technician_id": values["technician_id"]},
        "ScheduleWorkOrder": {"scheduled_start": "2030-01-07T09:00:00Z"},
        "CreateWorkOrderRule": WORK_ORDER_RULE,
        "ReplaceWorkOrderRule": WORK_ORDER_RULE,
        "InviteUser": {"email": f"{uuid.uuid4().hex}@bench.example", "name": "Nia", "role": "staff"},
        "ChangeUserRole": {"role": "managers"},
        "ReplaceSettings": {"name": "Bench Ltd", "time_zone": "Europe/Berlin", "version": 1},
        "CreateKnowledgeItem": {"title": "Printer jams", "kind": "faq", "body": "Open tray 2."},
        "UpdateKnowledgeItem": {"body": "Install the client, then sign in."},
        "RestoreKnowledgeVersion": {"version": 1},
        "SubmitKnowledgeItem": {"reviewer_ids": [values["assignee_id"]]},
        "ApproveKnowledgeItem": {},
        "RequestKnowledgeChanges": {"comment": "Say how."},
        "CreateKnowledgeAttachment": {"original_filename": "guide.txt", "content_type": "text/plain", "size": 10},
        "ReplaceNotificationTemplate": {"kind": "ticket_created", "subject": "Got it", "text": "Thanks!"},
        "PreviewNotificationTemplate": {"kind": "staff_reply"},
        "ReplaceMailbox": {"unknown_senders": "refuse"},
        "CreateAppointment": {
            **APPOINTMENT,
            "client_id": values["client_id"],
            "attendees": [{"contact_id": values["contact_id"]}, {"email": "bo@bench.example"}],
        },
        "UpdateAppointment": {"start": "2030-04-03T10:00", "end": "2030-04-03T11:00"},
        "CreateMeetingPoll": {**POLL, "invitees": [{"contact_id": values["contact_id"]}]},
        "UpdateMeetingPoll": {"title": "Renamed"},
        "VoteSignedIn": {"choices": {"S1": "yes", "S2": "if_need_be"}},
        "BookMeetingPoll": {"slot": "S1"},
        "CreateMeetingWorkflow": WORKFLOW,
        "ReplaceMeetingWorkflow": {**WORKFLOW, "active": False},
        "CreateOnboardingTemplate": {
            "name": "New client",
            "tasks": [{"title": "Kick-off"}],
            "documents": [{"name": "ID"}],
        },
        "ReplaceOnboardingTemplate": {"name": "New client", "tasks": [{"title": "Kick-off"}]},
        "CreateOnboardingProcess": {
            "client_id": values["client_id"],
            "owner_id": values["assignee_id"],
            "start_date": "2030-01-07",
        },
        "CompleteOnboardingProcess": {},
        "AssignOnboardingTask": {"assignee_id": values["assignee_id"]},
        "UploadOnboardingDocument": DOCUMENT_FILE,
        "UploadOnboardingDocumentByLink": DOCUMENT_FILE,
        "ApproveOnboardingDocument": {},
        "RejectOnboardingDocument": {"note": "Blurry"},
        "CreateTag": {"name": f"tag-{uuid.uuid4().hex}"},
        "UpdateTag": {"colour": "#aa3300"},
        "ApplyTag": {"tag_id": values["tag_id"], "entity_kind": "client", "entity_id": values["client_id"]},
        "BulkApplyTag": {"tag_id": values["tag_id"], "entities": [{"kind": "contact", "id": values["contact_id"]}]},
        "BulkRemoveTag": {"tag_id": values["tag_id"], "entities": [{"kind": "contact", "id": values["contact_id"]}]},
        "PreviewSegment": {"criteria": CRITERIA},
        "CreateSegment": {"name": "Premium", "criteria": CRITERIA},
        "UpdateSegment": {"name": "Premium clients"},
        "AddSegmentMembers": {"contact_ids": [values["contact_id"]]},
        "RemoveSegmentMembers": {"contact_ids": [values["contact_id"]]},
        "CreateEmailTemplate": TEMPLATE,
        "UpdateEmailTemplate": {"subject": "Spring news"},
        "CreateCampaign": {
            "name": "Spring",
            "template_id": values["email_template_id"],
            "segment_id": values["segment_id"],
        },
        "ScheduleCampaign": {},
    }.get(operation_id)


# operationId -> the query a read needs
QUERIES = {
    "SearchKnowledge": {"q": "reset password"},
    "SuggestKnowledge": {"q": "cannot reset my password after the update on my new laptop today"},
}
# Reads whose second round trip depends on what the first one returned (docs/modules/marketing.md, "Round trips")
FLOORS = {
    "ListSegmentMembers": 2,  # the state names the generation readers see; the page is a Query of that generation
    "ListTaggedEntities": 2,  # the tag (its 404), then the page of its applications in another index partition
}


def _upload_link(tenant_id: str, params: dict[str, str]) -> str:
    return upload_links.token(Document.find(tenant_id, params["document_id"]))


# operationId of a public route behind an emailed link -> its token for the tenant and the request's path values
LINK_TOKENS: dict[str, Callable[[str, dict[str, str]], str]] = {
    "GetDocumentRequestByLink": _upload_link,
    "UploadOnboardingDocumentByLink": _upload_link,
}


def manager_ctx(ctx: TenantContext) -> TenantContext:
    return TenantContext(ctx.tenant_id, ctx.user_id, ctx.username, frozenset({Role.MANAGERS, Role.STAFF}))


def role_for(roles: tuple[str, ...]) -> str:
    return next(r for r in ("staff", "managers", "portal") if r in roles)


def build_event(
    fixture: dict[str, Any],
    route: Route,
    params: dict[str, str],
    body: Any,
    headers: dict[str, str],
    query: dict[str, str] | None = None,
    claims: dict[str, str] | None = None,
) -> dict[str, Any]:
    event = copy.deepcopy(fixture)
    path = route.path.format(**params)
    event.update(
        httpMethod=route.method,
        path=path,
        resource=route.path,
        pathParameters=params or None,
        queryStringParameters=query,
        multiValueQueryStringParameters={k: [v] for k, v in query.items()} if query else None,
        body=None if body is None else json.dumps(body),
    )
    event["headers"] = {**event["headers"], **headers}
    context = event["requestContext"]
    context.update(
        httpMethod=route.method, resourcePath=route.path, path=f"/{context['stage']}{path}", requestId=str(uuid.uuid4())
    )
    if route.roles is None:
        context.pop("authorizer")  # a link's page calls without signing in
    else:
        context["authorizer"]["claims"]["cognito:groups"] = role_for(route.roles)
        context["authorizer"]["claims"].update(claims or {})
    return event


@dataclass
class Result:
    label: str
    status: int
    recording: Recording
    kind: str
    limit: int | None
    detail: str

    @property
    def verdict(self) -> str:
        if self.limit is None:
            return "report"
        return "PASS" if len(self.recording.operations(False)) <= self.limit else "FAIL"


def invoke(
    route: Route,
    world: World,
    fixture: dict[str, Any],
    idempotency_key: str | None = None,
    *,
    given: dict[str, str] | None = None,
    note: str = "",
    query: dict[str, str] | None = None,
    claims: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
) -> Result:
    values = dict(world.values)
    headers: dict[str, str] = {}
    if route.writes and "{ticket_id}" in route.path:
        # each ticket write starts from its own ticket, in a state the action accepts
        ticket = world.fresh_ticket(route.operation_id == "ReopenTicket")
        values["ticket_id"] = ticket.id
        headers["If-Match"] = f'"{ticket.version}"'
    if route.operation_id == "DeleteSurvey":  # the other survey routes keep the seeded one
        values["survey_id"] = world.fresh_survey().id
    if route.operation_id in ("ReplaceSlaPolicy", "DeleteSlaPolicy"):
        values["policy_id"] = world.fresh_policy().id  # each from its own policy, at version 1
        headers["If-Match"] = '"1"'
    for name, make in world.fresh.items():
        if route.writes and "{" + name + "}" in route.path:
            values[name] = make(route.operation_id)  # each write from its own item, in a state it accepts
            if route.method in ("PUT", "PATCH", "DELETE"):
                headers["If-Match"] = '"1"'  # made just now: version 1
    values.update(given or {})
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    params = {name: values.get(name, "UNKNOWN") for name in path_params(route.path)}
    searched = QUERIES.get(route.operation_id)
    query = searched or query
    if route.operation_id in LINK_TOKENS:
        tenant_id = fixture["requestContext"]["authorizer"]["claims"]["custom:tenant_id"]
        query = {"token": LINK_TOKENS[route.operation_id](tenant_id, params)}
    sent = body if body is not None else body_for(route.operation_id, values)
    event = build_event(fixture, route, params, sent, headers, query, claims)
    handler = importlib.import_module(route.module).handler
    # the revoked-sessions check, read again after a route that changed a role, stays out of the rows
    sessions.refuse_revoked(
        TenantContext.from_claims({**fixture["requestContext"]["authorizer"]["claims"], **(claims or {})})
    )
    with recording() as rec:
        response = handler(event, LambdaContext(route.operation_id))  # the Logger's context injection reads it
    status = response["statusCode"]
    payload = json.loads(response.get("body") or "null") if "json" in _content_type(response) else None
    if route.operation_id == "CreateTicket":
        kind, limit = "create ticket", 2
    elif route.writes:
        kind, limit = "write", None
    elif searched is not None:
        kind, limit = "search", None  # the scope's counts, one Query per term (side by side), one BatchGet
    elif route.operation_id in FLOORS or (query is not None and route.operation_id not in LINK_TOKENS):
        kind, limit = "read (floor)", FLOORS.get(route.operation_id, 2)  # a preview's contact names its client
    elif isinstance(payload, dict) and "items" in payload:
        kind, limit = "list page", 1
    else:
        kind, limit = "read", 1
    label = f"{route.method} {route.path}" + (" +Idempotency-Key" if idempotency_key else "") + note
    detail = "" if 200 <= status < 300 else str(payload)
    return Result(label, status, rec, kind, limit, detail)


def email_rows(world: World, tenant_id: str) -> list[Result]:
    """Email in and out (no request path, so reported, not targeted): one inbound message of each kind through
    the receiver's code path (``shared.inbound.intake``) and one notification (``shared.support.notifications``)."""
    from email.message import EmailMessage

    from shared.inbound import intake, mailbox
    from shared.support import notifications

    ticket = world.fresh_ticket(False)
    support, reply = mailbox.support_address(tenant_id), mailbox.reply_address(tenant_id, ticket.id)

    def message(to: str, subject: str) -> bytes:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "Ada <ada@acme.example>", to, subject
        mail["Message-ID"] = f"<{uuid.uuid4().hex}@acme.example>"
        mail.set_content("The printer is on fire.")
        return bytes(mail)

    first = message(support, "Printer on fire")
    acknowledgement = notifications.Event("ticket_created", f"{ticket.id}.bench", tenant_id, ticket.id, ticket)
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("email in: new ticket from a contact", lambda: intake.receive(first, [support])),
        ("email in: the same Message-ID again", lambda: intake.receive(first, [support])),
        ("email in: a reply becomes a comment", lambda: intake.receive(message(reply, "Re: fire"), [reply])),
        ("notification: an acknowledgement", lambda: notifications.deliver(acknowledgement)),
        ("notification: its record redelivered", lambda: notifications.deliver(acknowledgement)),
    ]
    rows = []
    for label, run in cases:
        with recording() as rec:
            run()
        rows.append(Result(label, 200, rec, "email", None, ""))
    return rows


def path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _content_type(response: dict[str, Any]) -> str:
    headers = response.get("multiValueHeaders") or {}
    values = headers.get("Content-Type") or [str((response.get("headers") or {}).get("Content-Type", ""))]
    return values[0]


# ---- report ------------------------------------------------------------------------------------


def _operations(r: Result) -> str:
    ops = " + ".join(r.recording.operations(False)) or "-"
    idem = r.recording.operations(True)
    return ops + (" | idem: " + " + ".join(idem) if idem else "")


def _target(r: Result) -> str:
    return f"{r.kind} <= {r.limit}" if r.limit is not None else f"{r.kind}: report"


def print_table(results: list[Result]) -> None:
    w_route = max(len(r.label) for r in results)
    w_ops = max(len(_operations(r)) for r in results)
    w_target = max(len(_target(r)) for r in results)
    head = f"{'route':<{w_route}} {'status':>6} {'ddb':>4} {'idem':>4}  {'operations':<{w_ops}}  {'target':<{w_target}}"
    print(head + "  result")
    for r in results:
        print(
            f"{r.label:<{w_route}} {r.status:>6} {len(r.recording.operations(False)):>4} "
            f"{len(r.recording.operations(True)):>4}  {_operations(r):<{w_ops}}  {_target(r):<{w_target}}  {r.verdict}"
        )


def main() -> None:
    server = start_moto()
    try:
        fixture = json.loads(FIXTURE.read_text())
        claims = fixture["requestContext"]["authorizer"]["claims"]
        world = seed(claims)
        with recording() as warm_up:  # what a container pays once per tenant per session-check interval
            sessions.refuse_revoked(TenantContext.from_claims(claims))
        routes = [r for r in catalog.routes() if r.roles is not None or r.operation_id in LINK_TOKENS]
        skipped = len(catalog.routes()) - len(routes)
        results = []
        for route in routes:
            results.append(invoke(route, world, fixture))
            if route.operation_id in ("CreateTicket", "CreateOnboardingProcess"):
                results.append(invoke(route, world, fixture, idempotency_key=str(uuid.uuid4())))
            if route.operation_id == "PreviewEmailTemplate":  # for a real contact: and its client
                contact = {"contact_id": world.values["contact_id"]}
                results.append(invoke(route, world, fixture, query=contact, note=" ?contact_id="))
            if route.operation_id == "CreateOnboardingProcess":  # more items than one transaction holds
                big = {"template_id": world.values["big_template_id"]}
                results.append(invoke(route, world, fixture, given=big, note=" (200 items)"))
            if route.operation_id in PORTAL_POLL_ROUTES:  # what the polls that invite a portal user cost them
                results.append(invoke(route, world, fixture, claims=world.portal, note=" (portal invitee)"))
            if route.operation_id == "CreateMeetingWorkflow":
                action = {"kind": "email", "email_template_id": world.values["email_template_id"]}
                body = {**WORKFLOW, "actions": [action]}
                results.append(invoke(route, world, fixture, body=body, note=" (an email template)"))
        results += email_rows(world, TenantContext.from_claims(claims).tenant_id)
    finally:
        server.stop()

    print(f"DynamoDB calls per request ({len(results)} requests; {skipped} public routes without LINK_TOKENS skipped)")
    print("ddb = table calls (idempotency records excluded); idem = Powertools idempotency record calls")
    print(
        f"Not in the rows: the revoked-sessions check, {' + '.join(warm_up.operations(False))} once per tenant "
        f"per container every {settings().session_check_seconds:g} s (shared/sessions.py)"
    )
    print_table(results)
    scans = [r.label for r in results for op, _ in r.recording.calls if op == "Scan"]
    total = sum(len(r.recording.calls) for r in results)
    print(f"Scan calls: {len(scans)} of {total} DynamoDB calls" + (f" — in {', '.join(scans)}" if scans else ""))
    failed = [r for r in results if not 200 <= r.status < 300]
    for r in failed:
        print(f"NOT 2xx: {r.label} -> {r.status} {r.detail}")
    if failed:
        print("A non-2xx is a bench setup error or a product bug; either way its row is not a successful request.")
    checked = [r for r in results if r.limit is not None]
    passed = sum(r.verdict == "PASS" for r in checked)
    print(f"{passed}/{len(checked)} reads, list pages and ticket creates at their round-trip target")


if __name__ == "__main__":
    main()
