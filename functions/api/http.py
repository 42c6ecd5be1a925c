"""What every API module shares: the resolver, role guard, problem rendering, idempotent creates.

Routes declare their roles with ``api.get(path, roles=...)``; the roles are enforced here and
published in the OpenAPI document (``x-deskos-roles``), which infra reads to build one function
per route with least privilege (``x-deskos-writes``).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import BaseModel

from shared import credentials, idempotency, sessions
from shared.errors import BadRequest, DomainError, NotFound, PayloadTooLarge, Unprocessable, UnsupportedMediaType
from shared.tenancy import Role, TenantContext

PROBLEM = "application/problem+json"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_BODY_BYTES = 256 * 1024  # far below API Gateway's 10 MB
MAX_JSON_DEPTH = 32  # DynamoDB's own limit on nested attributes
NOT_UTF8 = "The body is not valid UTF-8."
PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "title": "Problem",
        "description": "An RFC 9457 problem detail; a 422 lists what is wrong with each field in `errors`.",
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
        },
        "additionalProperties": True,  # e.g. current_status on a 409, retry_after on a 503
    },
    "FieldError": {
        "title": "FieldError",
        "type": "object",
        "required": ["field", "message"],
        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
    },
}

logger = Logger(service="deskos")
metrics = Metrics(namespace="DeskOS", service="deskos")


def problem(error: DomainError, headers: dict[str, str] | None = None) -> Response:
    return Response(error.status, PROBLEM, json.dumps(error.problem()), headers=headers)


def problem_statuses(operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer, read from what the operation is: every route answers
    problems the same way, so no route lists them by hand."""
    places = {p.get("in") for p in operation.get("parameters", [])}
    authenticated = "security" in operation
    writes = bool(operation.get("x-deskos-writes"))
    body = "requestBody" in operation
    statuses = {422} if places or body else set()
    if "path" in places or authenticated or writes:
        statuses.add(404)  # a missing item, another tenant's, another client's; an unknown reference
    if authenticated or writes:
        statuses |= {400, 503}  # a bad cursor or If-Match; storage busy (retry after a second)
    if authenticated:
        statuses |= {401, 403}  # 401 from the authorizer, before any function runs; 403 from the role guard
    if writes or "sign-download" in operation.get("x-deskos-s3", ()):
        statuses.add(409)  # lost races, stale If-Match versions, wrong states (a download: a file not clean)
    if body:
        statuses |= {400, 413, 415}  # not JSON or not UTF-8; over the gateway's body cap; not application/json
    return statuses


def document_problems(operation: dict[str, Any]) -> None:
    """Replace Powertools' own 422 with the RFC 9457 problems DeskOS really answers; a 204 has no body."""
    responses = operation.get("responses", {})
    responses.pop("422", None)
    if "204" in responses:
        responses["204"] = {"description": "No Content"}
    for status in problem_statuses(operation):
        responses[str(status)] = {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM: {"schema": {"$ref": PROBLEM_REF}}},
        }
    operation["responses"] = dict(sorted(responses.items()))


