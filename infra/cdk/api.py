"""The REST API, generated from the route catalog: one function and one method per route."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Aws, Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from functions.api.catalog import Route
from infra.cdk import access_roles, auth
from infra.cdk.functions import FunctionFactory, log_group
from infra.cdk.nag import acknowledge, skip_checkov
from shared.credentials import profile

STAGE = "v1"
API_TIMEOUT = Duration.seconds(10)  # well under API Gateway's 29 s integration limit


@dataclass(frozen=True)
class Api:
    rest_api: apigateway.RestApi
    authorizer: apigateway.IAuthorizer
    routes: tuple[Route, ...]
    pool: cognito.IUserPool  # user administration routes call it (``auth.may_administer_users``)


def rest_api(
    scope: Construct, routes: Sequence[Route], pool: cognito.IUserPool, *, rate_limit: int, burst_limit: int
) -> Api:
    """The API, its stage and authorizer; the methods are added by each domain's stack (``add_routes``)."""
    access_logs = log_group(scope, "ApiAccessLogs")
    api = apigateway.RestApi(
        scope,
        "Api",
        rest_api_name="deskos",
        description="DeskOS API: one Lambda function per operation",
        endpoint_types=[apigateway.EndpointType.REGIONAL],
        # the campaign emails' open pixel (a GIF a function returns base64-encoded): image requests accept image/*
        binary_media_types=["image/*"],
        # API Gateway writes execution logs through an account-wide role; the stack sets it so a fresh account works.
        cloud_watch_role=True,
        deploy_options=apigateway.StageOptions(
            stage_name=STAGE,
            access_log_destination=apigateway.LogGroupLogDestination(access_logs),
            access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                caller=True,
                http_method=True,
                ip=True,
                protocol=True,
                request_time=True,
                resource_path=True,
                response_length=True,
                status=True,
                user=True,
            ),
            logging_level=apigateway.MethodLoggingLevel.ERROR,
            metrics_enabled=True,  # per-method metrics: the dashboard's 5xx and p99 per endpoint
            tracing_enabled=True,
            throttling_rate_limit=rate_limit,
            throttling_burst_limit=burst_limit,
        ),
    )
    # The path tree lives here: domains share prefixes (/support/...), and a path part exists once per parent.
    for route in routes:
        api.root.resource_for_path(route.path)
    authorizer = apigateway.CognitoUserPoolsAuthorizer(scope, "Authorizer", cognito_user_pools=[pool])
    _acknowledge_api_findings(api)
    return Api(api, authorizer, tuple(routes), pool)


def add_routes(
    api: Api, routes: Sequence[Route], factory: FunctionFactory, roles: Mapping[str, access_roles.TenantRole]
) -> None:
    """One function and one method per route, created in ``factory``'s scope (a domain's nested stack) on the
    parent's API and path resources. The stage's deployment depends on every method wherever it lives."""
    for route in routes:
        function = factory.create(
            route.operation_id,
            route.handler,
            writes=route.writes,
            direct_table_access=False,
            timeout=API_TIMEOUT,
            description=f"{route.method} {route.path}",
            snap_start=True,
            extras=("ses",) if route.mail else (),
        )
        access_roles.may_assume(function, roles[profile(route.writes, route.s3)])
        if route.cognito:
            auth.may_administer_users(function, api.pool, route.cognito)
        method = apigateway.Method(
            factory.scope,
            f"{route.operation_id}Method",
            resource=api.rest_api.root.resource_for_path(route.path),
            http_method=route.method,
            integration=_lambda_proxy(function.current_version),  # the published version: SnapStart's
            options=apigateway.MethodOptions(
                operation_name=route.operation_id, **_authorization(route, api.authorizer)
            ),
        )
        function.current_version.add_permission(
            "ApiInvoke",
            principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
            # The stage by name, not by reference: the stage's deployment waits for this stack, so this stack
            # cannot wait for the stage.
            source_arn=api.rest_api.arn_for_execute_api(route.method, re.sub(r"{[^}]*}", "*", route.path), STAGE),
        )
        if route.roles is None:
            reason = (
                f"{route.operation_id} ({route.method} {route.path}) declares no roles in its OpenAPI operation: "
                "public by design (the API documentation; answering a survey by its signed link, whose token alone "
                "names the tenant), so its handler gets no tenant context from a token."
            )
            acknowledge(method, reason, "AwsSolutions-APIG4", "AwsSolutions-COG4")
            skip_checkov(method, reason, "CKV_AWS_59")


def _lambda_proxy(function: lambda_.IFunction) -> apigateway.Integration:
    """What ``LambdaIntegration`` renders, without the permission it would scope to the stage by reference."""
    return apigateway.Integration(
        type=apigateway.IntegrationType.AWS_PROXY,
        integration_http_method="POST",
        uri=f"arn:{Aws.PARTITION}:apigateway:{Aws.REGION}:lambda:path/2015-03-31/functions/"
        f"{function.function_arn}/invocations",
    )


def _authorization(route: Route, authorizer: apigateway.IAuthorizer) -> dict:
    if route.roles is None:
        return {"authorization_type": apigateway.AuthorizationType.NONE}
    # The token is verified here; the route's roles are checked by the handler from cognito:groups.
    return {"authorization_type": apigateway.AuthorizationType.COGNITO, "authorizer": authorizer}


def _acknowledge_api_findings(api: apigateway.RestApi) -> None:
    skip_checkov(
        api.deployment_stage,
        "Answers depend on the caller's token (tenant, role, client): a stage cache would have to key on the "
        "token and could serve one user's page to another for its TTL; it is also billed per hour.",
        "CKV_AWS_120",
    )
    acknowledge(
        api,
        "Every handler validates its input with Powertools and pydantic and answers RFC 9457 problem details "
        "with field errors; API Gateway validation would answer a different shape.",
        "AwsSolutions-APIG2",
    )
    acknowledge(
        api,
        "No WAF by default: stage throttling bounds abuse and a web ACL is billed per month and per request; "
        "operators who need one associate it with the stage outside this stack.",
        "AwsSolutions-APIG3",
    )
    acknowledge(
        api,
        "The account-level API Gateway logging role uses the AWS-managed AmazonAPIGatewayPushToCloudWatchLogs "
        "policy, which exists for exactly this purpose.",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
    )
