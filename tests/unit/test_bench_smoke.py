"""The benchmarks' own machinery: call counting and request building (no AWS, no moto)."""

import json
from pathlib import Path

import boto3
from botocore.stub import Stubber

from bench import round_trips
from functions.api import catalog


def test_recording_counts_dynamodb_calls_and_tells_idempotency_records_apart():
    client = boto3.client("dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response("get_item", {}, {"TableName": "t", "Key": {"PK": {"S": "T#demo#TICKET#1"}}})
        stub.add_response("put_item", {}, {"TableName": "t", "Item": {"PK": {"S": "T#demo#IDEMPOTENCY"}}})
        with round_trips.recording() as rec:
            client.get_item(TableName="t", Key={"PK": {"S": "T#demo#TICKET#1"}})
            client.put_item(TableName="t", Item={"PK": {"S": "T#demo#IDEMPOTENCY"}})
    assert rec.operations(False) == ["GetItem"]
    assert rec.operations(True) == ["PutItem"]


def test_every_authenticated_route_gets_a_concrete_event():
    fixture = json.loads(Path(round_trips.FIXTURE).read_text())
    params = (
        "ticket_id",
        "number",
        "client_id",
        "contact_id",
        "assignee_id",
        "survey_id",
        "attachment_id",
        "policy_id",
        "technician_id",
        "work_order_id",
        "rule_id",
    )
    values = dict.fromkeys(params, "01ABC")
    for route in catalog.routes():
        if route.roles is None:
            continue
        params = {name: values[name] for name in round_trips.path_params(route.path)}
        event = round_trips.build_event(fixture, route, params, None, {})
        assert "{" not in event["path"] and event["httpMethod"] == route.method
        assert event["requestContext"]["authorizer"]["claims"]["cognito:groups"] in route.roles
