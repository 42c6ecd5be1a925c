"""The local API serving requests concurrently: warm copies of a handler module, as Lambda scales a
function out, and each thread's own request in Powertools' resolvers (no server here)."""

import importlib
import json
import threading
from pathlib import Path

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from infra.local.api_server import Containers, keep_requests_per_thread

MODULE = "functions.api.me"


def test_a_busy_module_starts_a_copy_of_its_own_and_a_free_copy_is_reused():
    # Given a module whose first copy is busy, When a second request arrives
    containers = Containers(MODULE, limit=2)
    with containers.take() as first, containers.take() as second:
        # Then it gets a fresh copy with its own resolver, while the first is the imported module
        assert first is importlib.import_module(MODULE)
        assert second is not first and second.api is not first.api
    # and a later request reuses a warm copy
    with containers.take() as later:
        assert later in (first, second)


def test_at_the_limit_a_request_waits_for_a_copy_to_be_free():
    # Given a module at its limit of one busy copy
    containers = Containers(MODULE, limit=1)
    served: list[object] = []

    def request() -> None:
        with containers.take() as copy:
            served.append(copy)

    with containers.take() as only:
        waiting = threading.Thread(target=request)
        waiting.start()
        waiting.join(timeout=0.2)
        # When another request arrives, Then it waits
        assert waiting.is_alive() and not served
    # and is served by that copy once it is free
    waiting.join(timeout=10)
    assert served == [only]


def test_concurrent_requests_each_keep_their_own_event():
    # Given the local API's fix to Powertools' one-request-per-process attributes, and a route that
    # reads its request while another thread serves another one
    keep_requests_per_thread()
    app, both_arrived = APIGatewayRestResolver(), threading.Barrier(2, timeout=10)

    @app.get("/items/<item>")
    def item(item: str) -> dict:
        both_arrived.wait()
        return {"path": app.current_event.path}

    canonical = json.loads((Path(__file__).parents[1] / "events" / "api_gateway_rest.json").read_text())
    answers: dict[str, str] = {}

    def serve(name: str) -> None:
        event = {**canonical, "path": f"/items/{name}", "resource": "/items/{item}", "httpMethod": "GET", "body": None}
        answers[name] = json.loads(app.resolve(event, None)["body"])["path"]

    # When two requests are served at once
    threads = [threading.Thread(target=serve, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    # Then each handler saw its own request
    assert answers == {"a": "/items/a", "b": "/items/b"}


def test_concurrent_requests_each_log_with_their_own_keys():
    # Given the local API's per-thread request state, and a Logger whose module set a key at import
    keep_requests_per_thread()
    logger = Logger(service="deskos-concurrency-probe")
    logger.append_keys(region="local")
    both_set, seen = threading.Barrier(2, timeout=10), {}

    def serve(request_id: str) -> None:
        logger.structure_logs(correlation_id=request_id)  # what inject_lambda_context(clear_state=True) does
        logger.append_keys(tenant_id=f"tenant-of-{request_id}")
        both_set.wait()
        seen[request_id] = dict(logger.get_current_keys())

    # When two requests set their keys at once
    threads = [threading.Thread(target=serve, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    # Then each logs with its own, and the module's key stays where no request set it
    assert {k: seen[k]["correlation_id"] for k in seen} == {"a": "a", "b": "b"}
    assert {k: seen[k]["tenant_id"] for k in seen} == {"a": "tenant-of-a", "b": "tenant-of-b"}
    assert logger.get_current_keys()["region"] == "local" and "tenant_id" not in logger.get_current_keys()
