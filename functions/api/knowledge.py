"""The knowledge base: /knowledge/items… (staff write; portal users read published public items), versions,
review and publishing, search and suggestions, attachments.

Bodies render to HTML (markdown-it-py, nh3) only in the routes that answer one: the libraries are imported
there (``shared.knowledge.rendering``), so the other routes' functions start without them."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.metrics import MetricUnit

from functions.api.core import Api, metrics
from functions.api.core.params import Cursor, EntityId, Limit
from functions.api.core.responses import page_out, tagged
from shared.attachments import service as attachments
from shared.attachments.service import AttachmentOut, NewAttachment, Owner, UploadOut
from shared.caller import STAFF, STAFF_PORTAL
from shared.db.pages import DEFAULT_LIMIT
from shared.knowledge import items, reviews, search
from shared.knowledge.model import Kind, Status
from shared.knowledge.schemas import (
    ChangesRequested,
    Decision,
    ItemEdit,
    ItemOut,
    ItemSummaryOut,
    NewItem,
    Restore,
    ReviewEventOut,
    SearchOut,
    SearchQuery,
    Submit,
    SuggestionOut,
    VersionOut,
    VersionSummaryOut,
)
from shared.schemas import MAX_VERSION, PageOut

api = Api("knowledge")

VersionNumber = Annotated[int, Path(ge=1, le=MAX_VERSION, description="A version's number (1, 2, …).")]
Category = Annotated[str | None, Query(min_length=1, max_length=100)]
TagFilter = Annotated[str | None, Query(min_length=1, max_length=50)]


# ---- items -------------------------------------------------------------------------------------


@api.get(
    "/knowledge/items",
    roles=STAFF_PORTAL,
    summary="List items, newest first (portal: published public items); filters narrow the page",
)
def list_knowledge_items(
    status: Annotated[Status | None, Query()] = None,
    kind: Annotated[Kind | None, Query()] = None,
    category: Category = None,
    tag: TagFilter = None,
    due_for_review: Annotated[bool, Query(description="Only items whose verification is due (soonest first).")] = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[ItemSummaryOut]:
    filters = items.Filters(status, kind, category, tag, due_for_review)
    return page_out(items.page(api.caller(), filters, limit=limit, cursor=cursor), ItemSummaryOut)


@api.post("/knowledge/items", roles=STAFF, summary="Write an item: version 1, a draft", responses={201: {}})
def create_knowledge_item(body: Annotated[NewItem, Body()]) -> Response[ItemOut]:
    made = api.create_once("CreateKnowledgeItem", body, lambda: ItemOut.of(items.create(api.caller(), body)))
    metrics.add_metric("KnowledgeItemsCreated", MetricUnit.Count, 1)
    return api.created(f"/knowledge/items/{made['id']}", made)


@api.get("/knowledge/items/<item_id>", roles=STAFF_PORTAL, summary="Get an item (portal: its published version)")
def get_knowledge_item(item_id: EntityId) -> Response[ItemOut]:
    return tagged(ItemOut.of(items.read(api.caller(), item_id)))


@api.patch(
    "/knowledge/items/<item_id>",
    roles=STAFF,
    summary="Edit an item: content makes a new version (a draft; the published one stays live); settings do not",
)
def update_knowledge_item(item_id: EntityId, body: Annotated[ItemEdit, Body()]) -> Response[ItemOut]:
    return tagged(ItemOut.of(items.edit(api.caller(), item_id, body, api.if_match())))


@api.post("/knowledge/items/<item_id>/archive", roles=STAFF, summary="Archive an item (it leaves the portal at once)")
def archive_knowledge_item(item_id: EntityId) -> Response[ItemOut]:
    return tagged(ItemOut.of(items.archive(api.caller(), item_id, api.if_match())))


@api.post("/knowledge/items/<item_id>/unarchive", roles=STAFF, summary="Unarchive an item, as a draft")
def unarchive_knowledge_item(item_id: EntityId) -> Response[ItemOut]:
    return tagged(ItemOut.of(items.unarchive(api.caller(), item_id, api.if_match())))


@api.post(
    "/knowledge/items/<item_id>/verify",
    roles=STAFF,
    summary="Confirm an item is still right: its next review falls due a whole interval from now",
)
def verify_knowledge_item(item_id: EntityId) -> Response[ItemOut]:
    return tagged(ItemOut.of(items.verify(api.caller(), item_id, api.if_match())))


# ---- versions ----------------------------------------------------------------------------------


@api.get("/knowledge/items/<item_id>/versions", roles=STAFF, summary="List an item's versions, newest first")
def list_knowledge_versions(
    item_id: EntityId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[VersionSummaryOut]:
    return page_out(items.versions(api.caller(), item_id, limit=limit, cursor=cursor), VersionSummaryOut)


@api.get(
    "/knowledge/items/<item_id>/versions/<version_number>",
    roles=STAFF,
    summary="Get a version; with ?against=n, the changes from version n to it (unified and structured)",
)
def get_knowledge_version(
    item_id: EntityId,
    version_number: VersionNumber,
    against: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None,
) -> VersionOut:
    return items.version_with_diff(api.caller(), item_id, version_number, against)


@api.post(
    "/knowledge/items/<item_id>/versions/<version_number>/restore",
    roles=STAFF,
    summary="Restore a version: a new version with its content, a draft",
)
def restore_knowledge_version(
    item_id: EntityId, version_number: VersionNumber, body: Annotated[Restore, Body()]
) -> Response[ItemOut]:
    return tagged(ItemOut.of(items.restore(api.caller(), item_id, version_number, body, api.if_match())))


# ---- review and publishing ---------------------------------------------------------------------


@api.post(
    "/knowledge/items/<item_id>/submit",
    roles=STAFF,
    summary="Submit the current version for review by staff users, in order (the first is emailed)",
)
def submit_knowledge_item(item_id: EntityId, body: Annotated[Submit, Body()]) -> Response[ItemOut]:
    return tagged(ItemOut.of(reviews.submit(api.caller(), item_id, body, api.if_match())))


@api.post(
    "/knowledge/items/<item_id>/approve",
    roles=STAFF,
    summary="Approve, as the reviewer whose turn it is (409 otherwise); the next reviewer is emailed",
)
def approve_knowledge_item(item_id: EntityId, body: Annotated[Decision, Body()]) -> Response[ItemOut]:
    return tagged(ItemOut.of(reviews.approve(api.caller(), item_id, body, api.if_match())))


@api.post(
    "/knowledge/items/<item_id>/request-changes",
    roles=STAFF,
    summary="Request changes, as the reviewer whose turn it is: the item goes back to draft",
)
def request_knowledge_changes(item_id: EntityId, body: Annotated[ChangesRequested, Body()]) -> Response[ItemOut]:
    return tagged(ItemOut.of(reviews.request_changes(api.caller(), item_id, body, api.if_match())))


@api.post(
    "/knowledge/items/<item_id>/publish",
    roles=STAFF,
    summary="Publish the current version (a manager; or the owner, once approved)",
)
def publish_knowledge_item(item_id: EntityId) -> Response[ItemOut]:
    item = reviews.publish(api.caller(), item_id, api.if_match())
    metrics.add_metric("KnowledgeItemsPublished", MetricUnit.Count, 1)
    return tagged(ItemOut.of(item))


@api.get("/knowledge/items/<item_id>/reviews", roles=STAFF, summary="The item's review and publishing history")
def list_knowledge_reviews(
    item_id: EntityId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[ReviewEventOut]:
    return page_out(items.history(api.caller(), item_id, limit=limit, cursor=cursor), ReviewEventOut)


# ---- search ------------------------------------------------------------------------------------


@api.get(
    "/knowledge/search",
    roles=STAFF_PORTAL,
    summary="Ranked full-text search (portal: published public items), with highlighted snippets",
)
def search_knowledge(
    q: Annotated[SearchQuery, Query()],
    kind: Annotated[Kind | None, Query()] = None,
    category: Category = None,
    tag: TagFilter = None,
    status: Annotated[Status | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SearchOut:
    found = search.search(api.caller(), q, search.Filters(kind, category, tag, status), limit=limit)
    return SearchOut(items=found.hits, terms=found.terms)


@api.get(
    "/knowledge/suggest",
    roles=STAFF_PORTAL,
    summary="The five best published public items for a ticket subject being typed",
)
def suggest_knowledge(q: Annotated[SearchQuery, Query()]) -> SuggestionOut:
    return SuggestionOut(items=search.suggest(api.caller(), q).hits)


# ---- attachments -------------------------------------------------------------------------------


def item_owner(item_id: str) -> Owner:
    """Staff: any item of the tenant; portal users: a published public one (else 404)."""
    items.read(api.caller(), item_id)
    return Owner(kind="knowledge_item", id=item_id)


@api.post(
    "/knowledge/items/<item_id>/attachments",
    roles=STAFF,
    s3=("sign-upload",),
    summary="Start an upload to an item: a presigned POST (is_public: portal users may download it once published)",
    responses={201: {}},
)
def create_knowledge_attachment(item_id: EntityId, body: Annotated[NewAttachment, Body()]) -> Response[UploadOut]:
    owner = item_owner(item_id)
    key = f"CreateKnowledgeAttachment:{item_id}"
    created = api.create_once(key, body, lambda: attachments.create(api.caller(), owner, body))
    metrics.add_metric("UploadsStarted", MetricUnit.Count, 1)
    return api.created(f"/attachments/{created['attachment']['id']}", created)


@api.get(
    "/knowledge/items/<item_id>/attachments",
    roles=STAFF_PORTAL,
    summary="List an item's attachments (portal: the public ones of a published public item)",
)
def list_knowledge_attachments(
    item_id: EntityId, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PageOut[AttachmentOut]:
    owner = item_owner(item_id)
    return page_out(attachments.page(api.caller(), owner, limit=limit, cursor=cursor), AttachmentOut)


handler = api.handler
