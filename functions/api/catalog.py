"""The route table: discovered from the API modules' resolvers, never written down twice.

Each module in ``functions/api`` is a domain: it defines ``api`` (an ``Api``) and contributes its OpenAPI
paths. The plumbing they share is the package ``functions/api/core``, and this module reads them.
The merged document is what ``/openapi.json`` serves, what the CDK stack turns into one Lambda per
operation, and what the local API server registers.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import cache
from typing import Any

import functions.api as package

METHODS = ("get", "put", "post", "patch", "delete")


@dataclass(frozen=True)
class Route:
    method: str  # upper case
    path: str  # OpenAPI syntax: /support/tickets/{ticket_id}
    module: str  # functions.api.tickets
    operation_id: str
    roles: tuple[str, ...] | None  # None: public (no token)
    writes: bool
    s3: tuple[str, ...] = ()  # what it does with the uploads bucket: sign-upload, sign-download, delete
    cognito: tuple[str, ...] = ()  # what it does with the user pool: invite, regroup, disable, enable
    mail: bool = False  # whether it sends email itself

    @property
    def handler(self) -> str:
        return f"{self.module}.handler"


def module_names() -> list[str]:
    return sorted(
        f"{package.__name__}.{m.name}"
        for m in pkgutil.iter_modules(package.__path__)
        if not m.ispkg and m.name != "catalog"
    )


@cache
def openapi() -> dict[str, Any]:
    document: dict[str, Any] | None = None
    for name in module_names():
        part = importlib.import_module(name).api.openapi()
        if document is None:
            document = part
            continue
        for path, operations in part.get("paths", {}).items():
            document["paths"].setdefault(path, {}).update(operations)
        for kind, entries in part.get("components", {}).items():
            merged = document.setdefault("components", {}).setdefault(kind, {})
            for entry, schema in entries.items():
                # one name, one schema: two domains' models of one name would silently overwrite each other
                if merged.setdefault(entry, schema) != schema:
                    raise ValueError(f"{name} defines the OpenAPI component {kind}/{entry} unlike another domain")
    assert document is not None, "no API modules found"
    document["info"]["description"] = "DeskOS: helpdesk, field service, onboarding, marketing and knowledge."
    return document


@cache
def routes() -> tuple[Route, ...]:
    found = []
    for name in module_names():
        part = importlib.import_module(name).api.openapi()
        for path, operations in part.get("paths", {}).items():
            for method, op in operations.items():
                if method not in METHODS:
                    continue
                roles = op.get("x-deskos-roles")
                found.append(
                    Route(
                        method=method.upper(),
                        path=path,
                        module=name,
                        operation_id=op["operationId"],
                        roles=tuple(roles) if roles is not None else None,
                        writes=bool(op.get("x-deskos-writes")),
                        s3=tuple(op.get("x-deskos-s3", ())),
                        cognito=tuple(op.get("x-deskos-cognito", ())),
                        mail=bool(op.get("x-deskos-mail")),
                    )
                )
    return tuple(sorted(found, key=lambda r: (r.path, r.method)))
