"""Moto in server mode, in this process, on loopback, with its state kept between runs.

Moto's backends are not thread-safe, while AWS applies each request atomically (a conditional write
or a transaction never interleaves with another). So the WSGI app is wrapped in one lock: requests
are served one at a time, and a snapshot taken under the same lock is always consistent.
Consequence: a request that blocks inside moto (an SQS ReceiveMessage with WaitTimeSeconds > 0)
would stall every client, so local pollers use short polling.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from infra.local import moto_transactions, snapshot
from infra.local.iam_guard import TenantGuard
from infra.local.s3_post_policy import PostPolicy, PostTagging

logger = logging.getLogger(__name__)

STATE_FILE = "moto-state.pickle"
AUTOSAVE_SECONDS = 30.0
SHUTDOWN_POLL_SECONDS = 0.05  # how soon serve_forever notices a shutdown


class _OneAtATime:
    """WSGI middleware: the app runs, and its response body is produced, under one lock."""

    def __init__(self, app: Callable[..., Iterable[bytes]], lock: threading.RLock):
        self.app = app
        self.lock = lock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            response = self.app(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()


class _QuietHandler(MotoRequestHandler):
    """The pump polls several times a second; an access log line per request would drown the output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if str(code).startswith("5"):
            super().log_request(code, size)


class MotoServer:
    """A running moto server. ``url`` is its endpoint; ``stop()`` saves the state and shuts it down."""

    def __init__(self, server: BaseWSGIServer, lock: threading.RLock, state_file: Path | None, autosave: float):
        self._server = server
        self._lock = lock
        self.state_file = state_file
        self._stopped = threading.Event()
        serve = threading.Thread(
            target=server.serve_forever, args=(SHUTDOWN_POLL_SECONDS,), name="moto-server", daemon=True
        )
        self._threads = [serve]
        if state_file is not None and autosave > 0:
            self._threads.append(
                threading.Thread(target=self._autosave, args=(autosave,), name="moto-autosave", daemon=True)
            )
        for thread in self._threads:
            thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def save(self) -> None:
        """Write the state file now (e.g. after provisioning), between two requests."""
        with self._lock:
            snapshot.expire_shard_iterators()
            if self.state_file is not None:
                snapshot.save(self.state_file)

    def stop(self) -> None:
        """Stop serving, save the state, and forget it in memory so a later server starts clean."""
        if self._stopped.is_set():
            return
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join()
        self.save()
        snapshot.reset()

    def _autosave(self, every: float) -> None:
        while not self._stopped.wait(every):
            try:
                self.save()
            except OSError:
                logger.exception("could not save the local cloud state to %s", self.state_file)


@cache
def _moto_app() -> DomainDispatcherApplication:
    # Holds one Flask app per service, built on first use and stateless (the state is in the
    # process-wide backends), so servers started one after another in a process share it.
    moto_transactions.install()
    return DomainDispatcherApplication(create_backend_app)


def start_moto(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    state_dir: Path | None = None,
    fresh: bool = False,
    autosave_seconds: float = AUTOSAVE_SECONDS,
) -> MotoServer:
    """Start moto on ``host:port`` (0: a free port). With a ``state_dir``, the state saved there by the
    previous run is restored (unless ``fresh``) and saved again periodically and on ``stop()``.
    Moto's state is process-wide: run one server per process at a time."""
    state_file = state_dir / STATE_FILE if state_dir is not None else None
    snapshot.reset()
    if state_file is not None and not fresh and snapshot.restore(state_file):
        logger.info("restored the local cloud state from %s", state_file)
    lock = threading.RLock()
    # POST upload policies are checked before the lock: they need no state, only the request. The tags of a
    # POST upload are applied under it, with the upload, so that no client sees the object untagged. Tenant
    # credentials are learned and enforced under it too (its map of keys changes only there).
    app = PostPolicy(_OneAtATime(TenantGuard(PostTagging(_moto_app())), lock))
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    return MotoServer(server, lock, state_file, autosave_seconds)


def main() -> None:
    """``python -m infra.local.moto_server [--port N]``: only the local AWS, in a process of its own
    (its own GIL: load tests and concurrency tests keep client threads from starving the server)."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(description="moto server for DeskOS, one request at a time")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = start_moto(args.host, args.port)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    print(server.url, flush=True)
    stopping.wait()
    server.stop()


if __name__ == "__main__":
    main()
