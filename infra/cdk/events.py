"""Event-driven functions from ``infra.resources``: table stream consumers with their dead-letter queues,
S3 upload consumers (through SQS), EventBridge schedules, and the inbound email receiver (SES)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_ses as ses
from aws_cdk import aws_ses_actions as ses_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import resources
from infra.cdk import clamav_layer
from infra.cdk.functions import FunctionFactory
from infra.cdk.nag import acknowledge, skip_checkov


@dataclass(frozen=True)
class Consumer:
    spec: resources.StreamConsumer
    function: lambda_.Function
    dead_letters: sqs.Queue


def queues(scope: Construct) -> dict[str, sqs.Queue]:
    built: dict[str, sqs.Queue] = {}
    fed = {c.queue: c for c in resources.UPLOAD_CONSUMERS}
    for queue in resources.QUEUES:  # dead-letter queues come first
        consumer = fed.get(queue.name)
        extra = {}
        if consumer is not None:
            extra = {
                # the function's timeout, the least Lambda allows: a failing scan reaches its last attempt, and
                # scan_failed, within max_receives x timeout (see QueueConsumer)
                "visibility_timeout": Duration.seconds(consumer.timeout_seconds),
                "dead_letter_queue": sqs.DeadLetterQueue(
                    max_receive_count=consumer.max_receives, queue=built[f"{consumer.name}-dlq"]
                ),
            }
        built[queue.name] = sqs.Queue(
            scope,
            f"Queue{queue.name}",
            # SSE-SQS: S3 event notifications can be delivered to it (not to a queue under the AWS-managed KMS key)
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),  # the maximum: time to fix the bug and replay
            **extra,
        )
        skip_checkov(
            built[queue.name],
            "Encrypted with SSE-SQS (SqsManagedSseEnabled), which the check does not recognise; S3 event "
            "notifications cannot be delivered to a queue under the AWS-managed KMS key.",
            "CKV_AWS_27",
        )
        if queue.dead_letter_for:
            acknowledge(
                built[queue.name],
                f"This queue is the dead-letter destination of {queue.dead_letter_for}; a dead-letter queue of its "
                "own would have nothing to catch.",
                "AwsSolutions-SQS3",
            )
    return built


def stream_consumers(
    scope: Construct, table: dynamodb.ITable, factory: FunctionFactory, queues_by_name: dict[str, sqs.Queue]
) -> tuple[Consumer, ...]:
    consumers = []
    for spec in resources.STREAM_CONSUMERS:
        dead_letters = _dead_letter_queue(spec.name, queues_by_name)
        function = factory.create(
            f"{spec.name}Consumer",
            spec.handler,
            writes=True,
            timeout=Duration.seconds(60),
            description=f"Table stream consumer {spec.name}",
            extras=spec.writes,
        )
        function.add_event_source(
            sources.DynamoEventSource(
                table,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=spec.batch_size,
                bisect_batch_on_error=True,
                retry_attempts=spec.max_retries,
                report_batch_item_failures=True,
                on_failure=sources.SqsDlq(dead_letters),
            )
        )
        acknowledge(
            function.role,
            "Active tracing needs xray:PutTraceSegments/PutTelemetryRecords and reading the table stream needs "
            "dynamodb:ListStreams; none supports resource-level permissions, so AWS requires Resource '*'.",
            "AwsSolutions-IAM5[Resource::*]",
        )
        consumers.append(Consumer(spec, function, dead_letters))
    return tuple(consumers)


def _dead_letter_queue(consumer: str, queues_by_name: dict[str, sqs.Queue]) -> sqs.Queue:
    for queue in resources.QUEUES:
        if queue.dead_letter_for == consumer:
            return queues_by_name[queue.name]
    raise ValueError(f"stream consumer {consumer} has no dead-letter queue in infra.resources.QUEUES")


def schedules(scope: Construct, factory: FunctionFactory) -> dict[str, lambda_.Function]:
    """Each schedule's function, by the schedule's name."""
    functions = {}
    for spec in resources.SCHEDULES:
        function = factory.create(
            f"{spec.name}Schedule",
            spec.handler,
            writes=True,
            timeout=Duration.minutes(5),
            description=f"Scheduled job {spec.name}, every {spec.rate_minutes} min",
            extras=spec.writes,
            system_indexes=True,
        )
        events.Rule(
            scope,
            f"{spec.name}Rule",
            schedule=events.Schedule.rate(Duration.minutes(spec.rate_minutes)),
            targets=[targets.LambdaFunction(function, retry_attempts=2)],
        )
        functions[spec.name] = function
    return functions


@dataclass(frozen=True)
class UploadConsumer:
    spec: resources.QueueConsumer
    function: lambda_.Function
    queue: sqs.Queue
    dead_letters: sqs.Queue


# The scan function reads and updates attachment records (with the day counters of verdicts, in one transaction:
# its UpdateItems) and reads the staff directory (to notify); nothing else.
SCAN_TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem")


def upload_consumers(
    scope: Construct,
    bucket: s3.IBucket,
    factory: FunctionFactory,
    queues_by_name: dict[str, sqs.Queue],
    engine: lambda_.ILayerVersion,
) -> tuple[UploadConsumer, ...]:
    """S3 ObjectCreated under the uploads prefix -> SQS -> the scan function (ClamAV from the engine layer)."""
    built = []
    for spec in resources.UPLOAD_CONSUMERS:
        queue = queues_by_name[spec.queue]
        bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED_POST,  # resources.UPLOAD_EVENT: the derived objects are Put or Copy
            s3n.SqsDestination(queue),
            s3.NotificationKeyFilter(prefix=spec.s3_prefix),
        )
        function = factory.create(
            f"{spec.name}Consumer",
            spec.handler,
            writes=True,
            table_actions=SCAN_TABLE_ACTIONS,
            timeout=Duration.seconds(spec.timeout_seconds),
            memory_size=spec.memory_mb,
            layers=[engine],
            environment=clamav_layer.ENVIRONMENT,
            description=f"S3 upload consumer {spec.name}: ClamAV scan, type check, thumbnails",
            extras=spec.writes,
        )
        # read, retag (judged clean), quarantine, thumbnail: all within the tenants' own t/<tenant>/ folders
        for action in ("s3:GetObject", "s3:DeleteObject", "s3:PutObject", "s3:PutObjectTagging"):
            grant_objects(function, bucket, action, resources.UPLOADS_PREFIX)
        function.add_event_source(
            sources.SqsEventSource(queue, batch_size=spec.batch_size, report_batch_item_failures=True)
        )
        built.append(UploadConsumer(spec, function, queue, queues_by_name[f"{spec.name}-dlq"]))
    for child in Stack.of(scope).node.children:
        if child.node.id.startswith("BucketNotificationsHandler"):
            acknowledge(
                child,
                "CDK's own singleton that applies the bucket's notification configuration at deploy time "
                "(CloudFormation cannot add one to an existing bucket); it uses the basic Lambda execution policy.",
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            )
            skip_checkov(
                child.node.find_child("Resource"),
                "CDK's own singleton, run by CloudFormation at deploy time only: no dead-letter queue, VPC or "
                "reserved concurrency applies to a deployment step.",
                "CKV_AWS_115",
                "CKV_AWS_116",
                "CKV_AWS_117",
            )
    return tuple(built)


def grant_objects(function: lambda_.Function, bucket: s3.IBucket, action: str, *prefixes: str) -> None:
    """One S3 object action on the keys under some prefixes, nothing else (no bucket-level listing)."""
    assert function.role is not None
    function.role.add_to_principal_policy(
        iam.PolicyStatement(actions=[action], resources=[bucket.arn_for_objects(f"{p}*") for p in prefixes])
    )
    acknowledge(
        function.role,
        "Object actions are scoped to the tenants' prefix of the uploads bucket (t/*), "
        "which IAM can only express with a trailing wildcard.",
        *(f"AwsSolutions-IAM5[Resource::<{_logical(bucket)}.Arn>/{p}*]" for p in prefixes),
    )


def _logical(bucket: s3.IBucket) -> str:
    return Stack.of(bucket).get_logical_id(bucket.node.default_child)


def mail_events(scope: Construct, factory: FunctionFactory, senders: Sequence[lambda_.Function]) -> lambda_.Function:
    """SES's events about campaign emails (``resources.MAIL_EVENTS``): the senders send through a configuration set
    that publishes bounces, complaints and deliveries to an encrypted SNS topic, which invokes the consumer."""
    spec = resources.MAIL_EVENTS
    key = kms.Key(scope, "MailEventsKey", enable_key_rotation=True, description="DeskOS SES event notifications")
    key.add_to_resource_policy(  # SES publishes to the encrypted topic only if the key lets it
        iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            principals=[iam.ServicePrincipal("ses.amazonaws.com")],
            resources=["*"],  # in a key policy, "*" means this key
        )
    )
    topic = sns.Topic(scope, "MailEvents", master_key=key, enforce_ssl=True, display_name="DeskOS SES events")
    configuration_set = ses.ConfigurationSet(
        scope, "CampaignConfigurationSet", configuration_set_name=spec.configuration_set
    )
    configuration_set.add_event_destination(
        "ToTopic",
        destination=ses.EventDestination.sns_topic(topic),
        events=[ses.EmailSendingEvent(event) for event in spec.events],
    )
    function = factory.create(
        f"{spec.name}Consumer",
        spec.handler,
        writes=True,
        timeout=Duration.seconds(60),
        description=f"SES event consumer {spec.name} (bounces, complaints, deliveries of campaign emails)",
    )
    topic.add_subscription(subscriptions.LambdaSubscription(function))
    arn = Stack.of(scope).format_arn(service="ses", resource="configuration-set", resource_name=spec.configuration_set)
    for sender in senders:
        sender.add_environment("DESKOS_SES_CONFIGURATION_SET", spec.configuration_set)
        sender.add_to_role_policy(iam.PolicyStatement(actions=["ses:SendRawEmail"], resources=[arn]))
    return function


@dataclass(frozen=True)
class MailReceiver:
    spec: resources.MailReceiver
    function: lambda_.Function
    dead_letters: sqs.Queue
    rule_set: ses.ReceiptRuleSet | None


# The receiver makes tickets, comments and attachment records and reads contacts, users and settings; never Scan.
RECEIVER_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:ConditionCheckItem",
)


def mail_receiver(
    scope: Construct,
    bucket: s3.Bucket,
    factory: FunctionFactory,
    queues_by_name: dict[str, sqs.Queue],
    inbound_domain: str | None,
) -> MailReceiver:
    """Inbound email: an SES receipt rule for every tenant's subdomain of ``inbound_domain`` (``.<domain>``) stores
    the raw message under the inbound prefix and invokes the receiver asynchronously (two retries, then its DLQ).
    Without an inbound domain the receiver exists but nothing delivers to it. SES needs the domain verified and an
    MX record for ``*.<domain>``, and the rule set made active (CloudFormation cannot): see the README."""
    spec = resources.INBOUND_MAIL
    dead_letters = _dead_letter_queue(spec.name, queues_by_name)
    function = factory.create(
        f"{spec.name}Receiver",
        spec.handler,
        writes=True,
        table_actions=RECEIVER_TABLE_ACTIONS,
        timeout=Duration.seconds(spec.timeout_seconds),
        memory_size=spec.memory_mb,
        description=f"Inbound email {spec.name}: SES receipt rule -> ticket or comment",
        extras=spec.writes,
    )
    grant_objects(function, bucket, "s3:GetObject", spec.s3_prefix)
    # attachments arrive as any upload does, by a presigned POST (its signer needs these), so the scan judges them
    for action in ("s3:PutObject", "s3:PutObjectTagging"):
        grant_objects(function, bucket, action, resources.UPLOADS_PREFIX)
    lambda_.EventInvokeConfig(
        scope,
        f"{spec.name}InvokeConfig",
        function=function,
        retry_attempts=2,
        on_failure=destinations.SqsDestination(dead_letters),
    )
    rule_set = None
    if inbound_domain:
        rule_set = ses.ReceiptRuleSet(
            scope,
            f"{spec.name}RuleSet",
            rules=[
                ses.ReceiptRuleOptions(
                    recipients=[f".{inbound_domain}"],  # every tenant's subdomain, and nothing else
                    scan_enabled=True,  # the spam and virus verdicts the receiver refuses on
                    tls_policy=ses.TlsPolicy.REQUIRE,
                    actions=[
                        ses_actions.S3(bucket=bucket, object_key_prefix=spec.s3_prefix),
                        ses_actions.Lambda(function=function, invocation_type=ses_actions.LambdaInvocationType.EVENT),
                    ],
                )
            ],
        )
        function.add_environment("DESKOS_INBOUND_DOMAIN", inbound_domain)
    return MailReceiver(spec, function, dead_letters, rule_set)
