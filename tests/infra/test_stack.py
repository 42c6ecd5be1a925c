"""The synthesized DeskOS stack: one function per route, least privilege, data stores, events, observability,
and a template that cdk-nag and cfn-lint accept."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from functions.api.catalog import Route, routes
from infra import resources
from infra.cdk.auth import COGNITO_USES
from shared.settings import CURSOR_SECRET, CURSOR_SECRET_ARN

pytestmark = pytest.mark.infra

WRITE_ACTIONS = {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"}
# CDK declares DependsOn on a function's role next to the GetAtt that already implies it: harmless and not ours.
CFN_LINT_IGNORED = {"W3005"}
CHECKOV = Path(sys.prefix) / "tools" / "checkov" / "bin" / "checkov"  # its own venv, made by scripts/bootstrap.sh


def _refs(value: Any) -> Iterator[str]:
    """Logical ids referenced (Ref or GetAtt) anywhere inside a template value."""
    if isinstance(value, dict):
        if "Ref" in value:
            yield value["Ref"]
        if "Fn::GetAtt" in value:
            yield value["Fn::GetAtt"][0]
        for inner in value.values():
            yield from _refs(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _refs(inner)


def _api_paths(synthesized) -> dict[str, str]:
    """Logical id of each API resource -> its path."""
    api_resources = synthesized.of_type("AWS::ApiGateway::Resource")

    def path(logical_id: str) -> str:
        props = api_resources[logical_id]["Properties"]
        parent = props["ParentId"]
        prefix = path(parent["Ref"]) if "Ref" in parent else ""
        return f"{prefix}/{props['PathPart']}"

    return {logical_id: path(logical_id) for logical_id in api_resources}


def _methods(synthesized) -> dict[tuple[str, str], dict]:
    """(HTTP method, path) -> method properties."""
    paths = _api_paths(synthesized)
    found = {}
    for method in synthesized.of_type("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        resource = props["ResourceId"]
        path = paths[resource["Ref"]] if "Ref" in resource else "/"
        found[(props["HttpMethod"], path)] = props
    return found


def _function_of(method: dict, functions: dict[str, dict], versions: dict[str, dict]) -> str:
    """The function a method invokes, through its published version (the one SnapStart snapshots)."""
    [version] = [ref for ref in _refs(method["Integration"]["Uri"]) if ref in versions]
    target = versions[version]["Properties"]["FunctionName"]["Ref"]
    assert target in functions
    return target


def _role_of(function: dict) -> str:
    return function["Properties"]["Role"]["Fn::GetAtt"][0]


def _statements_by_role(synthesized) -> dict[str, list[dict]]:
    """Every role's identity policy statements: attached policies and a role's inline ones."""
    found: dict[str, list[dict]] = {}
    for policy in synthesized.of_type("AWS::IAM::Policy").values():
        for role in policy["Properties"]["Roles"]:
            found.setdefault(role["Ref"], []).extend(policy["Properties"]["PolicyDocument"]["Statement"])
    for logical_id, role in synthesized.of_type("AWS::IAM::Role").items():
        for inline in role["Properties"].get("Policies", []):
            found.setdefault(logical_id, []).extend(inline["PolicyDocument"]["Statement"])
    return found


def _actions_by_role(synthesized) -> dict[str, set[str]]:
    return {
        role: {action for s in statements for action in _listed(s["Action"])}
        for role, statements in _statements_by_role(synthesized).items()
    }


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _tenant_role_of(statements_by_role: dict[str, list[dict]], function: dict) -> str:
    """The one tenant-access role a route's function may assume (``statements_by_role``: ``_statements_by_role``)."""
    statements = statements_by_role[_role_of(function)]
    [role] = [ref for s in statements if "sts:AssumeRole" in _listed(s["Action"]) for ref in _refs(s["Resource"])]
    return role


def _route_functions(synthesized) -> dict[Route, dict]:
    functions = synthesized.of_type("AWS::Lambda::Function")
    methods = _methods(synthesized)
    versions = synthesized.of_type("AWS::Lambda::Version")
    return {
        route: functions[_function_of(methods[(route.method, route.path)], functions, versions)] for route in routes()
    }


