"""The benchmarks' own machinery: call counting, request building, the load run's checks (no AWS, no moto)."""

import json
from pathlib import Path

import boto3
from botocore.stub import Stubber

from bench import load, round_trips
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
        "user_id",
        "template_id",
        "process_id",
        "task_id",
        "document_id",
        "appointment_id",
        "poll_id",
        "workflow_id",
        "execution_id",
        "tag_id",
        "entity_kind",
        "entity_id",
        "segment_id",
        "email_template_id",
        "campaign_id",
    )
    values = dict.fromkeys(params, "01ABC")
    for route in catalog.routes():
        if route.roles is None:
            continue
        params = {name: values[name] for name in round_trips.path_params(route.path)}
        event = round_trips.build_event(fixture, route, params, None, {})
        assert "{" not in event["path"] and event["httpMethod"] == route.method
        assert event["requestContext"]["authorizer"]["claims"]["cognito:groups"] in route.roles


def test_the_load_runs_number_check_finds_duplicates_gaps_and_creates_answered_wrongly():
    # Given a tenant's listed tickets with a number twice and one missing, and the creates' answers
    listed = [{"id": i, "number": f"TK-2026-{n:05d}"} for i, n in (("a", 1), ("b", 2), ("c", 2), ("d", 4))]
    created = [("a", "TK-2026-00001"), ("b", "TK-2026-00002"), ("x", "TK-2026-00002")]

    # When the load run checks them
    check = load.check_numbers("demo", listed, created)

    # Then it names each finding
    assert check.duplicates == ["TK-2026-00002"] and check.gaps == [3]
    assert check.duplicate_creates == ["TK-2026-00002"] and check.unlisted_creates == ["TK-2026-00002"]
    assert (check.first, check.last, check.ok) == ("TK-2026-00001", "TK-2026-00004", False)


def test_the_load_runs_number_check_passes_one_to_n_each_created_once():
    listed = [{"id": str(n), "number": f"TK-2026-{n:05d}"} for n in range(1, 11)]
    check = load.check_numbers("demo", listed, [(t["id"], t["number"]) for t in listed])
    assert check.ok and check.listed == check.created == 10


def test_the_load_runs_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (load.percentile(values, 50), load.percentile(values, 95), load.percentile([], 50)) == (50.0, 95.0, 0.0)
