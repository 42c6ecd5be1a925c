"""The ticket → work order stream consumer against the local cloud: matching, exactly one work order
per ticket under redelivery, assignment and scheduling, mail, audit, round robin under concurrency,
and dead letters that replay."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from functions.events import work_order_automation
from infra.local import dlq, outbox
from infra.local.lambda_context import LambdaContext
from infra.local.pump import lambda_record
from shared.field import automation
from tests.integration.api.field_service_helpers import rule, technician
from tests.integration.api.harness import Tenant, call

INSTALLATION_RULE = {
    "priority": 10,
    "trigger": {"priorities": ["high", "urgent"], "categories": ["Installation"]},
    "template": {"type": "installation"},
    "assignment": {"logic": "skill_match", "required_skills": ["networking"]},
    "scheduling": {"auto_schedule": True, "offset_hours": 24},
}


def ticket_work_orders(tenant: Tenant, ticket_id: str) -> list[dict]:
    reply = call(tenant.agent, "GET", "/support/tickets/{ticket_id}/work-orders", {"ticket_id": ticket_id})
    assert reply.status == 200, reply.text
    return reply.json["items"]


@pytest.fixture
def tenant(cloud) -> Tenant:
    """These tests read the table's whole stream: each gets a fresh table, then its tenant."""
    return Tenant()


def stream_batch(cloud) -> list[dict]:
    """Every record of the table's stream so far, as Lambda would deliver them."""
    table = cloud.resources.table_name
    arn = cloud.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = cloud.client("dynamodbstreams")
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        page = streams.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)
        records += [lambda_record(r, arn, cloud.region) for r in page["Records"]]
    return records


def deliver(records: list[dict]) -> dict:
    return work_order_automation.handler({"Records": records}, LambdaContext("WorkOrderAutomation"))


def test_a_matching_ticket_gets_one_assigned_work_order_scheduled_in_working_hours(tenant: Tenant, cloud, pump_stream):
    # Given a networking technician, a fibre one, and a rule for urgent installations
    theo = technician(tenant, "theo", skills=["networking"])
    technician(tenant, "fiona", skills=["fibre"])
    made = rule(tenant, **INSTALLATION_RULE)
    portal = tenant.portal_user(tenant.client()["id"])

    # When a portal user opens an urgent Installation ticket and the stream is delivered
    ticket = tenant.ticket(by=portal, priority="urgent", category="Installation")
    pump_stream()

    # Then it has one automatic work order, for theo, inside his hours, 24 h or more from now
    [order] = ticket_work_orders(tenant, ticket["id"])
    assert (order["source"], order["rule_id"], order["technician_id"], order["status"], order["type"]) == (
        "automatic",
        made["id"],
        theo.user_id,
        "scheduled",
        "installation",
    )
    start = datetime.fromisoformat(order["scheduled_start"]).astimezone(ZoneInfo("Europe/London"))
    assert start.weekday() < 5 and 8 <= start.hour < 17
    assert start >= datetime.fromisoformat(ticket["created_at"]) + timedelta(hours=24)
    # and the requester and theo were mailed
    mails = outbox.messages(cloud.server.url)
    to = [address for m in mails if order["number"] in m["subject"] for address in m["destinations"]["ToAddresses"]]
    assert sorted(to) == sorted([portal.email, theo.email])
    # and the audit trail shows the decision
    trail = call(tenant.manager, "GET", "/audit", query={"entity": "work_order"}).json["items"]
    [decision] = [e for e in trail if e["action"] == "automated"]
    assert decision["detail"]["technician_id"] == theo.user_id
    assert (decision["detail"]["strategy"], decision["detail"]["rule_id"]) == ("skill_match", made["id"])


def test_a_ticket_matching_no_rule_gets_no_work_order(tenant: Tenant, pump_stream):
    technician(tenant, "theo")
    rule(tenant, **INSTALLATION_RULE)

    ticket = tenant.ticket(priority="low", category="Installation")
    pump_stream()

    assert ticket_work_orders(tenant, ticket["id"]) == []


def test_when_two_rules_match_only_the_higher_priority_one_applies(tenant: Tenant, pump_stream):
    technician(tenant, "theo")
    rule(tenant, **{**INSTALLATION_RULE, "name": "Low", "priority": 1})
    high = rule(tenant, **{**INSTALLATION_RULE, "name": "High", "priority": 50, "template": {"type": "inspection"}})

    ticket = tenant.ticket(priority="urgent", category="Installation")
    pump_stream()

    [order] = ticket_work_orders(tenant, ticket["id"])
    assert (order["rule_id"], order["type"]) == (high["id"], "inspection")


def test_replaying_the_same_stream_batch_three_times_leaves_one_work_order_per_ticket(tenant: Tenant, cloud):
    technician(tenant, "theo", capacity=100)
    rule(tenant, **INSTALLATION_RULE)
    made = [tenant.ticket(priority="high", category="Installation") for _ in range(3)]
    batch = stream_batch(cloud)

    replies = [deliver(batch) for _ in range(3)]

    assert all(r == {"batchItemFailures": []} for r in replies)
    assert [len(ticket_work_orders(tenant, t["id"])) for t in made] == [1, 1, 1]
    load = call(tenant.agent, "GET", "/field-service/technicians").json["items"][0]["open_work_orders"]
    assert load == 3


