"""DeskOS on AWS, generated from the route catalog and ``infra.resources``: a parent stack and a nested stack per
API domain."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from functions.api.catalog import Route, routes
from infra import resources
from infra.cdk import access_roles, api, auth, clamav_layer, domains, events, observability, packaging, storage, web
from infra.cdk.functions import METRICS_NAMESPACE, FunctionFactory
from infra.cdk.nag import acknowledge, skip_checkov


@dataclass(frozen=True)
class Options:
    """Deployment choices, read from CDK context by ``infra.cdk.app``."""

    allowed_origins: Sequence[str] = ("http://localhost:3000",)
    alarm_email: str | None = None
    cognito_plus: bool = False
    mfa_required: bool = False
    api_rate_limit: int = 100
    api_burst_limit: int = 200
    inbound_domain: str | None = None  # tenants receive mail at support@<tenant>.<inbound_domain>


class DeskOsStack(Stack):
    """The shared resources, the event pipeline and observability; the API's functions and methods live in one
    nested stack per domain module (``infra.cdk.domains``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        options: Options,
        *,
        route_table: Sequence[Route] | None = None,
        **kwargs,
    ) -> None:
        """``route_table`` defaults to the catalog's routes; tests pass a synthetic one."""
        super().__init__(scope, construct_id, **kwargs)
        route_table = tuple(routes() if route_table is None else route_table)
        self.table = storage.table(self)
        self.bucket = storage.uploads_bucket(self)
        self.auth = auth.user_pool(self, plus_tier=options.cognito_plus, mfa_required=options.mfa_required)
        public_url_parameter = web.public_url_parameter(self.stack_name)
        factory = FunctionFactory(
            self,
            table=self.table,
            layer=packaging.deps_layer(self),
            secret=self._cursor_secret(),
            public_url_parameter=public_url_parameter,
            environment={
                "DESKOS_TABLE": self.table.table_name,
                "DESKOS_BUCKET": self.bucket.bucket_name,
                "POWERTOOLS_SERVICE_NAME": "deskos",
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
        )
        topic = observability.alarm_topic(self, options.alarm_email)
        self.api = api.rest_api(
            self,
            route_table,
            self.auth.pool,
            rate_limit=options.api_rate_limit,
            burst_limit=options.api_burst_limit,
        )
        # A route's function reaches the table and the bucket only through its access profile's tenant role.
        roles = access_roles.tenant_roles(self, route_table, self.table, self.bucket)
        self.domains = domains.domain_stacks(
            self, route_table, rest_api=self.api, factory=factory, roles=roles, alarm_topic=topic
        )
        self.web = web.web_app(
            self,
            rest_api=self.api.rest_api,
            uploads=self.bucket,
            user_pool_id=self.auth.pool.user_pool_id,
            client_id=self.auth.client.user_pool_client_id,
            public_url_parameter=public_url_parameter,
        )
        # The browser uploads straight to the bucket from the distribution's origin: set once the distribution exists
        # (the bucket cannot name it: the distribution's CSP names the bucket).
        storage.uploads_cors(self, self.bucket, [*options.allowed_origins, self.web.url])
        queues = events.queues(self)
        self.consumers = events.stream_consumers(self, self.table, factory, queues)
        self.mail_receiver = events.mail_receiver(self, self.bucket, factory, queues, options.inbound_domain)
        if options.inbound_domain:  # replies to the emails they send go to the mailbox
            for consumer in self.consumers:
                consumer.function.add_environment("DESKOS_INBOUND_DOMAIN", options.inbound_domain)
        self.upload_consumers = events.upload_consumers(self, self.bucket, factory, queues, clamav_layer.layer(self))
        scheduled = events.schedules(self, factory)
        events.mail_events(self, factory, [f for name, f in scheduled.items() if name in resources.MAIL_EVENTS.senders])
        self.functions = tuple(factory.functions)
        domain_functions = {f for d in self.domains for f in d.functions}
        observability.function_error_alarms(self, "", [f for f in self.functions if f not in domain_functions], topic)
        self.dashboard = observability.dashboard_and_alarms(
            self, self.api, self.functions, self.consumers, topic, self.upload_consumers, self.mail_receiver
        )
        self._outputs(topic.topic_arn)

    def _cursor_secret(self) -> secretsmanager.Secret:
        secret = secretsmanager.Secret(
            self,
            "CursorSecret",
            description="Signs DeskOS pagination cursors (HMAC key)",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
        )
        acknowledge(
            secret,
            "The key signs short-lived pagination cursors; rotating it would only invalidate the cursors clients "
            "hold, and functions read it once per cold start, so rotation is a manual step, not a schedule.",
            "AwsSolutions-SMG4",
        )
        skip_checkov(
            secret,
            "Encrypted under the AWS-managed key (aws/secretsmanager); only this stack's function roles may read "
            "it, so a customer-managed key would add a key policy to keep and no narrower access.",
            "CKV_AWS_149",
        )
        return secret

    def _outputs(self, alarm_topic_arn: str) -> None:
        values = {
            "ApiUrl": self.api.rest_api.url,
            "WebAppUrl": f"{self.web.url}/app/",
            "UserPoolId": self.auth.pool.user_pool_id,
            "UserPoolClientId": self.auth.client.user_pool_client_id,
            "TableName": self.table.table_name,
            "BucketName": self.bucket.bucket_name,
            "AlarmTopicArn": alarm_topic_arn,
            "DashboardName": self.dashboard.dashboard_name,
        }
        for name, value in values.items():
            CfnOutput(self, name, value=value)
