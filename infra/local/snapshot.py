"""Saving and restoring moto's in-memory state.

Moto keeps every service's state in module-level ``BackendDict`` registries of plain Python objects,
so the state of all services is pickled together: one pickle keeps the references between them
(and is consistent when taken under the server's request lock). A few members cannot be pickled
but are cheap to rebuild: thread locks (SQS queues) and Cognito's signing key, which moto loads
from a fixed file for every user pool, so tokens issued before a restart still verify after it.
"""

from __future__ import annotations

import importlib
import io
import os
import pickle
import sys
import threading
from pathlib import Path
from typing import Any

from joserfc.jwk import RSAKey
from moto.core.base_backend import BackendDict
from moto.core.model_instances import reset_model_data

# Shard iterators are short-lived handles (AWS expires them after 15 minutes), and moto adds one
# per GetRecords call, so they are neither saved nor allowed to grow without bound.
_EPHEMERAL_SERVICES = frozenset({"dynamodbstreams"})
SHARD_ITERATORS_KEPT = 1000

# type of a lock -> how to make a fresh one
_LOCK_FACTORIES = {type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock}


class StateFileError(RuntimeError):
    """The state file was written by an incompatible moto version or is damaged."""


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, RSAKey):
            return RSAKey.import_key, (obj.as_dict(private=True),)
        if isinstance(obj, threading.Condition):
            return threading.Condition, ()
        if type(obj) in _LOCK_FACTORIES:
            return _LOCK_FACTORIES[type(obj)], ()
        return NotImplemented


def _registry_name(backends: BackendDict) -> tuple[str, str]:
    """Where a BackendDict lives: (module, attribute), so it can be found again after a restart."""
    module = sys.modules[backends.backend.__module__]
    for name, value in vars(module).items():
        if value is backends:
            return module.__name__, name
    raise LookupError(f"no module attribute holds the {backends.service_name} backends")


def dumps() -> bytes:
    """Every service's state in use, as one pickle. Call it while no request is being handled."""
    state = [
        (*_registry_name(backends), {account: dict(regions) for account, regions in backends.items()})
        for backends in list(BackendDict._instances)
        if backends.service_name not in _EPHEMERAL_SERVICES
    ]
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
    return buffer.getvalue()


def loads(data: bytes) -> None:
    """Replace moto's state with a snapshot taken by ``dumps``."""
    try:
        state = pickle.loads(data)
    except (pickle.UnpicklingError, AttributeError, ImportError, EOFError, TypeError) as error:
        raise StateFileError(f"cannot read the saved local cloud state: {error}") from error
    reset()
    for module_name, attribute, accounts in state:
        backends: BackendDict = getattr(importlib.import_module(module_name), attribute)
        for account_id, regions in accounts.items():
            for region, backend in regions.items():
                backends[account_id][region] = backend


def save(path: Path) -> None:
    """Write the snapshot atomically: a crash mid-write leaves the previous file intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_bytes(dumps())
    os.replace(partial, path)


def restore(path: Path) -> bool:
    if not path.exists():
        return False
    loads(path.read_bytes())
    return True


def reset() -> None:
    """Forget every service's state (the process-wide registries outlive any one server)."""
    BackendDict.reset()
    reset_model_data()


def expire_shard_iterators(keep: int = SHARD_ITERATORS_KEPT) -> None:
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    for _, _, backend in dynamodbstreams_backends.iter_backends():
        iterators = backend.shard_iterators
        for arn in list(iterators)[: max(0, len(iterators) - keep)]:
            del iterators[arn]