def test_round_robin_over_three_technicians_and_thirty_concurrent_tickets_gives_ten_each(tenant: Tenant, cloud):
    # Given three technicians and a round robin rule
    techs = [technician(tenant, name, capacity=50) for name in ("ann", "bob", "cat")]
    rule(tenant, name="Everything", assignment={"logic": "round_robin", "required_skills": ["networking"]})

    # When 30 tickets are created at once, and their records are handled by 30 concurrent invocations
    with ThreadPoolExecutor(10) as pool:
        list(pool.map(lambda i: tenant.ticket(subject=f"Ticket {i}"), range(30)))
    inserts = [r for r in stream_batch(cloud) if r["dynamodb"]["NewImage"].get("entity") == {"S": "ticket"}]
    assert len(inserts) == 30
    with ThreadPoolExecutor(30) as pool:
        replies = list(pool.map(lambda r: deliver([r]), inserts))

    # Then every turn went to one technician: ten each
    assert all(r == {"batchItemFailures": []} for r in replies)
    orders = call(tenant.agent, "GET", "/field-service/work-orders", query={"limit": "100"}).json["items"]
    assert len(orders) == 30
    assert sorted(sum(o["technician_id"] == t.user_id for o in orders) for t in techs) == [10, 10, 10]


def test_with_no_eligible_technician_the_work_order_stays_new_and_the_managers_are_mailed(
    tenant: Tenant, cloud, pump_stream
):
    technician(tenant, "theo", skills=["networking"], active=False)
    technician(tenant, "tina", skills=["hvac"])
    rule(tenant, **INSTALLATION_RULE)

    ticket = tenant.ticket(priority="urgent", category="Installation")
    pump_stream()

    [order] = ticket_work_orders(tenant, ticket["id"])
    assert (order["status"], order["technician_id"], order["scheduled_start"]) == ("new", None, None)
    mails = [m for m in outbox.messages(cloud.server.url) if order["number"] in m["subject"]]
    assert any(tenant.manager.email in m["destinations"]["ToAddresses"] for m in mails)


def test_a_change_of_priority_that_makes_a_ticket_match_creates_its_work_order(tenant: Tenant, pump_stream):
    technician(tenant, "theo")
    rule(tenant, **INSTALLATION_RULE)
    ticket = tenant.ticket(priority="low", category="Installation")
    pump_stream()

    call(
        tenant.agent,
        "PATCH",
        "/support/tickets/{ticket_id}",
        {"ticket_id": ticket["id"]},
        body={"priority": "high", "version": 1},
    )
    pump_stream()
    call(
        tenant.agent,
        "PATCH",
        "/support/tickets/{ticket_id}",
        {"ticket_id": ticket["id"]},
        body={"priority": "urgent", "version": 2},
    )
    pump_stream()

    assert len(ticket_work_orders(tenant, ticket["id"])) == 1


def test_rules_are_read_once_per_tenant_per_batch(tenant: Tenant, new_tenant, cloud):
    technician(tenant, "theo", capacity=100)
    rule(tenant, **INSTALLATION_RULE)
    other = new_tenant()
    for owner in (tenant, tenant, tenant, other, other):
        owner.ticket(priority="urgent", category="Installation")
    loads: list[str] = []
    batch = automation.Batch(load_rules=lambda t: loads.append(t) or automation.rules.active_rules(t))

    for record in stream_batch(cloud):
        change = record["dynamodb"]
        ticket = automation.triggering_ticket(record["eventName"], change.get("OldImage"), change.get("NewImage"))
        if ticket is not None:
            automation.process(ticket, batch, sequence=change["SequenceNumber"], at=ticket.created_at)

    assert sorted(loads) == sorted([tenant.id, other.id])


def test_a_record_that_keeps_failing_is_dead_lettered_and_replays_once_fixed(
    tenant: Tenant, cloud, pump_stream, monkeypatch: pytest.MonkeyPatch
):
    # Given the automation fails on every record (say, a bug)
    technician(tenant, "theo")
    rule(tenant, **INSTALLATION_RULE)
    real = automation.process

    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(automation, "process", broken)
    ticket = tenant.ticket(priority="urgent", category="Installation")
    pump_stream(giving_up=("WorkOrderAutomation",))
    assert ticket_work_orders(tenant, ticket["id"]) == []

    # When the bug is fixed and the dead letters are replayed
    monkeypatch.setattr(automation, "process", real)
    result = dlq.replay(cloud.server.url, cloud.region, consumer="WorkOrderAutomation")

    # Then the ticket got its work order, and the queue is empty
    assert (result.replayed, result.failed) == (1, [])
    assert len(ticket_work_orders(tenant, ticket["id"])) == 1
    assert dlq.replay(cloud.server.url, cloud.region, consumer="WorkOrderAutomation").replayed == 0
