"""Client onboarding: /onboarding/templates…, /onboarding/processes…, /onboarding/tasks…, /onboarding/documents…."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.metrics import MetricUnit

from functions.api.core import Api, metrics
from functions.api.core.params import Cursor, EntityId, IdFilter, Limit
from functions.api.core.responses import page_out, tagged
from shared.attachments.service import AttachmentOut, NewAttachment, UploadOut
from shared.caller import MANAGERS, STAFF, STAFF_PORTAL
from shared.db.pages import DEFAULT_LIMIT
from shared.links import MAX_TOKEN
from shared.onboarding import documents, processes, tasks, templates, upload_links
from shared.onboarding.documents import DocumentFilters, DocumentOut, Rejection, Review
from shared.onboarding.model import Document, DocumentStatus, Process, ProcessStatus, Task, TaskStatus, Template
from shared.onboarding.processes import CompleteProcess, NewProcess, ProcessFilters, ProcessOut
from shared.onboarding.tasks import AssignTask, TaskFilters, TaskOut
from shared.onboarding.templates import TemplateIn, TemplateOut, TemplateUpdate
from shared.onboarding.upload_links import DocumentRequest
from shared.schemas import Date, PageOut

api = Api("onboarding")


# ---- templates ---------------------------------------------------------------------------------


@api.get("/onboarding/templates", roles=STAFF, summary="List onboarding templates, newest first")
def list_onboarding_templates(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> PageOut[TemplateOut]:
    return page_out(templates.page(api.caller(), limit=limit, cursor=cursor), TemplateOut)


@api.post("/onboarding/templates", roles=MANAGERS, summary="Create an onboarding template", responses={201: {}})
def create_onboarding_template(body: Annotated[TemplateIn, Body()]) -> Response[TemplateOut]:
    made = api.create_once(
        "CreateOnboardingTemplate", body, lambda: TemplateOut.of(templates.create(api.caller(), body))
    )
    return api.created(f"/onboarding/templates/{made['id']}", made)


@api.get("/onboarding/templates/<template_id>", roles=STAFF, summary="Get an onboarding template")
def get_onboarding_template(template_id: EntityId) -> Response[TemplateOut]:
    return tagged(TemplateOut.of(Template.load(api.caller(), template_id)))


@api.put(
    "/onboarding/templates/<template_id>", roles=MANAGERS, summary="Replace an onboarding template (optimistic locking)"
)
def replace_onboarding_template(
    template_id: EntityId, body: Annotated[TemplateUpdate, Body()]
) -> Response[TemplateOut]:
    return tagged(TemplateOut.of(templates.replace(api.caller(), template_id, body, api.if_match())))


@api.post(
    "/onboarding/templates/<template_id>/create-process",
    roles=STAFF,
    summary="Materialise the template into a client's process (a retry with the same Idempotency-Key: the same one)",
    responses={201: {}},
)
def create_onboarding_process(template_id: EntityId, body: Annotated[NewProcess, Body()]) -> Response[ProcessOut]:
    ctx = api.caller()
    process_id = processes.id_for(ctx, api.header("Idempotency-Key"))
    made = api.create_once(
        f"CreateOnboardingProcess:{template_id}",
        body,
        lambda: ProcessOut.of(processes.create(ctx, template_id, body, process_id=process_id)),
    )
    return api.created(f"/onboarding/processes/{made['id']}", made)


# ---- processes ---------------------------------------------------------------------------------


@api.get(
    "/onboarding/processes",
    roles=STAFF_PORTAL,
    summary="List onboarding processes, newest first (portal: the client's own)",
)
def list_onboarding_processes(
    status: Annotated[ProcessStatus | None, Query()] = None,
    client_id: IdFilter = None,
    owner_id: IdFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[ProcessOut]:
    filters = ProcessFilters(status=status, client_id=client_id, owner_id=owner_id)
    return page_out(processes.page(api.caller(), filters, limit=limit, cursor=cursor), ProcessOut)


@api.get("/onboarding/processes/<process_id>", roles=STAFF_PORTAL, summary="Get an onboarding process and its progress")
def get_onboarding_process(process_id: EntityId) -> Response[ProcessOut]:
    return tagged(ProcessOut.of(Process.load(api.caller(), process_id)))


@api.post("/onboarding/processes/<process_id>/start", roles=STAFF, summary="Start a process (welcomes the client)")
def start_onboarding_process(process_id: EntityId) -> Response[ProcessOut]:
    started = processes.start(api.caller(), process_id, api.if_match())
    metrics.add_metric("OnboardingStarted", MetricUnit.Count, 1)
    return tagged(ProcessOut.of(started))


@api.post(
    "/onboarding/processes/<process_id>/complete",
    roles=STAFF,
    summary="Complete a process (409 listing what is missing; a manager may force it)",
)
def complete_onboarding_process(process_id: EntityId, body: Annotated[CompleteProcess, Body()]) -> Response[ProcessOut]:
    completed = processes.complete(api.caller(), process_id, body, api.if_match())
    metrics.add_metric("OnboardingCompleted", MetricUnit.Count, 1)
    return tagged(ProcessOut.of(completed))


@api.post("/onboarding/processes/<process_id>/cancel", roles=STAFF, summary="Cancel a process")
def cancel_onboarding_process(process_id: EntityId) -> Response[ProcessOut]:
    return tagged(ProcessOut.of(processes.cancel(api.caller(), process_id, api.if_match())))


# ---- tasks -------------------------------------------------------------------------------------


@api.get(
    "/onboarding/tasks",
    roles=STAFF_PORTAL,
    summary="List onboarding tasks by due date (portal: the client's own to-dos)",
)
def list_onboarding_tasks(
    process_id: IdFilter = None,
    assignee_id: IdFilter = None,
    status: Annotated[TaskStatus | None, Query()] = None,
    due_from: Annotated[Date | None, Query()] = None,
    due_to: Annotated[Date | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[TaskOut]:
    filters = TaskFilters(
        process_id=process_id, assignee_id=assignee_id, status=status, due_from=due_from, due_to=due_to
    )
    return page_out(tasks.page(api.caller(), filters, limit=limit, cursor=cursor), TaskOut)


@api.get("/onboarding/tasks/<task_id>", roles=STAFF_PORTAL, summary="Get an onboarding task")
def get_onboarding_task(task_id: EntityId) -> Response[TaskOut]:
    return tagged(TaskOut.of(Task.load(api.caller(), task_id)))


@api.post(
    "/onboarding/tasks/<task_id>/complete", roles=STAFF_PORTAL, summary="Complete a task (portal: the client's own)"
)
def complete_onboarding_task(task_id: EntityId) -> Response[TaskOut]:
    return tagged(TaskOut.of(tasks.complete(api.caller(), task_id, api.if_match())))


@api.post("/onboarding/tasks/<task_id>/reopen", roles=STAFF_PORTAL, summary="Reopen a task (portal: the client's own)")
def reopen_onboarding_task(task_id: EntityId) -> Response[TaskOut]:
    return tagged(TaskOut.of(tasks.reopen(api.caller(), task_id, api.if_match())))


@api.post("/onboarding/tasks/<task_id>/skip", roles=STAFF, summary="Skip a task (it counts as done)")
def skip_onboarding_task(task_id: EntityId) -> Response[TaskOut]:
    return tagged(TaskOut.of(tasks.skip(api.caller(), task_id, api.if_match())))


@api.post("/onboarding/tasks/<task_id>/assign", roles=STAFF, summary="Assign a task to a staff user")
def assign_onboarding_task(task_id: EntityId, body: Annotated[AssignTask, Body()]) -> Response[TaskOut]:
    return tagged(TaskOut.of(tasks.assign(api.caller(), task_id, body, api.if_match())))


# ---- documents ---------------------------------------------------------------------------------


@api.get(
    "/onboarding/documents",
    roles=STAFF_PORTAL,
    summary="List document requests by due date (portal: the client's own)",
)
def list_onboarding_documents(
    process_id: IdFilter = None,
    client_id: IdFilter = None,
    status: Annotated[DocumentStatus | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[DocumentOut]:
    filters = DocumentFilters(process_id=process_id, client_id=client_id, status=status)
    return page_out(documents.page(api.caller(), filters, limit=limit, cursor=cursor), DocumentOut)


@api.get("/onboarding/documents/<document_id>", roles=STAFF_PORTAL, summary="Get a document request")
def get_onboarding_document(document_id: EntityId) -> Response[DocumentOut]:
    return tagged(DocumentOut.of(Document.load(api.caller(), document_id)))


@api.post(
    "/onboarding/documents/<document_id>/upload",
    roles=STAFF_PORTAL,
    s3=("sign-upload",),
    summary="Start an upload for a document: a presigned POST; the document is uploaded once the file scans clean",
    responses={201: {}},
)
def upload_onboarding_document(document_id: EntityId, body: Annotated[NewAttachment, Body()]) -> Response[UploadOut]:
    return _start_upload(document_id, body)


def _start_upload(document_id: str, body: NewAttachment) -> Response[UploadOut]:
    created = api.create_once(
        f"UploadOnboardingDocument:{document_id}", body, lambda: documents.upload(api.caller(), document_id, body)
    )
    metrics.add_metric("UploadsStarted", MetricUnit.Count, 1)
    return api.created(f"/attachments/{created['attachment']['id']}", created)


# ---- a document request by its emailed link (no sign-in) -----------------------------------------

LinkToken = Annotated[str, Query(max_length=MAX_TOKEN, description="The token of the emailed upload link.")]


def _link(document_id: str, token: str) -> None:
    """The verified upload link; from here on the request acts only as its tenant, as the link's caller."""
    ctx = upload_links.read(token, document_id)
    api.act_for(ctx.tenant_id, ctx)


