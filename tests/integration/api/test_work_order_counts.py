"""Work orders by status (GET /field-service/work-orders/status-counts): moved in the transaction of every
write that gives a work order its status — created by hand or by the ticket automation, assigned, scheduled,
started, completed, cancelled — once per write however often it is replayed, exactly under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from infra.resources import STREAM_CONSUMERS
from shared.field.status_counts import StatusCounts
from shared.field.work_orders import WorkOrder
from tests.integration.api.conftest import ConsumerStream
from tests.integration.api.field_service_helpers import act, rule, technician, work_order
from tests.integration.api.harness import Tenant, call
from tests.integration.faults import Faults, transaction_cancelled

COUNTS = "/field-service/work-orders/status-counts"
WO = "/field-service/work-orders/{work_order_id}"
AUTOMATION = next(c for c in STREAM_CONSUMERS if c.name == "WorkOrderAutomation")
NONE = {"new": 0, "assigned": 0, "scheduled": 0, "in_progress": 0, "completed": 0, "cancelled": 0}


def counts(tenant: Tenant) -> dict[str, int]:
    reply = call(tenant.agent, "GET", COUNTS)
    assert reply.status == 200, reply.text
    found = dict(reply.json)
    assert found.pop("total") == sum(found.values())
    return {status: n for status, n in found.items() if n}


def step(user, order: dict, action: str, body: dict | None = None) -> None:
    reply = act(user, order["id"], action, body)
    assert reply.status == 200, reply.text


# ---- every path that gives a work order its status ---------------------------------------------


def test_a_work_order_created_by_hand_counts_as_new_once_however_often_its_request_is_replayed(tenant: Tenant):
    key = {"Idempotency-Key": "wo-1"}
    body = {"type": "repair"}
    first = call(tenant.agent, "POST", "/field-service/work-orders", body=body, headers=key)
    again = call(tenant.agent, "POST", "/field-service/work-orders", body=body, headers=key)

    assert (first.status, again.status, again.json["id"]) == (201, 201, first.json["id"])
    assert counts(tenant) == {"new": 1}


def test_assign_schedule_start_and_complete_each_move_the_work_order_between_counts(tenant: Tenant):
    tech = technician(tenant, "theo")
    order = work_order(tenant)

    step(tenant.agent, order, "assign", {"technician_id": tech.user_id})
    assert counts(tenant) == {"assigned": 1}
    step(tenant.agent, order, "assign", {"technician_id": tech.user_id})  # assigned again: it stays
    assert counts(tenant) == {"assigned": 1}
    step(tenant.agent, order, "schedule", {"scheduled_start": "2030-01-07T09:00:00Z"})
    assert counts(tenant) == {"scheduled": 1}
    step(tech, order, "start")
    assert counts(tenant) == {"in_progress": 1}
    step(tech, order, "complete")
    assert counts(tenant) == {"completed": 1}


@pytest.mark.parametrize("before", [(), ("assign",), ("assign", "schedule"), ("assign", "start")])
def test_cancelling_moves_a_work_order_from_the_status_it_was_in(tenant: Tenant, before: tuple[str, ...]):
    tech = technician(tenant, "theo")
    order = work_order(tenant)
    bodies = {"assign": {"technician_id": tech.user_id}, "schedule": {"scheduled_start": "2030-01-07T09:00:00Z"}}
    for action in before:
        step(tenant.agent, order, action, bodies.get(action))

    step(tenant.agent, order, "cancel")

    assert counts(tenant) == {"cancelled": 1}


def test_an_edit_moves_nothing_and_a_replayed_action_moves_nothing_twice(tenant: Tenant):
    order = work_order(tenant)
    params = {"work_order_id": order["id"]}
    edited = call(tenant.agent, "PATCH", WO, params, body={"notes": "Bring a ladder", "version": 1})
    cancel = "/field-service/work-orders/{work_order_id}/cancel"
    cancelled = call(tenant.agent, "POST", cancel, params, body={}, headers={"If-Match": '"2"'})
    replayed = call(tenant.agent, "POST", cancel, params, body={}, headers={"If-Match": '"2"'})

    assert (edited.status, cancelled.status, replayed.status) == (200, 200, 409)
    assert counts(tenant) == {"cancelled": 1}


def test_the_automation_counts_its_work_order_once_in_the_status_it_made_however_often_delivered(cloud):
    # Given a fresh table's stream fed to the automation, a technician, a rule that assigns without
    # scheduling, and one that assigns nobody
    automation, tenant = ConsumerStream(cloud, AUTOMATION), Tenant()
    technician(tenant, "theo", capacity=10)
    rule(tenant, priority=10, trigger={"priorities": ["urgent"]}, assignment={"logic": "skill_match"})
    rule(tenant, name="Unassigned", priority=5, trigger={"priorities": ["high"]}, assignment={"auto_assign": False})

    # When two tickets match, and their stream records are delivered three times
    tenant.ticket(priority="urgent")
    tenant.ticket(priority="high")
    automation.drain()
    automation.redeliver()
    automation.redeliver()

    # Then one work order each, counted once in the status the automation gave it
    assert len(call(tenant.agent, "GET", "/field-service/work-orders").json["items"]) == 2
    assert counts(tenant) == {"assigned": 1, "new": 1}


# ---- what was there before the counts, concurrency, contention ---------------------------------


def test_a_work_order_from_before_the_counts_is_counted_by_its_first_change_and_never_below_zero(tenant: Tenant):
    # Given a work order written before the counts existed: no mark, in no count
    order = work_order(tenant)
    stored = WorkOrder.get(*WorkOrder.key(tenant.id, order["id"]))
    stored.update(actions=[WorkOrder.counted.remove()])  # (version 2)
    StatusCounts.get(*StatusCounts.key(tenant.id)).delete()
    assert counts(tenant) == {}

    # When it is edited, then assigned
    params = {"work_order_id": order["id"]}
    assert call(tenant.agent, "PATCH", WO, params, body={"notes": "Old one", "version": 2}).status == 200
    edited = counts(tenant)
    step(tenant.agent, order, "assign", {"technician_id": technician(tenant, "theo").user_id})

    # Then its first change counts it where it is, and the next one moves it
    assert edited == {"new": 1}
    assert counts(tenant) == {"assigned": 1}


def test_concurrent_changes_of_many_work_orders_leave_exact_counts(tenant: Tenant):
    tech = technician(tenant, "theo", capacity=50)
    with ThreadPoolExecutor(8) as pool:
        orders = list(pool.map(lambda _: work_order(tenant), range(16)))
        list(pool.map(lambda o: step(tenant.agent, o, "assign", {"technician_id": tech.user_id}), orders))
        list(pool.map(lambda o: step(tech, o, "start"), orders[:10]))
        list(pool.map(lambda o: step(tenant.agent, o, "cancel"), orders[10:]))

    assert counts(tenant) == {"in_progress": 10, "cancelled": 6}


def test_a_change_cancelled_by_another_on_the_counts_runs_again_and_moves_once(tenant: Tenant, faults: Faults):
    order = work_order(tenant)
    faults.fail("TransactWriteItems", transaction_cancelled("None", "TransactionConflict"), times=1)

    step(tenant.agent, order, "cancel")

    assert counts(tenant) == {"cancelled": 1}


# ---- who reads them ----------------------------------------------------------------------------


def test_another_tenant_counts_its_own_and_portal_users_read_nothing(tenant: Tenant, new_tenant):
    work_order(tenant)

    assert counts(new_tenant()) == {}
    assert call(tenant.portal_user(tenant.client()["id"]), "GET", COUNTS).status == 403
    assert counts(tenant) == {"new": 1}
