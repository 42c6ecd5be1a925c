"""How long the e2e tests wait, and the one way they wait."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

# how long a test waits for the local cloud's event pump (stream consumers, scans, mail) to have acted: a
# deadline polled against, not a sleep, so generous: the cloud shares two cores with the other worker's tests
PUMP_WAIT_SECONDS = 60.0


def eventually(probe: Callable[[], Any], what: str) -> Any:
    """``probe()`` once it is truthy (the event pump delivers within seconds), else fail naming ``what``."""
    deadline = time.monotonic() + PUMP_WAIT_SECONDS
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.25)
