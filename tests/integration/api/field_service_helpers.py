"""Scene-setting for the field-service tests: technicians and rules made through the API."""

from __future__ import annotations

from typing import Any

from shared.caller import Role
from tests.integration.api.harness import Tenant, User, call

OFFICE_HOURS = {
    "time_zone": "Europe/London",
    "windows": [{"day": d, "start": "08:00", "end": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")],
}


def technician(tenant: Tenant, name: str, *, skills=("networking",), **fields: Any) -> User:
    """A staff user of the tenant with a technician profile."""
    user = tenant.user(name, Role.STAFF)
    body = {"user_id": user.user_id, "name": name, "email": user.email, "skills": list(skills)}
    body.setdefault("working_hours", OFFICE_HOURS)
    reply = call(tenant.manager, "POST", "/field-service/technicians", body={**body, **fields})
    assert reply.status == 201, reply.text
    return user


def rule(tenant: Tenant, **fields: Any) -> dict[str, Any]:
    body = {"name": "Installations", **fields}
    reply = call(tenant.manager, "POST", "/field-service/work-order-rules", body=body)
    assert reply.status == 201, reply.text
    return reply.json


def work_order(tenant: Tenant, by: User | None = None, **fields: Any) -> dict[str, Any]:
    reply = call(by or tenant.agent, "POST", "/field-service/work-orders", body={"type": "repair", **fields})
    assert reply.status == 201, reply.text
    return reply.json


def act(user: User, work_order_id: str, action: str, body: dict | None = None):
    return call(
        user,
        "POST",
        f"/field-service/work-orders/{{work_order_id}}/{action}",
        {"work_order_id": work_order_id},
        body=body or {},
    )
