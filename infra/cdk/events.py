"""Event-driven functions from ``infra.resources``: table stream consumers with their dead-letter queues,
and EventBridge schedules."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import resources
from infra.cdk.functions import FunctionFactory
from infra.cdk.nag import acknowledge


@dataclass(frozen=True)
class Consumer:
    spec: resources.StreamConsumer
    function: lambda_.Function
    dead_letters: sqs.Queue


def queues(scope: Construct) -> dict[str, sqs.Queue]:
    built = {}
    for queue in resources.QUEUES:
        built[queue.name] = sqs.Queue(
            scope,
            f"Queue{queue.name}",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),  # the maximum: time to fix the bug and replay
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


def schedules(scope: Construct, factory: FunctionFactory) -> tuple[lambda_.Function, ...]:
    functions = []
    for spec in resources.SCHEDULES:
        function = factory.create(
            f"{spec.name}Schedule",
            spec.handler,
            writes=True,
            timeout=Duration.minutes(5),
            description=f"Scheduled job {spec.name}, every {spec.rate_minutes} min",
            extras=spec.writes,
        )
        events.Rule(
            scope,
            f"{spec.name}Rule",
            schedule=events.Schedule.rate(Duration.minutes(spec.rate_minutes)),
            targets=[targets.LambdaFunction(function, retry_attempts=2)],
        )
        functions.append(function)
    return tuple(functions)
