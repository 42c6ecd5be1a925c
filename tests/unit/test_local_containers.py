"""The local API's warm copies of a handler module, as Lambda scales a function out (no server here)."""

import importlib
import threading

from infra.local.api_server import Containers

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
