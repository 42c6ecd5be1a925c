"""Domain errors. Each maps to one RFC 9457 problem; the API layer renders them in one place."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    title = "Bad Request"
    kind = "bad-request"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://deskos.dev/problems/{self.kind}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class BadRequest(DomainError):
    pass


class Unauthorized(DomainError):
    status, title, kind = 401, "Unauthorized", "unauthorized"


class Forbidden(DomainError):
    status, title, kind = 403, "Forbidden", "forbidden"


class NotFound(DomainError):
    status, title, kind = 404, "Not Found", "not-found"


class MethodNotAllowed(DomainError):
    status, title, kind = 405, "Method Not Allowed", "method-not-allowed"


class Conflict(DomainError):
    status, title, kind = 409, "Conflict", "conflict"


class PayloadTooLarge(DomainError):
    status, title, kind = 413, "Payload Too Large", "payload-too-large"


class UnsupportedMediaType(DomainError):
    status, title, kind = 415, "Unsupported Media Type", "unsupported-media-type"


class Unprocessable(DomainError):
    status, title, kind = 422, "Unprocessable Content", "validation"

    @classmethod
    def field(cls, field: str, message: str) -> Unprocessable:
        return cls(message, errors=[{"field": field, "message": message}])


class Unavailable(DomainError):
    status, title, kind = 503, "Service Unavailable", "unavailable"
