"""The resolver of one API domain module: its routes, their role guard, the request's state, the entry point.

Routes declare their roles with ``api.get(path, roles=...)``; the roles are enforced here and
published in the OpenAPI document (``x-deskos-roles``), which infra reads to build one function
per route with least privilege (``x-deskos-writes``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from pydantic import BaseModel

from functions.api.core import snapstart
from functions.api.core.limits import NOT_UTF8, body_refusal
from functions.api.core.observability import annotate_tenant, logger, observed
from functions.api.core.problems import PROBLEM, PROBLEM_SCHEMAS, document_problems, internal_error, problem
from shared import credentials, sessions
from shared.caller import Role, TenantContext
from shared.errors import BadRequest, DomainError, NotFound, Unprocessable, UnsupportedMediaType
from shared.settings import require_settings

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
        # Powertools validates (and so parses the body) before any route middleware: who may not call a
        # route must be refused before that, and a body DeskOS cannot read refused before a parser sees it.
        validate = self.app._request_validation_middleware
        self.app._request_validation_middleware = lambda app, next_: self._admit(app, lambda a: validate(a, next_))
        self.title = title
        self.handler = observed(self._serve)  # the function's entry point
        self._roles: dict[tuple[str, str], frozenset[Role]] = {}
        self._profiles: dict[tuple[str, str], str] = {}  # the tenant-access profile of each route
        self._forms: set[tuple[str, str]] = set()  # routes that also take a form body (``route(forms=True)``)
        snapstart.enable(self)

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
        forms: bool = False,
        **options: Any,
    ) -> Callable:
        """``roles=None`` makes a public route (documentation); every other route needs a token.
        ``writes``: whether it writes the table (default: unless a GET/HEAD/OPTIONS).
        ``s3``: what the route does with the uploads bucket (``sign-upload``, ``sign-download``, ``delete``).
        ``cognito``: what it does with the user pool, as the function itself (``invite``, ``regroup``,
        ``disable``, ``enable``); ``mail``: whether it sends email itself. ``forms``: the one exception to JSON
        bodies, for a public route that mail clients POST an HTML form body to (RFC 8058 one-click unsubscribe:
        ``List-Unsubscribe=One-Click``); the route reads no body, so no form parser ever runs."""
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
        if forms:
            if allowed is not None or method != "POST":
                raise ValueError("only a public POST route may take a form body")
            self._forms.add((method, path))
            extensions["x-deskos-form-body"] = True
        if allowed is not None:
            extensions["x-deskos-roles"] = sorted(allowed)
            options.setdefault("security", [{"bearer": []}])
        options.setdefault("tags", [self.title])

        def register(func: Callable) -> Callable:
            operation_id = "".join(part.title() for part in func.__name__.split("_"))
            return self.app.route(path, method, operation_id=operation_id, openapi_extensions=extensions, **options)(
                func
            )

        return register

    def authenticated_routes(self) -> list[tuple[str, str]]:
        """(method, path) of every route that needs a token."""
        return [route for route, roles in self._roles.items() if roles is not None]

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
        # Powertools' 422 shapes (request and response validation); DeskOS answers problems
        for unused in ("HTTPValidationError", "ResponseValidationError", "ValidationError"):
            schemas.pop(unused, None)
        schemas.update(PROBLEM_SCHEMAS)
        return document

    # ---- request state ---------------------------------------------------------------------

    def caller(self) -> TenantContext:
        return self.app.context["tenant"]

    def act_for(self, tenant_id: str, caller: TenantContext | None = None) -> None:
        """From here to the end of the request, DynamoDB and S3 only as ``tenant_id`` (with the route's
        tenant-access role). Routes with roles get it from the token; a public route calls it once it has
        verified what names the tenant, with the ``caller`` its link stands for if it has one (``caller()``,
        ``create_once``)."""
        if caller is not None:
            self.app.context["tenant"] = caller
        route = self.app.context["_route"]
        credentials.enter(tenant_id, self._profiles[(route.method, route.path)])
        annotate_tenant(tenant_id)

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
        # imported here: Powertools idempotency brings boto3, which no other part of a request needs
        from shared import idempotency

        payload = body.model_dump(mode="json")
        return idempotency.once(ctx, operation, key, payload, result, invocation=self.app.lambda_context)

    # ---- entry point -----------------------------------------------------------------------

    def _serve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        require_settings()  # outside the resolver: a misconfigured function fails, it does not answer a 500
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

    # ---- guards and errors -----------------------------------------------------------------

    def _admit(self, app: APIGatewayRestResolver, next_middleware: Callable) -> Response:
        """Before the request is validated: the caller's role, then the media type of the body; path
        parameters as API Gateway hands them over (decoded), not as the path spells them."""
        route = app.context["_route"]
        allowed = self._roles.get((route.method, route.path))
        if allowed is not None:
            ctx = TenantContext.from_claims((app.current_event.request_context.authorizer or {}).get("claims"))
            ctx.require(allowed)
            annotate_tenant(ctx.tenant_id)
            logger.append_keys(user=ctx.user_id)
            app.append_context(tenant=ctx)
            self.act_for(ctx.tenant_id)
            sessions.refuse_revoked(ctx)
        self._require_json_body(bool(route.dependant.body_params), (route.method, route.path) in self._forms)
        args = app.context["_route_args"]
        app.context["_route_args"] = {k: unquote(v) if isinstance(v, str) else v for k, v in args.items()}
        return next_middleware(app)

    def _require_json_body(self, takes_body: bool, forms: bool = False) -> None:
        # Powertools also parses form and multipart bodies (a multipart type without a boundary raises a
        # ValueError); DeskOS speaks JSON only. A missing Content-Type is read as JSON, as Powertools does.
        media_type = (self.header("Content-Type") or "application/json").split(";")[0].strip().lower()
        if forms and media_type == "application/x-www-form-urlencoded":
            return  # the route reads no body: nothing parses it
        if (takes_body or self.app.current_event.body) and media_type != "application/json":
            raise UnsupportedMediaType("Send the body as application/json.")

    def _domain_error(self, error: DomainError) -> Response:
        headers = {"Retry-After": str(error.extra["retry_after"])} if "retry_after" in error.extra else None
        return problem(error, headers)

    def _invalid_request(self, error: RequestValidationError) -> Response:
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
        return internal_error()
