"""One Lambda function, its own role, its own log group: the building block of every endpoint and consumer.

Each role gets only the table actions its kind of work needs; no role can Scan.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import resources
from infra.access_roles import READ_ACTIONS, WRITE_ACTIONS
from infra.cdk import packaging
from infra.cdk.nag import acknowledge, skip_checkov
from shared.settings import CURSOR_SECRET_ARN, PUBLIC_URL_PARAMETER

LOG_RETENTION = logs.RetentionDays.ONE_MONTH
METRICS_NAMESPACE = "DeskOS"
SES_IDENTITIES_FINDING = "arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*"


class FunctionFactory:
    """Creates functions that share the code asset, the dependencies layer and the environment.

    Every function may read the cursor-signing secret, whose ARN (never its value) is in the environment. A function
    that may send email (the ``ses`` extra) builds links to the web app: it may read the SSM parameter
    ``public_url_parameter`` that holds their address, and its environment names it (``shared.settings.public_url``
    reads it once per container). The name is known before the distribution exists, so the API's functions (which
    the distribution depends on) need no reference to it."""

    def __init__(
        self,
        scope: Construct,
        *,
        table: dynamodb.ITable,
        layer: lambda_.ILayerVersion,
        secret: secretsmanager.ISecret,
        environment: Mapping[str, str],
        public_url_parameter: str,
    ) -> None:
        self.scope = scope
        self.public_url_parameter = public_url_parameter
        self.table = table
        self.layer = layer
        self.secret = secret
        self.environment = {**environment, CURSOR_SECRET_ARN: secret.secret_arn}
        self.code = packaging.app_code()
        self.functions: list[lambda_.Function] = []
        self._log_groups: dict[str, logs.LogGroup] = {}

    def within(self, scope: Construct) -> FunctionFactory:
        """The same factory creating into another scope (a nested stack), with the code asset and log groups of
        its own there (an asset belongs to one stack); ``functions`` stays the one list of every function."""
        moved = copy.copy(self)
        moved.scope = scope
        moved.code = packaging.app_code()
        moved._log_groups = {}
        return moved

    def create(
        self,
        construct_id: str,
        handler: str,
        *,
        writes: bool,
        timeout: Duration,
        description: str,
        extras: Iterable[str] = (),
        table_actions: Iterable[str] | None = None,
        direct_table_access: bool = True,
        memory_size: int = 512,
        layers: Iterable[lambda_.ILayerVersion] = (),
        environment: Mapping[str, str] | None = None,
        system_indexes: bool = False,
        snap_start: bool = False,
    ) -> lambda_.Function:
        """With ``snap_start`` every published version is initialised once and its new execution environments start
        from that snapshot (``functions/api/core/snapstart.py`` primes it and undoes what must not be shared); only
        a published version has one, so its callers invoke ``function.current_version``.
        ``table_actions`` narrows the table access below what ``writes`` grants (e.g. the scan function);
        ``system_indexes`` also lets it read the cross-tenant indexes (scheduled jobs); without
        ``direct_table_access`` the role gets none (API routes reach the table through a tenant role)."""
        log_group = self._log_group(handler)
        reach = "the table" if direct_table_access else "a tenant's data"
        access = f"{'reads and writes' if writes else 'reads'} {reach}"
        role = iam.Role(
            self.scope,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"DeskOS {construct_id}: {access}",
        )
        acknowledge(
            role,
            "Active tracing: xray:PutTraceSegments and PutTelemetryRecords support no resource-level permissions, "
            "so AWS requires Resource '*'.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        log_group.grant_write(role)
        self.secret.grant_read(role)
        if direct_table_access:
            table_arns = [
                self.table.table_arn,
                *(f"{self.table.table_arn}/index/{name}" for name in resources.TABLE_INDEXES),
                *(f"{self.table.table_arn}/index/{name}" for name in resources.SYSTEM_INDEXES if system_indexes),
            ]
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=list(table_actions or (WRITE_ACTIONS if writes else READ_ACTIONS)), resources=table_arns
                )
            )
        for extra in extras:
            _grant_extra(role, extra)
        links = {PUBLIC_URL_PARAMETER: self.public_url_parameter} if "ses" in extras else {}
        if links:  # its emails carry links: it reads where they point
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["ssm:GetParameter"], resources=[parameter_arn(role, self.public_url_parameter)]
                )
            )
        function = lambda_.Function(
            self.scope,
            construct_id,
            code=self.code,
            handler=handler,
            runtime=packaging.RUNTIME,
            architecture=packaging.ARCHITECTURE,
            layers=[self.layer, *layers],
            # 512 MB: pydantic and powertools import noticeably faster with its CPU share
            memory_size=memory_size,
            timeout=timeout,
            tracing=lambda_.Tracing.ACTIVE,
            environment={**self.environment, **links, **(environment or {})},
            log_group=log_group,
            role=role,
            description=description,
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS if snap_start else None,
        )
        acknowledge(
            function,
            "Pinned to Python 3.12 together with the dependencies layer, whose wheels are built for cp312; both "
            "move to a newer runtime in one change.",
            "AwsSolutions-L1",
        )
        skip_function_checks(function)
        self.functions.append(function)
        return function

    def _log_group(self, handler: str) -> logs.LogGroup:
        # One group per handler module, not per function: a stack holds at most 500 resources, and the
        # routes of a module share their code (Powertools log lines name the route and correlation id).
        module = handler.rsplit(".", 1)[0].removeprefix("functions.")
        if module not in self._log_groups:
            name = "".join(part.title() for part in module.replace(".", "_").split("_"))
            self._log_groups[module] = log_group(self.scope, f"{name}Logs")
        return self._log_groups[module]


def parameter_arn(scope: Construct, name: str) -> str:
    """The ARN of the SSM parameter ``name`` (``/a/b``), by name: no reference to the parameter resource."""
    return Stack.of(scope).format_arn(service="ssm", resource="parameter", resource_name=name.lstrip("/"))


def log_group(scope: Construct, construct_id: str) -> logs.LogGroup:
    group = logs.LogGroup(scope, construct_id, retention=LOG_RETENTION)
    skip_checkov(
        group,
        "CloudWatch Logs encrypts every log group at rest; DeskOS logs ids, routes and errors rather than "
        "tenants' content, so a customer-managed key would add per-request KMS cost and a key policy to keep.",
        "CKV_AWS_158",
    )
    return group


def skip_function_checks(function: lambda_.Function) -> None:
    """The checkov checks no DeskOS function is meant to pass, with the reasons."""
    skip_checkov(
        function,
        "Dead-letter queues catch failed asynchronous invocations: API functions are invoked synchronously, "
        "consumers through event source mappings with dead-letter queues of their own, and a failed scheduled run "
        "is redone by the next run minutes later and pages through the functions' errors alarm.",
        "CKV_AWS_116",
    )
    skip_checkov(
        function,
        "DeskOS calls only AWS APIs (DynamoDB, S3, STS, SES, Secrets Manager) over TLS, authorised by IAM; a VPC "
        "would add NAT or endpoint cost and cold-start latency and protect nothing more.",
        "CKV_AWS_117",
    )
    skip_checkov(
        function,
        "Concurrency is bounded at the API by stage throttling; reserving concurrency per function would carve "
        "the account's pool into one fixed slice per route.",
        "CKV_AWS_115",
    )
    skip_checkov(
        function,
        "The environment holds names and ARNs, no secret: the cursor key is read from Secrets Manager on first "
        "use (the infra tests assert no function's environment holds a secret), so a customer-managed key would "
        "protect nothing confidential.",
        "CKV_AWS_173",
    )


def _grant_extra(role: iam.Role, extra: str) -> None:
    """What a consumer or schedule may write besides the table (``writes`` in ``infra.resources``)."""
    if extra == "ses":
        identities = Stack.of(role).format_arn(service="ses", resource="identity", resource_name="*")
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["ses:SendEmail", "ses:SendRawEmail"], resources=[identities])
        )
        acknowledge(
            role,
            "DeskOS sends from the SES identities the operator verifies outside this stack (a domain or "
            "addresses), so the role may send from any identity of this account and region, nothing else.",
            f"AwsSolutions-IAM5[Resource::{SES_IDENTITIES_FINDING}]",
        )
    elif extra == "cloudwatch":
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
            )
        )
        acknowledge(
            role,
            "Tracing (X-Ray) and cloudwatch:PutMetricData support no resource-level permissions; PutMetricData is "
            "limited to the DeskOS metrics namespace by condition.",
            "AwsSolutions-IAM5[Resource::*]",
        )
    else:
        raise ValueError(f"unknown extra permission {extra!r}; known: ses, cloudwatch")
