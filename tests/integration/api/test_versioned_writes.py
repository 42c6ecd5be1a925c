"""Every versioned write reads the same: a stale version is a 409 naming the version it is at (with
``current_version``), a missing one a 422 on ``version``, and the answer carries the new version as ETag."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from shared.db.entities import MISSING_VERSION
from tests.integration.api.field_service_helpers import OFFICE_HOURS, rule, technician, work_order
from tests.integration.api.harness import Tenant, User, call


@dataclass
class Write:
    """A change of one entity: who sends it, where, and its body without a version."""

    noun: str
    user: User
    method: str
    template: str
    params: dict[str, str]
    body: dict[str, Any]

    def send(self, **version: int) -> Any:
        return call(self.user, self.method, self.template, self.params, body={**self.body, **version})


def ticket_change(tenant: Tenant) -> Write:
    made = tenant.ticket()
    return Write(
        "ticket",
        tenant.agent,
        "PATCH",
        "/support/tickets/{ticket_id}",
        {"ticket_id": made["id"]},
        {"subject": "Changed"},
    )


def work_order_change(tenant: Tenant) -> Write:
    made = work_order(tenant)
    template = "/field-service/work-orders/{work_order_id}"
    return Write("work order", tenant.agent, "PATCH", template, {"work_order_id": made["id"]}, {"notes": "Changed"})


def technician_replacement(tenant: Tenant) -> Write:
    tech = technician(tenant, "theo")
    body = {"name": "Theo T", "email": tech.email, "working_hours": OFFICE_HOURS}
    template = "/field-service/technicians/{technician_id}"
    return Write("technician", tenant.manager, "PUT", template, {"technician_id": tech.user_id}, body)


def rule_replacement(tenant: Tenant) -> Write:
    made = rule(tenant)
    template = "/field-service/work-order-rules/{rule_id}"
    return Write("work-order rule", tenant.manager, "PUT", template, {"rule_id": made["id"]}, {"name": "Renamed"})


def survey_change(tenant: Tenant) -> Write:
    body = {"name": "After resolve", "kind": "nps", "question": "Recommend us?"}
    made = call(tenant.manager, "POST", "/support/surveys", body=body).json
    template = "/support/surveys/{survey_id}"
    return Write("survey", tenant.manager, "PATCH", template, {"survey_id": made["id"]}, {"active": False})


def sla_policy_replacement(tenant: Tenant) -> Write:
    body = {"name": "Standard", "targets": {"normal": {"first_response": 30}}, "calendar": {"always_open": True}}
    made = call(tenant.manager, "POST", "/support/sla-policies", body=body).json
    template = "/support/sla-policies/{policy_id}"
    return Write("SLA policy", tenant.manager, "PUT", template, {"policy_id": made["id"]}, body)


WRITES: list[Callable[[Tenant], Write]] = [
    ticket_change,
    work_order_change,
    technician_replacement,
    rule_replacement,
    survey_change,
    sla_policy_replacement,
]


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.__name__)
def test_a_stale_version_is_a_409_that_names_the_current_one(tenant: Tenant, write):
    # Given an entity someone changed from version 1 to 2
    change = write(tenant)
    first = change.send(version=1)

    # When we send our change for version 1
    stale = change.send(version=1)

    # Then it is refused, saying which version the entity is at
    assert first.status == 200 and first.header("ETag") == '"2"', first.text
    problem = stale.problem(409)
    assert problem["current_version"] == 2
    assert problem["detail"] == f"Stale version 1: the {change.noun} is at version 2."


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.__name__)
def test_a_change_without_a_version_is_a_422_on_version(tenant: Tenant, write):
    change = write(tenant)

    reply = change.send()

    assert reply.field_errors() == {"version": MISSING_VERSION}
