"""Field service: /field-service/technicians…, /field-service/work-orders…, /field-service/work-order-rules….

A ticket's work orders (/support/tickets/{id}/work-orders) live with the tickets, in ``tickets``."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.metrics import MetricUnit

from functions.api.core import Api, metrics
from functions.api.core.params import Cursor, EntityId, IdFilter, Limit, UserId
from functions.api.core.responses import no_content, page_out, tagged
from shared.caller import MANAGERS, STAFF
from shared.db.pages import DEFAULT_LIMIT
from shared.field import rules, status_counts, technicians, work_orders
from shared.field.rules import Rule, RuleIn, RuleOut, RuleUpdate
from shared.field.status_counts import WorkOrderCounts
from shared.field.technicians import NewTechnician, Technician, TechnicianOut, TechnicianUpdate
from shared.field.work_orders import (
    AssignWorkOrder,
    NewWorkOrder,
    ScheduleWorkOrder,
    Status,
    WorkOrder,
    WorkOrderFilters,
    WorkOrderOut,
    WorkOrderPatch,
)
from shared.schemas import PageOut

api = Api("field-service")


# ---- technicians -------------------------------------------------------------------------------


@api.get("/field-service/technicians", roles=STAFF, summary="List technicians")
def list_technicians(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> PageOut[TechnicianOut]:
    return page_out(technicians.page(api.caller(), limit=limit, cursor=cursor), TechnicianOut)


@api.post(
    "/field-service/technicians", roles=MANAGERS, summary="Give a staff user a technician profile", responses={201: {}}
)
def create_technician(body: Annotated[NewTechnician, Body()]) -> Response[TechnicianOut]:
    made = api.create_once("CreateTechnician", body, lambda: TechnicianOut.of(technicians.create(api.caller(), body)))
    return api.created(f"/field-service/technicians/{made['id']}", made)


@api.get("/field-service/technicians/<technician_id>", roles=STAFF, summary="Get a technician")
def get_technician(technician_id: UserId) -> Response[TechnicianOut]:
    return tagged(TechnicianOut.of(Technician.load(api.caller(), technician_id)))


@api.put(
    "/field-service/technicians/<technician_id>",
    roles=MANAGERS,
    summary="Replace a technician profile (optimistic locking)",
)
def replace_technician(technician_id: UserId, body: Annotated[TechnicianUpdate, Body()]) -> Response[TechnicianOut]:
    return tagged(TechnicianOut.of(technicians.replace(api.caller(), technician_id, body, api.if_match())))


@api.delete(
    "/field-service/technicians/<technician_id>",
    roles=MANAGERS,
    summary="Delete a technician profile (none of its work orders open)",
    responses={204: {}},
)
def delete_technician(technician_id: UserId) -> Response[None]:
    technicians.delete(api.caller(), technician_id)
    return no_content()


# ---- work orders -------------------------------------------------------------------------------


@api.get("/field-service/work-orders", roles=STAFF, summary="List work orders, newest first")
def list_work_orders(
    status: Annotated[Status | None, Query()] = None,
    technician_id: IdFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PageOut[WorkOrderOut]:
    filters = WorkOrderFilters(status=status, technician_id=technician_id)
    return page_out(work_orders.page(api.caller(), filters, limit=limit, cursor=cursor), WorkOrderOut)


@api.post("/field-service/work-orders", roles=STAFF, summary="Create a work order", responses={201: {}})
def create_work_order(body: Annotated[NewWorkOrder, Body()]) -> Response[WorkOrderOut]:
    made = api.create_once("CreateWorkOrder", body, lambda: WorkOrderOut.of(work_orders.create(api.caller(), body)))
    metrics.add_metric("WorkOrdersCreated", MetricUnit.Count, 1)
    return api.created(f"/field-service/work-orders/{made['id']}", made)


@api.get("/field-service/work-orders/status-counts", roles=STAFF, summary="How many work orders are in each status now")
def get_work_order_status_counts() -> WorkOrderCounts:
    return status_counts.summary(api.caller())


@api.get("/field-service/work-orders/<work_order_id>", roles=STAFF, summary="Get a work order")
def get_work_order(work_order_id: EntityId) -> Response[WorkOrderOut]:
    return tagged(WorkOrderOut.of(WorkOrder.load(api.caller(), work_order_id)))


@api.patch(
    "/field-service/work-orders/<work_order_id>",
    roles=STAFF,
    summary="Change a work order's details (a technician: only its own)",
)
def update_work_order(work_order_id: EntityId, body: Annotated[WorkOrderPatch, Body()]) -> Response[WorkOrderOut]:
    return tagged(WorkOrderOut.of(work_orders.update(api.caller(), work_order_id, body, api.if_match())))


@api.post("/field-service/work-orders/<work_order_id>/assign", roles=STAFF, summary="Assign a work order")
def assign_work_order(work_order_id: EntityId, body: Annotated[AssignWorkOrder, Body()]) -> Response[WorkOrderOut]:
    return tagged(WorkOrderOut.of(work_orders.assign(api.caller(), work_order_id, body, api.if_match())))


@api.post("/field-service/work-orders/<work_order_id>/schedule", roles=STAFF, summary="Schedule a work order")
def schedule_work_order(work_order_id: EntityId, body: Annotated[ScheduleWorkOrder, Body()]) -> Response[WorkOrderOut]:
    return tagged(WorkOrderOut.of(work_orders.schedule(api.caller(), work_order_id, body, api.if_match())))


@api.post("/field-service/work-orders/<work_order_id>/start", roles=STAFF, summary="Start a work order")
def start_work_order(work_order_id: EntityId) -> Response[WorkOrderOut]:
    return tagged(WorkOrderOut.of(work_orders.start(api.caller(), work_order_id, api.if_match())))


@api.post("/field-service/work-orders/<work_order_id>/complete", roles=STAFF, summary="Complete a work order")
def complete_work_order(work_order_id: EntityId) -> Response[WorkOrderOut]:
    return tagged(WorkOrderOut.of(work_orders.complete(api.caller(), work_order_id, api.if_match())))


@api.post("/field-service/work-orders/<work_order_id>/cancel", roles=STAFF, summary="Cancel a work order")
def cancel_work_order(work_order_id: EntityId) -> Response[WorkOrderOut]:
    return tagged(WorkOrderOut.of(work_orders.cancel(api.caller(), work_order_id, api.if_match())))


# ---- rules -------------------------------------------------------------------------------------


@api.get("/field-service/work-order-rules", roles=STAFF, summary="List work-order rules")
def list_work_order_rules(limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None) -> PageOut[RuleOut]:
    return page_out(rules.page(api.caller(), limit=limit, cursor=cursor), RuleOut)


@api.post("/field-service/work-order-rules", roles=MANAGERS, summary="Create a work-order rule", responses={201: {}})
def create_work_order_rule(body: Annotated[RuleIn, Body()]) -> Response[RuleOut]:
    made = api.create_once("CreateWorkOrderRule", body, lambda: RuleOut.of(rules.create(api.caller(), body)))
    return api.created(f"/field-service/work-order-rules/{made['id']}", made)


@api.get("/field-service/work-order-rules/<rule_id>", roles=STAFF, summary="Get a work-order rule")
def get_work_order_rule(rule_id: EntityId) -> Response[RuleOut]:
    return tagged(RuleOut.of(Rule.load(api.caller(), rule_id)))


@api.put(
    "/field-service/work-order-rules/<rule_id>",
    roles=MANAGERS,
    summary="Replace a work-order rule (optimistic locking)",
)
def replace_work_order_rule(rule_id: EntityId, body: Annotated[RuleUpdate, Body()]) -> Response[RuleOut]:
    return tagged(RuleOut.of(rules.replace(api.caller(), rule_id, body, api.if_match())))


@api.delete(
    "/field-service/work-order-rules/<rule_id>", roles=MANAGERS, summary="Delete a work-order rule", responses={204: {}}
)
def delete_work_order_rule(rule_id: EntityId) -> Response[None]:
    rules.delete(api.caller(), rule_id)
    return no_content()


handler = api.handler
