"""Errors as RFC 9457 problems: how they are answered and how the contract documents them."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response

from shared.errors import DomainError

PROBLEM = "application/problem+json"
PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "title": "Problem",
        "description": "An RFC 9457 problem detail; a 422 lists what is wrong with each field in `errors`.",
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
        },
        "additionalProperties": True,  # e.g. current_status on a 409, retry_after on a 503
    },
    "FieldError": {
        "title": "FieldError",
        "type": "object",
        "required": ["field", "message"],
        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
    },
}


def problem(error: DomainError, headers: dict[str, str] | None = None) -> Response:
    return Response(error.status, PROBLEM, json.dumps(error.problem()), headers=headers)


def problem_statuses(operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation can answer, read from what the operation is: every route answers
    problems the same way, so no route lists them by hand."""
    places = {p.get("in") for p in operation.get("parameters", [])}
    authenticated = "security" in operation
    writes = bool(operation.get("x-deskos-writes"))
    body = "requestBody" in operation
    statuses = {422} if places or body else set()
    if "path" in places or authenticated or writes:
        statuses.add(404)  # a missing item, another tenant's, another client's; an unknown reference
    if authenticated or writes:
        statuses |= {400, 503}  # a bad cursor or If-Match; storage busy (retry after a second)
    if authenticated:
        statuses |= {401, 403}  # 401 from the authorizer, before any function runs; 403 from the role guard
    if writes or "sign-download" in operation.get("x-deskos-s3", ()):
        statuses.add(409)  # lost races, stale If-Match versions, wrong states (a download: a file not clean)
    if body:
        statuses |= {400, 413, 415}  # not JSON or not UTF-8; over the gateway's body cap; not application/json
    return statuses


def document_problems(operation: dict[str, Any]) -> None:
    """Replace Powertools' own 422 with the RFC 9457 problems DeskOS really answers; a 204 has no body;
    every answer has the description OpenAPI requires (a route's ``responses={201: {}}`` gives none)."""
    responses = operation.get("responses", {})
    responses.pop("422", None)
    if "204" in responses:
        responses["204"] = {"description": "No Content"}
    for status, response in responses.items():
        response.setdefault("description", HTTPStatus(int(status)).phrase)
    for status in problem_statuses(operation):
        responses[str(status)] = {
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM: {"schema": {"$ref": PROBLEM_REF}}},
        }
    operation["responses"] = dict(sorted(responses.items()))


def internal_error() -> Response:
    """What a bug answers: nothing about its cause (the log has it)."""
    body = {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "An unexpected error occurred; it has been logged.",
    }
    return Response(500, PROBLEM, json.dumps(body))
