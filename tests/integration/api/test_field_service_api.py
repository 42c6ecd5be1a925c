"""Technicians, work orders and work-order rules through their handlers: CRUD, the state machine,
who may change what, validation, and tenant/role isolation."""

from __future__ import annotations

import re

import pytest

from tests.integration.api.field_service_helpers import act, rule, technician, work_order
from tests.integration.api.harness import Tenant, call

TECHS = "/field-service/technicians"
TECH = "/field-service/technicians/{technician_id}"
WOS = "/field-service/work-orders"
WO = "/field-service/work-orders/{work_order_id}"
RULES = "/field-service/work-order-rules"
RULE = "/field-service/work-order-rules/{rule_id}"


def test_a_manager_gives_a_staff_user_a_technician_profile_that_staff_can_read(tenant: Tenant):
    tech = technician(tenant, "theo", skills=["Networking", "fibre"], home={"lat": 51.5, "lng": -0.12}, capacity=3)

    reply = call(tenant.agent, "GET", TECH, {"technician_id": tech.user_id})

    assert reply.status == 200, reply.text
    body = reply.json
    assert (body["id"], body["skills"], body["capacity"], body["open_work_orders"]) == (
        tech.user_id,
        ["fibre", "networking"],
        3,
        0,
    )
    listed = call(tenant.agent, "GET", TECHS).json["items"]
    assert [t["id"] for t in listed] == [tech.user_id]


def test_a_technician_profile_needs_an_active_staff_user_of_the_tenant(tenant: Tenant, new_tenant):
    stranger = new_tenant().agent
    body = {"user_id": stranger.user_id, "name": "X", "email": "x@x.test", "working_hours": {"always_open": True}}

    reply = call(tenant.manager, "POST", TECHS, body=body)

    assert "user_id" in reply.field_errors()


def test_a_technician_profile_is_replaced_with_its_version_and_a_stale_one_is_409(tenant: Tenant):
    tech = technician(tenant, "theo")
    body = {"name": "Theo T", "email": tech.email, "skills": ["hvac"], "working_hours": {"always_open": True}}

    first = call(tenant.manager, "PUT", TECH, {"technician_id": tech.user_id}, body={**body, "version": 1})
    stale = call(tenant.manager, "PUT", TECH, {"technician_id": tech.user_id}, body={**body, "version": 1})

    assert first.status == 200 and first.json["skills"] == ["hvac"] and first.json["version"] == 2
    assert stale.problem(409)["current_version"] == 2


def test_a_work_order_gets_a_wo_number_and_walks_assign_schedule_start_complete(tenant: Tenant):
    tech = technician(tenant, "theo")
    order = work_order(tenant, notes="Replace the router")
    assert re.fullmatch(r"WO-\d{4}-00001", order["number"]) and order["status"] == "new"

    assigned = act(tenant.agent, order["id"], "assign", {"technician_id": tech.user_id})
    scheduled = act(tenant.agent, order["id"], "schedule", {"scheduled_start": "2030-01-07T09:00:00Z"})
    load = call(tenant.agent, "GET", TECH, {"technician_id": tech.user_id}).json["open_work_orders"]
    started = act(tech, order["id"], "start")
    completed = act(tech, order["id"], "complete")

    assert [r.json["status"] for r in (assigned, scheduled, started, completed)] == [
        "assigned",
        "scheduled",
        "in_progress",
        "completed",
    ]
    assert load == 1
    assert call(tenant.agent, "GET", TECH, {"technician_id": tech.user_id}).json["open_work_orders"] == 0
    assert work_order(tenant)["number"].endswith("00002")


@pytest.mark.parametrize("action", ["start", "complete", "schedule"])
def test_an_action_the_state_does_not_allow_is_409(tenant: Tenant, action: str):
    order = work_order(tenant)

    reply = act(
        tenant.agent, order["id"], action, {"scheduled_start": "2030-01-07T09:00:00Z"} if action == "schedule" else None
    )

    assert reply.problem(409)["current_status"] == "new"


def test_a_cancelled_work_order_frees_its_technician_and_cannot_be_started(tenant: Tenant):
    tech = technician(tenant, "theo")
    order = work_order(tenant)
    act(tenant.agent, order["id"], "assign", {"technician_id": tech.user_id})

    cancelled = act(tenant.agent, order["id"], "cancel")

    assert cancelled.json["status"] == "cancelled"
    assert call(tenant.agent, "GET", TECH, {"technician_id": tech.user_id}).json["open_work_orders"] == 0
    act(tenant.agent, order["id"], "start").problem(409)


