"""The upload pipeline in the synthesized stack: S3 -> SQS -> scan function, its narrow role, the API's
bucket permissions, and the alarms."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from functions.api.catalog import routes
from infra import resources
from shared.attachments.service import PENDING_TTL
from tests.infra.test_stack import _statements_by_role, _tenant_role_of

pytestmark = pytest.mark.infra


def _function(synthesized, handler: str) -> str:
    [logical] = [
        k for k, f in synthesized.of_type("AWS::Lambda::Function").items() if f["Properties"]["Handler"] == handler
    ]
    return logical


def _statements(synthesized, function_logical: str) -> list[dict[str, Any]]:
    role = synthesized.resources[function_logical]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in synthesized.of_type("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _s3_grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, key pattern) pairs granted on the uploads bucket's objects."""
    grants = set()
    for statement in statements:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        for action in (a for a in actions if a.startswith("s3:")):
            for target in targets:
                grants.add((action, json.dumps(target).rpartition('"/')[2].rstrip('"]}')))
    return grants


def test_new_uploads_notify_the_scan_queue_which_feeds_the_scan_function(synthesized) -> None:
    [consumer] = resources.UPLOAD_CONSUMERS
    [notifications] = synthesized.of_type("Custom::S3BucketNotifications").values()
    [queue_config] = notifications["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert queue_config["Events"] == [resources.UPLOAD_EVENT] == ["s3:ObjectCreated:Post"]
    assert queue_config["Filter"]["Key"]["FilterRules"] == [{"Name": "prefix", "Value": consumer.s3_prefix}]
    function = _function(synthesized, consumer.handler)
    [mapping] = [
        m["Properties"]
        for m in synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function}
    ]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = mapping["EventSourceArn"]["Fn::GetAtt"][0]
    assert queue_config["QueueArn"] == {"Fn::GetAtt": [queue, "Arn"]}
    redrive = synthesized.resources[queue]["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == consumer.max_receives
    # a file that cannot be scanned is scan_failed within max_receives x the function's timeout (README)
    timeout = synthesized.resources[function]["Properties"]["Timeout"]
    assert synthesized.resources[queue]["Properties"]["VisibilityTimeout"] == timeout == consumer.timeout_seconds
    assert (mapping["BatchSize"], consumer.max_receives * timeout) == (1, 360)


def test_the_scan_function_reaches_objects_only_under_the_tenants_prefix(synthesized) -> None:
    [consumer] = resources.UPLOAD_CONSUMERS
    statements = _statements(synthesized, _function(synthesized, consumer.handler))

    assert _s3_grants(statements) == {
        ("s3:GetObject", "t/*"),
        ("s3:PutObjectTagging", "t/*"),
        ("s3:DeleteObject", "t/*"),
        ("s3:PutObject", "t/*"),
    }
    table_actions = {a for s in statements for a in s["Action"] if isinstance(a, str) and a.startswith("dynamodb:")}
    assert table_actions == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"}


TENANT_UPLOADS = "t/${aws:PrincipalTag/tenant_id}/*"


@pytest.mark.parametrize(
    ("operation", "expected"),
    [
        ("CreateTicketAttachment", {("s3:PutObject", TENANT_UPLOADS), ("s3:PutObjectTagging", TENANT_UPLOADS)}),
        ("DownloadAttachment", {("s3:GetObject", TENANT_UPLOADS)}),
        ("AttachmentThumbnail", {("s3:GetObject", TENANT_UPLOADS)}),
        ("DeleteAttachment", {("s3:DeleteObject", TENANT_UPLOADS)}),
        ("ListTicketAttachments", set()),
    ],
)
def test_api_functions_get_only_the_bucket_access_their_route_declares(synthesized, operation, expected) -> None:
    # Given the function of the route
    assert any(r.operation_id == operation for r in routes())
    [function] = [
        k for k in synthesized.of_type("AWS::Lambda::Function") if re.fullmatch(rf"{operation}[0-9A-F]{{8}}", k)
    ]
    properties = synthesized.resources[function]
    # Then the bucket access is its tenant role's (its own role has none)
    assert _s3_grants(_statements(synthesized, function)) == set()
    tenant_role = _tenant_role_of(_statements_by_role(synthesized), properties)
    [policy] = synthesized.resources[tenant_role]["Properties"]["Policies"]
    assert _s3_grants(policy["PolicyDocument"]["Statement"]) == expected


def test_uploads_still_tagged_pending_expire_with_their_records(synthesized) -> None:
    [uploads] = [b["Properties"] for k, b in synthesized.of_type("AWS::S3::Bucket").items() if k.startswith("Uploads")]
    rules = {rule["Id"]: rule for rule in uploads["LifecycleConfiguration"]["Rules"]}

    abandoned = rules["abandoned-uploads"]
    assert abandoned["Status"] == "Enabled"
    assert abandoned["Prefix"] == resources.UPLOADS_PREFIX
    assert abandoned["TagFilters"] == [{"Key": "deskos-status", "Value": "pending"}]
    assert abandoned["ExpirationInDays"] == PENDING_TTL.days == 2
    quarantine = rules["expire-quarantine"]
    assert quarantine["Prefix"] == resources.UPLOADS_PREFIX
    assert quarantine["TagFilters"] == [{"Key": "deskos-status", "Value": "quarantined"}]
    assert quarantine["ExpirationInDays"] == 30


def test_an_infected_upload_a_failed_scan_and_a_stuck_scan_queue_raise_alarms(synthesized) -> None:
    alarms = [a["Properties"] for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()]
    watched = {(a.get("Namespace"), a.get("MetricName")) for a in alarms}
    assert ("DeskOS", "UploadsInfected") in watched
    assert ("DeskOS", "UploadsScanFailed") in watched
    assert ("AWS/SQS", "ApproximateAgeOfOldestMessage") in watched
