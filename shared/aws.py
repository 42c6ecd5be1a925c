"""The container's one botocore session: every AWS client of a process is made from it.

STS, DynamoDB (PynamoDB's connections included, ``shared.db.table``), S3, SES and the idempotency store all get
their clients here, so the service, endpoint and retry models are read and parsed once per container, not once
per client (a botocore session per client read them again: ``list_available_services`` scanned botocore's data
directory once per session and model kind). Nothing is made at import time; boto3 is not needed at all.

``client(service)`` makes a client with the process's credentials (modules cache theirs and register the cache
with ``on_forget``), ``client(service, credentials=...)`` one with a tenant's (``shared.credentials`` caches those
per scope). ``forget()`` drops every client and credential made so far, keeping the parsed models: tests
switching between local clouds, and a SnapStart restore, call it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, NamedTuple

from botocore.loaders import Loader

from shared.settings import region


class Keys(NamedTuple):
    """Temporary credentials (a tenant's, from STS)."""

    access_key_id: str
    secret_access_key: str
    session_token: str | None = None


_lock = threading.RLock()  # botocore's client creation is not thread-safe; the local API serves in threads
_session: Any = None
_loader: Any = None  # survives forget(): the parsed models hold no credentials
_forget_hooks: list[Callable[[], None]] = []


def session() -> Any:
    """The process's botocore session."""
    global _session, _loader
    with _lock:
        if _session is None:
            from botocore.session import Session

            _session = Session()
            if _loader is None:
                _loader = _loader_for(_session)
            _session.register_component("data_loader", _loader)
        return _session


class _NamedServicesLoader(Loader):
    """botocore's loader, except that to check that a service has a model it looks in that service's directory:
    botocore lists all 400+ directories (and their versions) for that, once per kind of model."""

    def list_available_services(self, type_name: str) -> Any:
        return _ServiceNames(self, type_name)


def _loader_for(session: Any) -> Loader:
    extra = (session.get_config_variable("data_path") or "").split(os.pathsep)  # AWS_DATA_PATH, as botocore reads it
    return _NamedServicesLoader(extra_search_paths=[os.path.expanduser(path) for path in extra if path])


class _ServiceNames:
    """The services with a model of ``type_name``: asked about one service, looks at that one only."""

    def __init__(self, loader: Any, type_name: str) -> None:
        self.loader, self.type_name = loader, type_name

    def __contains__(self, service: object) -> bool:
        if not isinstance(service, str) or not service or os.sep in service or service.startswith("."):
            return False
        for root in self.loader.search_paths:
            folder = os.path.join(root, service)
            if os.path.isdir(folder) and any(
                self.loader.file_loader.exists(os.path.join(folder, version, self.type_name))
                for version in os.listdir(folder)
            ):
                return True
        return False

    def __iter__(self) -> Any:
        return iter(Loader.list_available_services(self.loader, self.type_name))


def client(service: str, *, credentials: Keys | None = None, **options: Any) -> Any:
    """A new client for ``service`` in the configured region, with ``credentials`` or the process's own."""
    options.setdefault("region_name", region())
    if credentials is not None:
        options.update(
            aws_access_key_id=credentials.access_key_id,
            aws_secret_access_key=credentials.secret_access_key,
            aws_session_token=credentials.session_token,
        )
    with _lock:
        return session().create_client(service, **options)


def on_forget(hook: Callable[[], None]) -> None:
    """``hook()`` runs on ``forget()``: for caches of clients or credentials kept elsewhere."""
    _forget_hooks.append(hook)


def forget() -> None:
    """Drop every client and credential made so far (the parsed service models stay)."""
    global _session
    with _lock:
        _session = None
    for hook in _forget_hooks:
        hook()