# --- API: one function and one method per route -------------------------------------------------------------


def test_every_route_is_served_by_its_own_function_running_its_handler(synthesized) -> None:
    functions = synthesized.of_type("AWS::Lambda::Function")
    methods = _methods(synthesized)
    assert set(methods) == {(r.method, r.path) for r in routes()}
    versions = synthesized.of_type("AWS::Lambda::Version")
    served_by = {route: _function_of(methods[(route.method, route.path)], functions, versions) for route in routes()}
    assert len(set(served_by.values())) == len(routes()), "two routes share a function"
    for route, logical_id in served_by.items():
        props = functions[logical_id]["Properties"]
        assert props["Handler"] == route.handler
        assert props["Runtime"] == "python3.12"
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert {"DESKOS_TABLE", "DESKOS_BUCKET", "DESKOS_CURSOR_SECRET_ARN"} <= set(props["Environment"]["Variables"])


def test_every_route_function_starts_from_a_snapstart_snapshot(synthesized) -> None:
    # the API invokes each function's published version (_function_of), and only those have a snapshot
    for props in (f["Properties"] for f in _route_functions(synthesized).values()):
        assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        assert props["Runtime"] in ("python3.12", "python3.13")  # SnapStart for Python needs 3.12 or later


def test_routes_with_roles_need_a_cognito_token_and_public_routes_none(synthesized) -> None:
    [authorizer] = synthesized.of_type("AWS::ApiGateway::Authorizer").items()
    assert authorizer[1]["Properties"]["Type"] == "COGNITO_USER_POOLS"
    methods = _methods(synthesized)
    for route in routes():
        method = methods[(route.method, route.path)]
        if route.roles is None:
            assert method["AuthorizationType"] == "NONE", route
            assert "AuthorizerId" not in method, route
        else:
            assert method["AuthorizationType"] == "COGNITO_USER_POOLS", route
            assert method["AuthorizerId"] == {"Ref": authorizer[0]}, route


