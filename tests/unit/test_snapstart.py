"""SnapStart: environments restored from one snapshot share no ids, tokens or random numbers, and none of the
snapshot's clients or credentials. A snapshot is played by a primed process; each restore by a fork of it that
runs the after-restore hooks the way Lambda's runtime does."""

from __future__ import annotations

import json
import os
import random
import secrets
import time
from collections.abc import Callable

import pytest
import snapshot_restore_py

import functions.api.tickets  # noqa: F401 (registers its hooks, as the function's import does in the cloud)
from shared import aws, credentials, idempotency
from shared.ids import new_id

DRAWS = 50


def run_hooks(registry: list) -> None:
    for hook, args, kwargs in registry:
        hook(*args, **kwargs)


def restored_copy(restore: bool) -> dict:
    """Fork the current process (the snapshot); in the copy, run the restore hooks if ``restore``, then report."""
    state = random.getstate()
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:  # the restored copy
        os.close(reading)
        random.setstate(state)  # a fork reseeds random by itself (os.register_at_fork); a restored snapshot does not
        if restore:
            run_hooks(snapshot_restore_py._after_restore_registry)
        report = {
            "ids": [new_id() for _ in range(DRAWS)],
            "tokens": [secrets.token_urlsafe(16) for _ in range(DRAWS)],
            "random": [random.random() for _ in range(DRAWS)],
            "scopes": len(credentials._scopes),
            "process_clients": idempotency._client.cache_info().currsize,
            "session": aws._session is not None,
        }
        with os.fdopen(writing, "w") as pipe:
            pipe.write(json.dumps(report))
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as pipe:
        report = json.loads(pipe.read())
    os.waitpid(pid, 0)
    return report


@pytest.fixture
def snapshot(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """A primed process holding what a snapshot would: a client, a tenant's credentials, ``random``'s state."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: priming must call no AWS
    aws.forget()
    run_hooks(snapshot_restore_py._before_snapshot_registry)
    idempotency._client()
    credentials._scopes[("acme", "arn:aws:iam::123456789012:role/r")] = credentials.Scope(
        "acme", "arn:aws:iam::123456789012:role/r", "AKIA", "secret", "token", time.time() + 3600
    )
    yield
    aws.forget()


def test_two_restored_copies_never_issue_the_same_id_token_or_random_number(snapshot) -> None:
    first, second = restored_copy(restore=True), restored_copy(restore=True)

    for kind in ("ids", "tokens", "random"):
        assert len(set(first[kind]) | set(second[kind])) == 2 * DRAWS, kind


def test_a_restored_copy_holds_none_of_the_snapshots_clients_or_credentials(snapshot) -> None:
    copy = restored_copy(restore=True)

    assert copy["scopes"] == 0 and copy["process_clients"] == 0 and copy["session"] is False


def test_without_the_restore_hook_copies_would_repeat_random_numbers(snapshot) -> None:
    # the reason for the hook: random's state is part of the snapshot
    first, second = restored_copy(restore=False), restored_copy(restore=False)

    assert first["random"] == second["random"]
    assert first["scopes"] == 1


def test_priming_answers_every_authenticated_route_without_calling_aws(monkeypatch) -> None:
    from functions.api.core.snapstart import _BeforeSnapshot, _tokenless_event
    from functions.api.tickets import api

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    routes = api.authenticated_routes()
    answers = {
        api.handler(_tokenless_event(m, p.replace("<ticket_id>", "0")), _BeforeSnapshot())["statusCode"]
        for m, p in routes
    }

    assert len(routes) > 5 and answers == {401}