def test_a_technician_may_change_its_own_work_orders_only(tenant: Tenant):
    theo, tina = technician(tenant, "theo"), technician(tenant, "tina")
    own, other = work_order(tenant), work_order(tenant)
    act(tenant.agent, own["id"], "assign", {"technician_id": theo.user_id})
    act(tenant.agent, other["id"], "assign", {"technician_id": tina.user_id})

    mine = call(theo, "PATCH", WO, {"work_order_id": own["id"]}, body={"notes": "Parts ordered", "version": 2})
    theirs = call(theo, "PATCH", WO, {"work_order_id": other["id"]}, body={"notes": "Mine now", "version": 2})
    start_theirs = act(theo, other["id"], "start")
    by_agent = call(tenant.agent, "PATCH", WO, {"work_order_id": other["id"]}, body={"notes": "ok", "version": 2})

    assert mine.status == 200 and mine.json["notes"] == "Parts ordered"
    theirs.problem(403)
    start_theirs.problem(403)
    assert by_agent.status == 200, by_agent.text


def test_assigning_a_technician_at_capacity_is_409(tenant: Tenant):
    tech = technician(tenant, "theo", capacity=1)
    first, second = work_order(tenant), work_order(tenant)
    act(tenant.agent, first["id"], "assign", {"technician_id": tech.user_id})

    reply = act(tenant.agent, second["id"], "assign", {"technician_id": tech.user_id})

    assert "capacity" in reply.problem(409)["detail"]


def test_a_ticket_lists_its_work_orders(tenant: Tenant):
    ticket = tenant.ticket()
    order = work_order(tenant, source_ticket_id=ticket["id"])

    reply = call(tenant.agent, "GET", "/support/tickets/{ticket_id}/work-orders", {"ticket_id": ticket["id"]})

    assert [o["id"] for o in reply.json["items"]] == [order["id"]]
    assert reply.json["items"][0]["source"] == "manual"


# ---- rules -------------------------------------------------------------------------------------


def test_a_rule_is_created_read_replaced_and_deleted(tenant: Tenant):
    technician(tenant, "theo")
    made = rule(tenant, priority=5, assignment={"logic": "skill_match", "required_skills": ["networking"]})

    read = call(tenant.agent, "GET", RULE, {"rule_id": made["id"]})
    replaced = call(tenant.manager, "PUT", RULE, {"rule_id": made["id"]}, body={"name": "Renamed", "version": 1})
    deleted = call(tenant.manager, "DELETE", RULE, {"rule_id": made["id"]})
    gone = call(tenant.agent, "GET", RULE, {"rule_id": made["id"]})

    assert read.json["assignment"]["required_skills"] == ["networking"] and read.header("ETag") == '"1"'
    assert (replaced.json["name"], replaced.json["version"]) == ("Renamed", 2)
    assert deleted.status == 204
    gone.problem(404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "assignment": {"required_skills": ["welding"]}}, "assignment.required_skills"),
        ({"name": "X", "scheduling": {"auto_schedule": True, "offset_hours": -1}}, "scheduling.offset_hours"),
        ({"name": "   "}, "name"),
        ({"name": "X", "assignment": {"logic": "telepathy"}}, "assignment.logic"),
    ],
)
def test_an_invalid_rule_is_422(tenant: Tenant, body: dict, field: str):
    technician(tenant, "theo")

    reply = call(tenant.manager, "POST", RULES, body=body)

    assert field in reply.field_errors()


# ---- isolation ---------------------------------------------------------------------------------


def test_another_tenant_gets_404_for_every_field_service_item(tenant: Tenant, new_tenant):
    tech = technician(tenant, "theo")
    order = work_order(tenant)
    made = rule(tenant)
    ticket = tenant.ticket()
    other = new_tenant()

    replies = [
        call(other.agent, "GET", TECH, {"technician_id": tech.user_id}),
        call(other.manager, "DELETE", TECH, {"technician_id": tech.user_id}),
        call(other.agent, "GET", WO, {"work_order_id": order["id"]}),
        call(other.agent, "PATCH", WO, {"work_order_id": order["id"]}, body={"notes": "x", "version": 1}),
        act(other.agent, order["id"], "cancel"),
        call(other.agent, "GET", RULE, {"rule_id": made["id"]}),
        call(other.manager, "DELETE", RULE, {"rule_id": made["id"]}),
        call(other.agent, "GET", "/support/tickets/{ticket_id}/work-orders", {"ticket_id": ticket["id"]}),
    ]

    for reply in replies:
        reply.problem(404)
    assert call(other.agent, "GET", WOS).json["items"] == []
    assert call(other.agent, "GET", TECHS).json["items"] == []
    assert call(other.agent, "GET", RULES).json["items"] == []


def test_portal_users_are_403_and_staff_may_not_write_technicians_or_rules(tenant: Tenant):
    portal = tenant.portal_user(tenant.client()["id"])
    tech = technician(tenant, "theo")

    for path in (TECHS, WOS, RULES):
        call(portal, "GET", path).problem(403)
    call(portal, "POST", WOS, body={}).problem(403)
    call(tenant.agent, "POST", RULES, body={"name": "X"}).problem(403)
    call(tenant.agent, "POST", TECHS, body={}).problem(403)
    call(tenant.agent, "DELETE", TECH, {"technician_id": tech.user_id}).problem(403)