def test_the_stage_logs_access_throttles_and_traces(synthesized) -> None:
    [stage] = synthesized.of_type("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["AccessLogSetting"]["DestinationArn"]
    assert props["TracingEnabled"] is True
    [settings] = props["MethodSettings"]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0
    assert settings["MetricsEnabled"] is True and settings["LoggingLevel"] == "ERROR"


# --- IAM: least privilege ---------------------------------------------------------------------------------------


def test_every_function_has_a_role_of_its_own(synthesized) -> None:
    functions = synthesized.our_functions().values()
    roles = Counter(_role_of(f) for f in functions)
    assert roles and max(roles.values()) == 1


def test_read_only_routes_cannot_write_the_table(synthesized) -> None:
    granted, statements = _actions_by_role(synthesized), _statements_by_role(synthesized)
    for route, function in _route_functions(synthesized).items():
        actions = granted[_tenant_role_of(statements, function)]
        assert {"dynamodb:GetItem", "dynamodb:Query"} <= actions, route
        if route.writes:
            assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"} <= actions, route
        else:
            assert not actions & WRITE_ACTIONS, route


def test_no_policy_grants_scan_or_every_dynamodb_action(synthesized) -> None:
    for role, actions in _actions_by_role(synthesized).items():
        assert not actions & {"dynamodb:Scan", "dynamodb:*", "*"}, role


def test_no_function_configuration_holds_the_cursor_secret_only_where_to_read_it(synthesized) -> None:
    [secret] = synthesized.of_type("AWS::SecretsManager::Secret")
    statements = _statements_by_role(synthesized)
    for logical_id, function in synthesized.our_functions().items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert "resolve:secretsmanager" not in json.dumps(variables), logical_id  # no value resolved at deploy
        assert CURSOR_SECRET not in variables, logical_id
        assert variables[CURSOR_SECRET_ARN] == {"Ref": secret}, logical_id
        reads = [s for s in statements[_role_of(function)] if "secretsmanager:GetSecretValue" in _listed(s["Action"])]
        assert [s["Resource"] for s in reads] == [{"Ref": secret}], logical_id


def test_table_access_is_scoped_to_the_table_and_its_indexes(synthesized) -> None:
    [table_id] = synthesized.of_type("AWS::DynamoDB::Table")
    for statements in _statements_by_role(synthesized).values():
        for statement in statements:
            if any(a.startswith("dynamodb:") and a != "dynamodb:ListStreams" for a in _listed(statement["Action"])):
                assert statement["Resource"] != "*"
                assert set(_refs(statement["Resource"])) == {table_id}


# --- Data -------------------------------------------------------------------------------------------------------


def test_the_table_is_recoverable_streamed_expiring_and_indexed(synthesized) -> None:
    [table] = synthesized.of_type("AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert table["DeletionPolicy"] == "Retain"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert props["TimeToLiveSpecification"] == {"AttributeName": resources.TABLE_TTL_ATTRIBUTE, "Enabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    indexes = {
        index["IndexName"]: (tuple(k["AttributeName"] for k in index["KeySchema"]), index["Projection"])
        for index in props["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        **{name: (keys, {"ProjectionType": "ALL"}) for name, keys in resources.TABLE_INDEXES.items()},
        **{
            name: (keys, {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["entity"]})
            for name, keys in resources.SYSTEM_INDEXES.items()
        },
    }


def test_the_uploads_bucket_is_private_encrypted_and_cleans_up(synthesized) -> None:
    buckets = synthesized.of_type("AWS::S3::Bucket")
    [uploads] = [b["Properties"] for k, b in buckets.items() if k.startswith("Uploads")]
    for bucket in buckets.values():
        assert set(bucket["Properties"]["PublicAccessBlockConfiguration"].values()) == {True}
        assert bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = uploads["LifecycleConfiguration"]["Rules"]
    assert any(r.get("AbortIncompleteMultipartUpload") for r in rules)
    assert uploads["LoggingConfiguration"]["DestinationBucketName"]


def test_buckets_refuse_plain_http(synthesized) -> None:
    policies = synthesized.of_type("AWS::S3::BucketPolicy").values()
    assert len(policies) == len(synthesized.of_type("AWS::S3::Bucket"))
    for policy in policies:
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false" for s in statements)


def test_the_user_pool_carries_tenancy_attributes_and_role_groups(synthesized) -> None:
    [pool] = synthesized.of_type("AWS::Cognito::UserPool").values()
    schema = {a["Name"]: a for a in pool["Properties"]["Schema"]}
    for name in resources.USER_POOL_CUSTOM_ATTRIBUTES:
        assert schema[name]["Mutable"] is True
    policy = pool["Properties"]["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12 and policy["RequireSymbols"] is True
    groups = {g["Properties"]["GroupName"] for g in synthesized.of_type("AWS::Cognito::UserPoolGroup").values()}
    assert groups == set(resources.USER_POOL_GROUPS)
    [client] = synthesized.of_type("AWS::Cognito::UserPoolClient").values()
    assert client["Properties"]["GenerateSecret"] is False
    assert {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"} <= set(client["Properties"]["ExplicitAuthFlows"])


# --- Events -----------------------------------------------------------------------------------------------------


def test_stream_consumers_report_partial_failures_and_dead_letter_what_they_give_up_on(synthesized) -> None:
    functions = synthesized.of_type("AWS::Lambda::Function")
    queues = synthesized.of_type("AWS::SQS::Queue")
    mappings = [m for m in synthesized.of_type("AWS::Lambda::EventSourceMapping").values() if _from_stream(m)]
    by_handler = {functions[m["Properties"]["FunctionName"]["Ref"]]["Properties"]["Handler"]: m for m in mappings}
    assert set(by_handler) == {c.handler for c in resources.STREAM_CONSUMERS}
    for consumer in resources.STREAM_CONSUMERS:
        props = by_handler[consumer.handler]["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BisectBatchOnFunctionError"] is True
        assert props["MaximumRetryAttempts"] == consumer.max_retries
        assert props["BatchSize"] == consumer.batch_size
        [dead_letters] = _refs(props["DestinationConfig"]["OnFailure"]["Destination"])
        assert dead_letters in queues
        assert queues[dead_letters]["Properties"]["SqsManagedSseEnabled"] is True


def _from_stream(mapping: dict) -> bool:
    return "StreamArn" in json.dumps(mapping["Properties"]["EventSourceArn"])


# --- Observability ----------------------------------------------------------------------------------------------


def test_every_log_group_keeps_a_month(synthesized) -> None:
    groups = synthesized.of_type("AWS::Logs::LogGroup")
    for function in synthesized.our_functions().values():
        [group] = _refs(function["Properties"]["LoggingConfig"]["LogGroup"])
        assert groups[group]["Properties"]["RetentionInDays"] == 30
    assert all(g["Properties"]["RetentionInDays"] == 30 for g in groups.values())


def test_alarms_watch_api_errors_function_errors_stream_lag_and_dead_letters(synthesized) -> None:
    alarms = [a["Properties"] for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()]
    watched = Counter((a.get("Namespace"), a.get("MetricName")) for a in alarms)
    assert watched[("AWS/ApiGateway", "5XXError")] >= 1
    errors_watched = {
        json.dumps(m["MetricStat"]["Metric"]["Dimensions"], sort_keys=True)
        for a in alarms
        for m in a.get("Metrics", [])
        if "MetricStat" in m and m["MetricStat"]["Metric"]["MetricName"] == "Errors"
    }
    assert len(errors_watched) == len(synthesized.our_functions())  # every function is in an errors alarm
    assert watched[("AWS/Lambda", "IteratorAge")] == len(resources.STREAM_CONSUMERS)
    dead_letter_queues = [q for q in resources.QUEUES if q.dead_letter_for]
    assert watched[("AWS/SQS", "ApproximateNumberOfMessagesVisible")] == len(dead_letter_queues)
    assert all(a["AlarmActions"] for a in alarms), "an alarm nobody hears"


def test_the_work_order_automation_is_a_stream_consumer_that_may_mail_and_is_alarmed(synthesized) -> None:
    functions = synthesized.of_type("AWS::Lambda::Function")
    handler = "functions.events.work_order_automation.handler"
    [consumer] = [name for name, f in functions.items() if f["Properties"]["Handler"] == handler]
    mappings = synthesized.of_type("AWS::Lambda::EventSourceMapping").values()
    assert any(m["Properties"]["FunctionName"] == {"Ref": consumer} for m in mappings)
    actions = _actions_by_role(synthesized)[_role_of(functions[consumer])]
    assert {"ses:SendEmail", "cloudwatch:PutMetricData"} <= actions
    alarms = {a["Properties"].get("MetricName") for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()}
    assert "WorkOrdersUnassigned" in alarms


def test_the_dashboard_shows_every_endpoint(synthesized) -> None:
    [dashboard] = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for route in routes():
        assert route.operation_id in body
    for metric in ("5XXError", "Latency", "Errors", "Throttles", "IteratorAge"):
        assert metric in body
    # every dead-letter queue's depth: the stream consumers', the scan's and the mail receiver's
    assert body.count("ApproximateNumberOfMessagesVisible") == len([q for q in resources.QUEUES if q.dead_letter_for])


def test_the_sla_sweep_runs_every_minute_with_mail_and_metrics(synthesized) -> None:
    # Given the product's own schedules (not a patched list)
    rules = [r["Properties"] for r in synthesized.of_type("AWS::Events::Rule").values()]
    functions = synthesized.of_type("AWS::Lambda::Function")

    # Then the SLA sweep fires every minute
    [sweep] = [r for r in rules if functions[r["Targets"][0]["Arn"]["Fn::GetAtt"][0]]["Properties"]["Handler"]
               == "functions.schedules.sla_sweep.handler"]  # fmt: skip
    assert sweep["ScheduleExpression"] == "rate(1 minute)"


def test_an_sla_breach_raises_an_alarm_and_shows_on_the_dashboard(synthesized) -> None:
    alarms = [a["Properties"] for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()]
    [breached] = [a for a in alarms if a.get("MetricName") == "SlaBreached"]
    assert (breached["Namespace"], breached["Threshold"], breached["Statistic"]) == ("DeskOS", 1, "Sum")
    assert breached["AlarmActions"]
    [dashboard] = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert "SlaBreached" in body and "SlaWarning" in body


def test_onboarding_reminders_run_every_15_minutes_and_its_metrics_show_on_the_dashboard(synthesized) -> None:
    rules = [r["Properties"] for r in synthesized.of_type("AWS::Events::Rule").values()]
    functions = synthesized.of_type("AWS::Lambda::Function")
    [reminders] = [r for r in rules if functions[r["Targets"][0]["Arn"]["Fn::GetAtt"][0]]["Properties"]["Handler"]
                   == "functions.schedules.onboarding_reminders.handler"]  # fmt: skip
    assert reminders["ScheduleExpression"] == "rate(15 minutes)"
    [dashboard] = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert all(name in body for name in ("OnboardingStarted", "OnboardingCompleted", "RemindersSent"))


def test_outputs_tell_a_deployer_where_things_are(synthesized) -> None:
    outputs = synthesized.template.to_json()["Outputs"]
    assert {"ApiUrl", "UserPoolId", "UserPoolClientId", "TableName", "BucketName"} <= set(outputs)


# --- Linters ----------------------------------------------------------------------------------------------------


def test_cdk_nag_finds_nothing_unacknowledged(synthesized) -> None:
    from cdk_nag import AwsSolutionsChecks

    report = AwsSolutionsChecks().validate_scope(synthesized.app)
    findings = [
        f"{v.severity} {v.rule_name}: {[r.construct_path for r in v.violating_resources]}" for v in report.violations
    ]
    assert findings == []


def test_checkov_passes_every_stack_and_each_skipped_check_says_why(synthesized) -> None:
    assert CHECKOV.exists(), "scripts/bootstrap.sh installs checkov (in a venv of its own: it pins boto3)"
    command = [str(CHECKOV), "-d", str(synthesized.outdir), "--framework", "cloudformation", "--skip-download"]
    run = subprocess.run([*command, "-o", "json"], capture_output=True, text=True, check=False)
    [report] = [r for r in _listed(json.loads(run.stdout)) if r["check_type"] == "cloudformation"]
    results = report["results"]
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] >= len(synthesized.resources)  # the nested templates too
    assert [f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in results["failed_checks"]] == []
    assert results["skipped_checks"]
    for skipped in results["skipped_checks"]:
        assert len(skipped["check_result"].get("suppress_comment", "")) > 40, skipped["check_id"]


def test_cfn_lint_reports_no_errors_or_warnings_in_any_stack(synthesized) -> None:
    from cfnlint.api import lint

    assert len(synthesized.templates) > 1  # the parent and the domains' nested stacks
    for name, template in synthesized.templates.items():
        matches = [
            m
            for m in lint(json.dumps(template), regions=["us-east-1", "eu-west-1"])
            if m.rule.id not in CFN_LINT_IGNORED
        ]
        assert [f"{m.rule.id} {m.message} ({m.path})" for m in matches] == [], name


def test_a_consumer_may_send_email_only_if_it_declares_so(synthesized) -> None:
    # Given the stream consumers, one of which (the survey invitations) declares it writes through SES
    functions = synthesized.of_type("AWS::Lambda::Function")
    granted = _actions_by_role(synthesized)
    by_handler = {f["Properties"]["Handler"]: f for f in functions.values()}
    assert any("ses" in c.writes for c in resources.STREAM_CONSUMERS)
    for consumer in resources.STREAM_CONSUMERS:
        function = by_handler[consumer.handler]
        # Then only that one may send email (where its links point: tests/infra/test_web.py)
        assert ("ses:SendEmail" in granted[_role_of(function)]) == ("ses" in consumer.writes), consumer.name


def test_only_routes_that_declare_a_use_of_the_user_pool_may_administer_its_users_and_only_there(synthesized) -> None:
    # Given the routes, of which the user administration ones declare what they do with the pool
    granted, statements = _actions_by_role(synthesized), _statements_by_role(synthesized)
    [pool_id] = synthesized.of_type("AWS::Cognito::UserPool")
    declared = {r for r in _route_functions(synthesized) if r.cognito}
    assert {r.operation_id for r in declared} >= {"InviteUser", "ChangeUserRole", "DeactivateUser", "ReactivateUser"}
    for route, function in _route_functions(synthesized).items():
        role = _role_of(function)
        cognito_actions = {a for a in granted.get(role, set()) if a.startswith("cognito-idp:")}
        # Then each gets exactly its uses' actions, on the pool alone, and learns the pool's id; no other route any
        assert cognito_actions == {a for use in route.cognito for a in COGNITO_USES[use]}, route
        for statement in statements.get(role, []):
            if any(a.startswith("cognito-idp:") for a in _listed(statement["Action"])):
                assert set(_refs(statement["Resource"])) == {pool_id}, route
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        assert ("DESKOS_USER_POOL_ID" in variables) == bool(route.cognito), route
        assert ("ses:SendEmail" in granted.get(role, set())) == route.mail, route


# --- Email ------------------------------------------------------------------------------------------------------


def test_inbound_email_is_stored_under_its_prefix_and_handed_to_the_receiver(synthesized) -> None:
    [rule] = synthesized.of_type("AWS::SES::ReceiptRule").values()
    props = rule["Properties"]["Rule"]
    assert props["Recipients"] == [".mail.example.com"] and props["ScanEnabled"] and props["TlsPolicy"] == "Require"
    store, invoke = props["Actions"]
    assert store["S3Action"]["ObjectKeyPrefix"] == resources.INBOUND_MAIL.s3_prefix
    assert invoke["LambdaAction"]["InvocationType"] == "Event"
    functions = synthesized.of_type("AWS::Lambda::Function")
    [receiver] = [n for n, f in functions.items() if f["Properties"]["Handler"] == resources.INBOUND_MAIL.handler]
    assert list(_refs(invoke["LambdaAction"]["FunctionArn"])) == [receiver]
    assert functions[receiver]["Properties"]["Environment"]["Variables"]["DESKOS_INBOUND_DOMAIN"] == "mail.example.com"
    [config] = [
        c["Properties"]
        for c in synthesized.of_type("AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": receiver}
    ]
    assert config["MaximumRetryAttempts"] == 2 and "OnFailure" in config["DestinationConfig"]


def test_the_receiver_may_read_only_raw_mail_and_sign_uploads_never_scan_or_delete(synthesized) -> None:
    functions = synthesized.of_type("AWS::Lambda::Function")
    [receiver] = [f for f in functions.values() if f["Properties"]["Handler"] == resources.INBOUND_MAIL.handler]
    actions = _actions_by_role(synthesized)[_role_of(receiver)]
    assert {"s3:GetObject", "s3:PutObject", "dynamodb:PutItem", "cloudwatch:PutMetricData"} <= actions
    assert not actions & {"dynamodb:Scan", "dynamodb:DeleteItem", "s3:DeleteObject", "ses:SendRawEmail"}
    statements = _statements_by_role(synthesized)[_role_of(receiver)]
    [get] = [s for s in statements if _listed(s["Action"]) == ["s3:GetObject"]]
    assert resources.INBOUND_MAIL.s3_prefix in json.dumps(get["Resource"]) and "t/*" not in json.dumps(get["Resource"])


def test_email_in_and_out_is_measured_alarmed_and_on_the_dashboard(synthesized) -> None:
    alarms = {a["Properties"].get("MetricName") for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()}
    assert "EmailsRejected" in alarms
    [dashboard] = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert all(name in body for name in ("EmailsReceived", "EmailsRejected", "NotificationsSent"))
    consumers = synthesized.of_type("AWS::Lambda::Function").values()
    [notifications] = [c for c in consumers if c["Properties"]["Handler"].endswith("ticket_notifications.handler")]
    assert notifications["Properties"]["Environment"]["Variables"]["DESKOS_INBOUND_DOMAIN"] == "mail.example.com"
