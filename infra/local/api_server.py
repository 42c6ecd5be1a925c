"""The local API: Chalice's local server serving every route of the catalog.

Each request goes to the same Lambda handler the cloud runs, with the event API Gateway would send
and behind a Cognito-style authorizer. Where Chalice local differs from API Gateway in ways the
handlers or clients would notice (the event's shape, 404 for unknown paths, the body size cap,
problem+json on gateway errors), this module closes the gap.
"""

from __future__ import annotations

import base64
import copy
import importlib
import importlib.util
import json
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from chalice import AuthResponse, Response
from chalice.app import AuthRequest
from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
    NotAuthorizedError,
    RouteMatcher,
    ThreadedHTTPServer,
)

from functions.api import catalog
from functions.api.catalog import Route
from functions.api.core.limits import MAX_BODY_BYTES
from functions.api.core.problems import PROBLEM
from infra.local.authorizer import InvalidToken, KeysUnavailable, TokenVerifier
from infra.local.lambda_context import LambdaContext
from infra.local.web_app import WebApp
from shared.errors import (
    BadRequest,
    DomainError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    Unavailable,
)

CHALICE_JSON = Path(__file__).resolve().parents[2] / "chalice.json"
CHALICE_STAGE = "local"
DRAIN_LIMIT_BYTES = 10 * 1024 * 1024  # a refused body up to API Gateway's limit is read so the answer arrives
LOCAL_ACCOUNT_ID = "000000000000"
LOCAL_API_ID = "deskoslocal"
HEALTH_PATH = "/health"
CONTAINERS_PER_MODULE = 10  # concurrent requests one handler module serves, as Lambda scales a function out


@dataclass
class LocalApi:
    url: str
    _server: LocalDevServer
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server.server_close()
        self._thread.join(timeout=5)


def start_api(
    *,
    host: str,
    port: int,
    endpoint_url: str,
    region: str,
    user_pool_id: str,
    client_id: str,
    health: Callable[[], dict[str, Any]] | None = None,
    web_app: WebApp | None = None,
) -> LocalApi:
    """Serve the API on ``host:port`` (0 picks a free port) in a daemon thread; the socket is bound on return.
    ``health``: what ``GET /health`` answers (the local cloud's own state; not an API operation); ``web_app``:
    what ``/app/`` serves (the web app, as CloudFront serves it in the cloud)."""
    config = load_config()
    overrides = {"AWS_REGION": region, "AWS_DEFAULT_REGION": region, "AWS_ENDPOINT_URL": endpoint_url}
    apply_environment(config, {**overrides, "DESKOS_USER_POOL_ID": user_pool_id})
    verifier = TokenVerifier.for_pool(
        endpoint_url=endpoint_url, region=region, user_pool_id=user_pool_id, client_id=client_id
    )
    app = build_app(config, verifier, region=region)
    if health is not None:
        app.route(HEALTH_PATH, methods=["GET"], name="LocalHealth")(
            lambda: Response(json.dumps(health()), headers={"Content-Type": "application/json"}, status_code=200)
        )
    server = LocalDevServer(app, config, host, port, handler_cls=GatewayRequestHandler, server_cls=ApiHttpServer)
    server.server.web_app = web_app
    thread = threading.Thread(target=server.server.serve_forever, name="deskos-local-api", daemon=True)
    thread.start()
    bound_host, bound_port = server.server.server_address[:2]
    return LocalApi(url=f"http://{bound_host}:{bound_port}", _server=server, _thread=thread)


class ApiHttpServer(ThreadedHTTPServer):
    """Chalice's threaded server with a listen backlog of 128 (werkzeug's, so moto's) instead of
    socketserver's 5: when many clients connect at once while the accepting thread waits for the GIL,
    a connection the kernel could not queue is reset at the client's first request."""

    request_queue_size = 128
    web_app: WebApp | None = None


def load_config(path: Path = CHALICE_JSON) -> Config:
    return Config(chalice_stage=CHALICE_STAGE, config_from_disk=json.loads(path.read_text(encoding="utf-8")))


def apply_environment(config: Config, overrides: Mapping[str, str]) -> None:
    """What Lambda would give each function; a variable the caller already set is left alone."""
    for name, value in {**config.environment_variables, **overrides}.items():
        os.environ.setdefault(name, str(value))