class Api:
    """The routes of one domain module and the resolver that serves them."""

    def __init__(self, title: str) -> None:
        self.app = APIGatewayRestResolver(enable_validation=True)
        self.app.exception_handler(DomainError)(self._domain_error)
        self.app.exception_handler(RequestValidationError)(self._invalid_request)
        self.app.exception_handler(RequestUnsupportedContentType)(
            lambda _e: problem(UnsupportedMediaType("Send the body as application/json."))
        )
        self.app.exception_handler(UnicodeDecodeError)(lambda _e: problem(BadRequest(NOT_UTF8)))
        self.app.exception_handler(NotFoundError)(lambda _e: problem(NotFound("No such endpoint.")))
        self.app.exception_handler(Exception)(self._bug)
        self.title = title
        self._roles: dict[tuple[str, str], frozenset[Role]] = {}
        self._profiles: dict[tuple[str, str], str] = {}  # the tenant-access profile of each route

    # ---- routes ----------------------------------------------------------------------------

    def route(
        self,
        method: str,
        path: str,
        *,
        roles: Iterable[Role] | None,
        writes: bool | None = None,
        s3: Iterable[str] = (),
        cognito: Iterable[str] = (),
        mail: bool = False,
        **options: Any,
    ) -> Callable:
        """``roles=None`` makes a public route (documentation); every other route needs a token.
        ``writes``: whether it writes the table (default: unless a GET/HEAD/OPTIONS).
        ``s3``: what the route does with the uploads bucket (``sign-upload``, ``sign-download``, ``delete``).
        ``cognito``: what it does with the user pool, as the function itself (``invite``, ``regroup``,
        ``disable``, ``enable``); ``mail``: whether it sends email itself."""
        allowed = frozenset(roles) if roles is not None else None
        self._roles[(method, path)] = allowed
        extensions: dict[str, Any] = {"x-deskos-writes": method not in READ_METHODS if writes is None else writes}
        self._profiles[(method, path)] = credentials.profile(extensions["x-deskos-writes"], s3)
        if s3:
            extensions["x-deskos-s3"] = sorted(s3)
        if cognito:
            extensions["x-deskos-cognito"] = sorted(cognito)
        if mail:
            extensions["x-deskos-mail"] = True
        if allowed is not None:
            extensions["x-deskos-roles"] = sorted(allowed)
            options.setdefault("security", [{"bearer": []}])
            options.setdefault("middlewares", []).insert(0, self._guard)
        options.setdefault("tags", [self.title])

        def register(func: Callable) -> Callable:
            operation_id = "".join(part.title() for part in func.__name__.split("_"))
            return self.app.route(path, method, operation_id=operation_id, openapi_extensions=extensions, **options)(
                func
            )

        return register

    def get(self, path: str, **kw: Any) -> Callable:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable:
        return self.route("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Callable:
        return self.route("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Callable:
        return self.route("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable:
        return self.route("DELETE", path, **kw)

    def openapi(self) -> dict[str, Any]:
        """This module's part of the API contract, as a plain dict."""
        # imported here: the OpenAPI models cost a cold start that only documentation needs
        from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

        security = {"bearer": HTTPBearer(bearerFormat="JWT", description="A Cognito id token.")}
        schema = self.app.get_openapi_schema(title="DeskOS API", version="1", security_schemes=security)
        document = json.loads(schema.model_dump_json(by_alias=True, exclude_none=True))
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                document_problems(operation)
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):  # Powertools' 422 shape; DeskOS answers problems
            schemas.pop(unused, None)
        schemas.update(PROBLEM_SCHEMAS)
        return document

    # ---- request state ---------------------------------------------------------------------

    def caller(self) -> TenantContext:
        return self.app.context["tenant"]

    def act_for(self, tenant_id: str) -> None:
        """From here to the end of the request, DynamoDB and S3 only as ``tenant_id`` (with the route's
        tenant-access role). Routes with roles get it from the token; a public route calls it once it has
        verified what names the tenant."""
        route = self.app.context["_route"]
        credentials.enter(tenant_id, self._profiles[(route.method, route.path)])

    def header(self, name: str) -> str | None:
        return self.app.current_event.get_header_value(name, case_sensitive=False)

    def if_match(self) -> int | None:
        raw = self.header("If-Match")
        if raw is None:
            return None
        digits = raw.removeprefix("W/").strip('"')
        if not re.fullmatch(r"[0-9]{1,10}", digits):
            raise BadRequest('If-Match must be the entity version, e.g. "3".')
        return int(digits)

    def created(self, location: str, body: dict[str, Any]) -> Response:
        return Response(201, "application/json", body, headers={"Location": location})

    def create_once(self, operation: str, body: BaseModel, make: Callable[[], BaseModel]) -> dict[str, Any]:
        """Run a create at most once per ``Idempotency-Key``: a retry gets the first result."""
        ctx = self.caller()
        key = self.header("Idempotency-Key")
        result = lambda: make().model_dump(mode="json")  # noqa: E731
        if key is None:
            return result()
        return idempotency.once(ctx, operation, key, body.model_dump(mode="json"), result)

    # ---- entry point -----------------------------------------------------------------------

    def handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        logger.set_correlation_id(event.get("requestContext", {}).get("requestId"))
        idempotency.register_invocation(context)
        refused = body_refusal(event)
        if refused is not None:
            return {
                "statusCode": refused.status,
                "multiValueHeaders": {"Content-Type": [PROBLEM]},
                "body": json.dumps(refused.problem()),
                "isBase64Encoded": False,
            }
        try:
            return self.app.resolve(event, context)
        finally:
            credentials.leave()
            if metrics.metric_set:
                metrics.flush_metrics()
            logger.remove_keys(["tenant_id", "user"])

    # ---- guards and errors -----------------------------------------------------------------

    def _authorize(self) -> TenantContext:
        route = self.app.context["_route"]
        allowed = self._roles.get((route.method, route.path))
        claims = (self.app.current_event.request_context.authorizer or {}).get("claims")
        ctx = TenantContext.from_claims(claims)
        if allowed is not None:
            ctx.require(allowed)
        self._require_json_body()
        logger.append_keys(tenant_id=ctx.tenant_id, user=ctx.user_id)
        self.app.append_context(tenant=ctx)
        return ctx

    def _require_json_body(self) -> None:
        # Powertools also parses form and multipart bodies; DeskOS speaks JSON only.
        event = self.app.current_event
        media_type = (self.header("Content-Type") or "application/json").split(";")[0].strip().lower()
        if event.body and media_type != "application/json":
            raise UnsupportedMediaType("Send the body as application/json.")

    def _guard(self, app: APIGatewayRestResolver, next_middleware: Callable) -> Response:
        ctx = self._authorize()
        self.act_for(ctx.tenant_id)
        sessions.refuse_revoked(ctx)
        return next_middleware(app)

    def _domain_error(self, error: DomainError) -> Response:
        headers = {"Retry-After": str(error.extra["retry_after"])} if "retry_after" in error.extra else None
        return problem(error, headers)

    def _invalid_request(self, error: RequestValidationError) -> Response:
        route = self.app.context.get("_route")
        if route is not None and self._roles.get((route.method, route.path)) is not None:
            try:
                self._authorize()  # who may not call the route learns nothing about its schema
            except DomainError as denied:
                return problem(denied)
        details = error.errors()
        if any(d.get("type") == "json_invalid" for d in details):
            return problem(BadRequest("The body is not valid JSON."))
        fields = [
            {"field": ".".join(str(p) for p in d.get("loc", ()) if p != "body") or "body", "message": d.get("msg", "")}
            for d in details
        ]
        return problem(Unprocessable("The request is invalid.", errors=fields))

    def _bug(self, error: Exception) -> Response:
        logger.exception("Unhandled error")
        body = {
            "type": "about:blank",
            "title": "Internal Server Error",
            "status": 500,
            "detail": "An unexpected error occurred; it has been logged.",
        }
        return Response(500, PROBLEM, json.dumps(body))


# ---- what no route accepts ---------------------------------------------------------------------


def body_refusal(event: dict[str, Any]) -> DomainError | None:
    """A body too large or too deeply nested for any route, refused before a parser or model sees it.

    Python's JSON parser gives up deep nesting with a RecursionError and very long numbers with a
    ValueError, neither of which is a JSONDecodeError: left to the resolver, both would be 500s."""
    body = event.get("body")
    if not body:
        return None
    if event.get("isBase64Encoded"):
        if len(body) * 3 // 4 - body[-2:].count("=") > MAX_BODY_BYTES:
            return PayloadTooLarge(f"Bodies are limited to {MAX_BODY_BYTES} bytes.", limit=MAX_BODY_BYTES)
        try:
            body = base64.b64decode(body).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return BadRequest(NOT_UTF8)
    elif len(body) > MAX_BODY_BYTES or (len(body) * 4 > MAX_BODY_BYTES and len(body.encode()) > MAX_BODY_BYTES):
        return PayloadTooLarge(f"Bodies are limited to {MAX_BODY_BYTES} bytes.", limit=MAX_BODY_BYTES)
    try:
        document = json.loads(body)
    except json.JSONDecodeError:
        return None  # the resolver reports invalid JSON (and a body sent as another media type) itself
    except RecursionError:
        return BadRequest(f"JSON may nest at most {MAX_JSON_DEPTH} levels deep.")
    except ValueError:
        return BadRequest("The body holds a number too long to read.")
    if _depth_exceeds(document, MAX_JSON_DEPTH):
        return BadRequest(f"JSON may nest at most {MAX_JSON_DEPTH} levels deep.")
    return None


def _depth_exceeds(document: Any, limit: int) -> bool:
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False
