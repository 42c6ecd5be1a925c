"""DynamoDB calls the ticket → work order automation makes to read rules, per stream batch.

Two tenants with 5 and 50 active rules; one batch of ticket INSERTs (3 tickets of one tenant, 2 of
the other) goes through the real consumer handler, as Lambda would deliver it. Target: the tenant's
active rules are read with one Query per batch per tenant, whatever the number of rules or tickets.

    .venv/bin/python -m bench.rule_matching
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any

import boto3
from botocore.client import BaseClient

from bench.round_trips import REGION, TABLE, start_moto
from functions.events import work_order_automation
from infra.local.provision import ensure_table
from infra.local.pump import lambda_record
from shared.caller import TenantContext
from shared.field import rules
from shared.support import tickets

RULE_COUNTS = {"bench-small": 5, "bench-large": 50}
TICKETS = {"bench-small": 3, "bench-large": 2}


@contextmanager
def dynamodb_calls():
    """Every DynamoDB call (operation, parameters) made while inside, through any botocore client."""
    calls: list[tuple[str, dict[str, Any]]] = []
    original = BaseClient._make_api_call

    def counting(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            calls.append((operation, params))
        return original(client, operation, params)

    BaseClient._make_api_call = counting
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original


def manager(tenant: str) -> TenantContext:
    return TenantContext.from_claims({"custom:tenant_id": tenant, "cognito:groups": ["managers"], "sub": "bench"})


def stream_batch(endpoint: str) -> list[dict]:
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION)
    streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name=REGION)
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        records += streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    inserts = [
        r for r in records if r["eventName"] == "INSERT" and r["dynamodb"]["NewImage"]["entity"]["S"] == "ticket"
    ]
    return [lambda_record(r, arn, REGION) for r in inserts]


def main() -> None:
    server = start_moto()
    try:
        endpoint = f"http://127.0.0.1:{server._port}"
        ensure_table(boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION), TABLE)
        for tenant, count in RULE_COUNTS.items():
            for n in range(count):
                trigger = {"categories": ["Installation"]} if n == 0 else {"categories": [f"Other {n}"]}
                rules.create(manager(tenant), rules.RuleIn(name=f"Rule {n}", priority=n, trigger=trigger))
            for _ in range(TICKETS[tenant]):
                tickets.create(manager(tenant), tickets.NewTicket(subject="Router", category="Installation"))
        batch = stream_batch(endpoint)
        with dynamodb_calls() as calls:
            result = work_order_automation.handler({"Records": batch}, None)
    finally:
        server.stop()

    operations = [op for op, _ in calls]
    rule_reads = [op for op, params in calls if "WORULES" in str(params.get("ExpressionAttributeValues", ""))]
    print(f"one stream batch: {len(batch)} ticket INSERTs from {len(RULE_COUNTS)} tenants with {RULE_COUNTS} rules")
    print(f"failures reported: {len(result['batchItemFailures'])}")
    print(f"rule reads: {len(rule_reads)} ({', '.join(rule_reads)})")
    print(f"all DynamoDB calls: {len(operations)} ({', '.join(sorted(set(operations)))})")
    verdict = "PASS" if rule_reads == ["Query"] * len(RULE_COUNTS) else "FAIL"
    print(f"target: one Query per tenant per batch = {len(RULE_COUNTS)} -> {verdict}")


if __name__ == "__main__":
    main()