def build_app(config: Config, verifier: TokenVerifier, *, region: str) -> LocalChalice:
    # LocalChalice keeps current_request per thread: the server answers requests concurrently.
    app = LocalChalice(app_name=config.app_name, configure_logs=False)
    app.api.binary_types = []  # bodies reach handlers as text and responses leave as handlers made them

    @app.authorizer()
    def cognito(auth_request: AuthRequest) -> AuthResponse:
        try:
            claims = verifier.verify(auth_request.token)
        except InvalidToken as error:
            raise unauthorized(str(error)) from error
        except KeysUnavailable as error:
            raise gateway_error(
                AuthorizerUnavailable, Unavailable("The token signing keys are unavailable.")
            ) from error
        return AuthResponse(routes=["*"], principal_id=claims["sub"], context={"claims": claims})

    keep_requests_per_thread()
    routes = catalog.routes()
    containers = {route.module: Containers(route.module) for route in routes}
    for route in routes:
        app.route(
            route.path,
            methods=[route.method],
            name=route.operation_id,
            authorizer=cognito if route.roles is not None else None,
            content_types=["*/*"],  # the handler, not Chalice, judges the body and answers 400/415/422
        )(_forwarder(app, route, containers[route.module], config, region))
    return app


class _PerThread:
    """An attribute whose value each thread sets and reads for itself."""

    def __init__(self, name: str) -> None:
        self.name, self._values = name, threading.local()

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        try:
            return self._values.value
        except AttributeError:
            raise AttributeError(self.name) from None

    def __set__(self, instance: object, value: Any) -> None:
        self._values.value = value


class _PerThreadCopy:
    """An instance attribute each thread keeps a copy of, starting from the value the instance was given
    outside any request (at its creation, plus what was added to it in place there)."""

    def __init__(self, name: str) -> None:
        self.name, self._values = name, threading.local()

    def _mine(self) -> weakref.WeakKeyDictionary:
        if not hasattr(self._values, "by_instance"):
            self._values.by_instance = weakref.WeakKeyDictionary()
        return self._values.by_instance

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        mine = self._mine()
        if instance not in mine:
            mine[instance] = copy.copy(instance.__dict__[self.name])
        return mine[instance]

    def __set__(self, instance: object, value: Any) -> None:
        instance.__dict__.setdefault(self.name, value)
        self._mine()[instance] = value


def keep_requests_per_thread() -> None:
    """Powertools keeps the request it serves in process-wide state, which is one per request in a Lambda
    container. This server answers requests concurrently in threads of one process, so that state is made
    per thread:

    - the resolvers' ``current_event`` and ``lambda_context``, attributes of their common base class
      (``BaseRouter.current_event = ...``), for class and instance reads and writes alike; without it a
      handler may serve another request's event (found by bench/load.py: creates answered with another
      user's ticket, 409 "still in progress", 404 on one's own ticket);
    - the Logger's keys (the Lambda context, the correlation id, the tenant), which its formatter keeps in
      ``log_format``: each request's log lines carry its own."""
    if isinstance(type(BaseRouter).__dict__.get("current_event"), _PerThread):
        return
    attributes = {name: _PerThread(name) for name in ("current_event", "lambda_context")}
    for name, attribute in attributes.items():
        setattr(BaseRouter, name, attribute)  # read through instances (``self.current_event``)
    # ... and through the class, where a data descriptor of the metaclass takes the class's reads and writes
    BaseRouter.__class__ = type("PerThreadRouterMeta", (type(BaseRouter),), attributes)
    LambdaPowertoolsFormatter.log_format = _PerThreadCopy("log_format")