@api.get(
    "/onboarding/documents/<document_id>/request",
    roles=None,
    summary="What an emailed upload link asks for: the document request and the files sent (no login: the token)",
)
def get_document_request_by_link(document_id: EntityId, token: LinkToken) -> DocumentRequest:
    _link(document_id, token)
    return upload_links.request(api.caller(), document_id)


@api.post(
    "/onboarding/documents/<document_id>/upload-by-link",
    roles=None,
    s3=("sign-upload",),
    summary="Start an upload through the emailed link: a presigned POST, judged like every upload (no login)",
    responses={201: {}},
)
def upload_onboarding_document_by_link(
    document_id: EntityId, token: LinkToken, body: Annotated[NewAttachment, Body()]
) -> Response[UploadOut]:
    _link(document_id, token)
    return _start_upload(document_id, body)


@api.get(
    "/onboarding/documents/<document_id>/files",
    roles=STAFF_PORTAL,
    summary="Every file uploaded for a document, newest first, with its scan status",
)
def list_onboarding_document_files(
    document_id: EntityId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[AttachmentOut]:
    return page_out(documents.files(api.caller(), document_id, limit=limit, cursor=cursor), AttachmentOut)


@api.post("/onboarding/documents/<document_id>/approve", roles=STAFF, summary="Approve an uploaded document")
def approve_onboarding_document(document_id: EntityId, body: Annotated[Review, Body()]) -> Response[DocumentOut]:
    return tagged(DocumentOut.of(documents.approve(api.caller(), document_id, body, api.if_match())))


@api.post(
    "/onboarding/documents/<document_id>/reject",
    roles=STAFF,
    summary="Reject an uploaded document with a note (the client uploads again)",
)
def reject_onboarding_document(document_id: EntityId, body: Annotated[Rejection, Body()]) -> Response[DocumentOut]:
    return tagged(DocumentOut.of(documents.reject(api.caller(), document_id, body, api.if_match())))


handler = api.handler
