"""The REST API, generated from the route catalog: one function and one method per route."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from functions.api.catalog import Route
from infra.cdk import access_roles, auth
from infra.cdk.functions import LOG_RETENTION, FunctionFactory
from infra.cdk.nag import acknowledge
from shared.credentials import profile

STAGE = "v1"
API_TIMEOUT = Duration.seconds(10)  # well under API Gateway's 29 s integration limit


@dataclass(frozen=True)
class Api:
    rest_api: apigateway.RestApi
    routes: tuple[Route, ...]


def rest_api(
    scope: Construct,
    routes: Sequence[Route],
    factory: FunctionFactory,
    pool: cognito.IUserPool,
    *,
    bucket: s3.IBucket,
    rate_limit: int,
    burst_limit: int,
) -> Api:
    access_logs = logs.LogGroup(scope, "ApiAccessLogs", retention=LOG_RETENTION)
    api = apigateway.RestApi(
        scope,
        "Api",
        rest_api_name="deskos",
        description="DeskOS API: one Lambda function per operation",
        endpoint_types=[apigateway.EndpointType.REGIONAL],
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
    authorizer = apigateway.CognitoUserPoolsAuthorizer(scope, "Authorizer", cognito_user_pools=[pool])
    # A route's function reaches the table and the bucket only through its access profile's tenant role.
    roles = access_roles.tenant_roles(scope, routes, factory.table, bucket)
    for route in routes:
        function = factory.create(
            route.operation_id,
            route.handler,
            writes=route.writes,
            direct_table_access=False,
            timeout=API_TIMEOUT,
            description=f"{route.method} {route.path}",
            extras=("ses",) if route.mail else (),
        )
        access_roles.may_assume(function, roles[profile(route.writes, route.s3)])
        if route.cognito:
            auth.may_administer_users(function, pool, route.cognito)
        method = api.root.resource_for_path(route.path).add_method(
            route.method,
            apigateway.LambdaIntegration(function, allow_test_invoke=False),
            operation_name=route.operation_id,
            **_authorization(route, authorizer),
        )
        if route.roles is None:
            reason = (
                f"{route.operation_id} ({route.method} {route.path}) declares no roles in its OpenAPI operation: "
                "public by design (the API documentation; answering a survey by its signed link, whose token alone "
                "names the tenant), so its handler gets no tenant context from a token."
            )
            acknowledge(method, reason, "AwsSolutions-APIG4", "AwsSolutions-COG4")
    _acknowledge_api_findings(api)
    return Api(api, tuple(routes))


def _authorization(route: Route, authorizer: apigateway.IAuthorizer) -> dict:
    if route.roles is None:
        return {"authorization_type": apigateway.AuthorizationType.NONE}
    # The token is verified here; the route's roles are checked by the handler from cognito:groups.
    return {"authorization_type": apigateway.AuthorizationType.COGNITO, "authorizer": authorizer}


def _acknowledge_api_findings(api: apigateway.RestApi) -> None:
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