class Containers:
    """The warm copies of one handler module, as Lambda keeps warm containers of a function.

    A module's resolver holds the request it serves, so a copy serves one request at a time. A request
    takes an idle copy, or starts one while fewer than ``limit`` exist (a cold start: the module is
    executed afresh; unlike in the cloud, the copies share ``shared/`` and its cached AWS clients),
    else waits for one. The first copy is the imported module itself: requests one at a time always
    meet the module the tests see."""

    def __init__(self, module: str, limit: int = CONTAINERS_PER_MODULE) -> None:
        self.module, self.limit = module, limit
        self._idle: list[ModuleType] = []
        self._started = 0
        self._changed = threading.Condition()

    @contextmanager
    def take(self) -> Iterator[ModuleType]:
        with self._changed:
            while not self._idle and self._started >= self.limit:
                self._changed.wait()
            container, first = (self._idle.pop(), False) if self._idle else (None, self._started == 0)
            if container is None:
                self._started += 1
        if container is None:
            try:
                container = importlib.import_module(self.module) if first else self._cold_start()
            except BaseException:
                with self._changed:
                    self._started -= 1
                    self._changed.notify()
                raise
        try:
            yield container
        finally:
            with self._changed:
                self._idle.append(container)
                self._changed.notify()

    def _cold_start(self) -> ModuleType:
        spec = importlib.util.find_spec(self.module)
        assert spec is not None and spec.loader is not None, self.module
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


def _forwarder(
    app: LocalChalice, route: Route, containers: Containers, config: Config, region: str
) -> Callable[..., Response]:
    function_name = f"{config.app_name}-{config.chalice_stage}-{route.operation_id}"
    handler_name = route.handler.rpartition(".")[2]

    def forward(**_path_parameters: str) -> Response:
        request_id = str(uuid.uuid4())
        event = api_gateway_event(
            app.current_request.to_original_event(), route, stage=config.api_gateway_stage, request_id=request_id
        )
        context = LambdaContext(
            function_name=function_name,
            memory_limit_in_mb=config.lambda_memory_size,
            timeout_ms=config.lambda_timeout * 1000,
            region=region,
            account_id=LOCAL_ACCOUNT_ID,
        )
        with containers.take() as container:
            proxy = getattr(container, handler_name)(event, context)
        response = chalice_response(proxy)
        response.headers.setdefault("x-amzn-RequestId", request_id)
        return response

    return forward


# ---- API Gateway's event and response shapes -------------------------------------------------


def api_gateway_event(chalice_event: Mapping[str, Any], route: Route, *, stage: str, request_id: str) -> dict:
    """Chalice local's event completed into what API Gateway sends a REST proxy integration."""
    headers = dict(chalice_event.get("headers") or {})
    path = chalice_event["requestContext"]["path"].rstrip("/") or "/"  # API Gateway ignores a trailing slash
    multi_query = chalice_event.get("multiValueQueryStringParameters") or None
    body, is_base64 = _body_text(chalice_event.get("body"))
    request_context = {
        **chalice_event["requestContext"],  # keeps the authorizer's claims and the caller's identity
        "accountId": LOCAL_ACCOUNT_ID,
        "apiId": LOCAL_API_ID,
        "domainName": headers.get("host", "localhost"),
        "httpMethod": route.method,
        "path": f"/{stage}{path}",
        "protocol": "HTTP/1.1",
        "requestId": request_id,
        "requestTimeEpoch": int(time.time() * 1000),
        "resourcePath": route.path,
        "stage": stage,
    }
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": route.method,
        "headers": headers,
        # Chalice local keeps one value per header; API Gateway lists every value here.
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} if multi_query else None,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters(route.path, path),
        "stageVariables": None,
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def path_parameters(template: str, path: str) -> dict[str, str] | None:
    """Read from the path itself: Chalice's matcher can leave captures of routes it tried first; decoded,
    as API Gateway hands them over (the event's ``path`` keeps the encoding, as API Gateway's does)."""
    found = {
        name[1:-1]: unquote(part)
        for name, part in zip(template.split("/"), path.split("/"), strict=True)
        if name.startswith("{")
    }
    return found or None


def _body_text(raw: bytes | None) -> tuple[str | None, bool]:
    if not raw:
        return None, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), True


def chalice_response(proxy: Mapping[str, Any]) -> Response:
    """A Lambda proxy response as a Chalice response, headers merged the way API Gateway merges them."""
    merged: dict[str, tuple[str, list[str]]] = {}
    for name, value in (proxy.get("headers") or {}).items():
        merged[name.lower()] = (name, [str(value)])
    for name, values in (proxy.get("multiValueHeaders") or {}).items():
        if values:
            merged[name.lower()] = (name, [str(v) for v in values])  # multi-value wins, as in API Gateway
    # Chalice's server looks the content type up under this exact name, as a single value.
    _, content_types = merged.pop("content-type", ("", ["application/json"]))
    headers: dict[str, Any] = {name: values[0] if len(values) == 1 else values for name, values in merged.values()}
    headers["Content-Type"] = content_types[-1]
    body = proxy.get("body") or ""
    if proxy.get("isBase64Encoded"):
        body = base64.b64decode(body)
    return Response(body=body, headers=headers, status_code=int(proxy["statusCode"]))


# ---- the gateway's own answers ---------------------------------------------------------------


class RouteNotFound(LocalGatewayException):
    CODE = 404


class BodyTooLarge(LocalGatewayException):
    CODE = 413


class MethodRefused(LocalGatewayException):
    CODE = 405


class MalformedRequest(LocalGatewayException):
    CODE = 400


class AuthorizerUnavailable(LocalGatewayException):
    CODE = 503


def gateway_error(
    kind: type[LocalGatewayException], problem: DomainError, headers: Mapping[str, str] | None = None
) -> LocalGatewayException:
    return kind({**(headers or {}), "Content-Type": PROBLEM}, json.dumps(problem.problem()).encode())


def unauthorized(detail: str) -> LocalGatewayException:
    return gateway_error(NotAuthorizedError, Unauthorized(detail), {"WWW-Authenticate": "Bearer"})


class GatewayRequestHandler(ChaliceRequestHandler):
    """Chalice's request handler plus the edge checks API Gateway makes before any Lambda runs."""

    def __init__(self, request: Any, client_address: Any, server: Any, app_object: LocalChalice, config: Config):
        # Set before the base class runs: it serves the request from its constructor.
        self._routes = app_object.routes
        self._matcher = RouteMatcher(list(app_object.routes))
        super().__init__(request, client_address, server, app_object=app_object, config=config)

    def _generic_handle(self) -> None:
        web_app = self.server.web_app
        if web_app is not None and self.command in ("GET", "HEAD") and web_app.serves(self.path):
            self._serve(web_app.answer(self.path))
            return
        refusal = self._refusal()
        if refusal is None:
            super()._generic_handle()
        else:
            self._send_error_response(refusal)

    # The base class binds its own _generic_handle to these names, so they are rebound here.
    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, CONNECT, PROPFIND…) would get http.server's 501 HTML page: no route
        # takes it, so it is refused like a method a path does not route.
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    def _refusal(self) -> LocalGatewayException | None:
        try:
            length = int(self.headers.get("content-length", "0"))
        except ValueError:
            self.close_connection = True  # without a length the rest of the stream cannot be framed
            return gateway_error(MalformedRequest, BadRequest("Content-Length must be a number."))
        if length > MAX_BODY_BYTES:
            self._discard_body(length)
            return gateway_error(BodyTooLarge, PayloadTooLarge(f"Bodies are limited to {MAX_BODY_BYTES} bytes."))
        try:
            methods = self._routes[self._matcher.match_route(self.path).route]
        except ValueError:
            self._discard_body(length)
            return gateway_error(RouteNotFound, NotFound("No such endpoint."))
        # OPTIONS goes on to Chalice, which answers CORS preflights for any known path.
        if self.command != "OPTIONS" and self.command not in methods:
            self._discard_body(length)
            allowed = ", ".join(sorted(methods))
            refusal = MethodNotAllowed(f"{self.command} is not a method of this path; it takes {allowed}.")
            return gateway_error(MethodRefused, refusal, {"Allow": allowed})
        return None

    def _serve(self, answer: Any) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    def _discard_body(self, length: int) -> None:
        if length > DRAIN_LIMIT_BYTES:
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 64 * 1024))
            if not chunk:
                break
            length -= len(chunk)

    def _send_http_response_with_body(self, code: int, headers: dict[str, Any], body: str | bytes) -> None:
        if self.command != "HEAD":
            super()._send_http_response_with_body(code, headers, body)
            return
        # HTTP forbids a body in a HEAD answer: a kept-alive client would read it as the next answer.
        self.send_response(code)
        self.send_header("Content-Length", str(len(body.encode() if isinstance(body, str) else body)))
        self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
        self._send_headers(headers)

    def _send_error_response(self, error: LocalGatewayException) -> None:
        # Chalice refuses a request without an Authorization header itself, with a non-problem body.
        if isinstance(error, NotAuthorizedError) and error.headers.get("Content-Type") != PROBLEM:
            error = unauthorized("A bearer token is required.")
        super()._send_error_response(error)
