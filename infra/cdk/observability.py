"""The operators' view: one dashboard and the alarms that page them (through an encrypted SNS topic)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.api.catalog import Route
from infra.cdk.api import STAGE, Api
from infra.cdk.events import Consumer, MailReceiver, UploadConsumer
from infra.cdk.functions import METRICS_NAMESPACE

PERIOD = Duration.minutes(5)
LINES_PER_GRAPH = 25  # keeps graphs readable as endpoints are added
LATENCY_P99_ALARM_MS = 3000
ITERATOR_AGE_ALARM_MS = 60_000
UPLOAD_QUEUE_AGE_ALARM_SECONDS = 300
EMAILS_REJECTED_ALARM = 100  # inbound emails refused per 5 min: a loop or a flood, not the odd auto-reply
# SES puts an account under review at a 5 % bounce rate or a 0.1 % complaint rate; the rates are judged over a
# day's sending (bounces and complaints come in after the send), from at least a few hundred emails
CAMPAIGN_RATE_PERIOD = Duration.days(1)
CAMPAIGN_RATE_MIN_SENT = 200
BOUNCE_RATE_ALARM_PERCENT = 5
COMPLAINT_RATE_ALARM_PERCENT = 0.1
CAMPAIGN_METRICS = (
    "CampaignEmailsSent",
    "CampaignEmailsFailed",
    "CampaignDeliveries",
    "CampaignBounces",
    "CampaignComplaints",
)


ALARM_METRICS_MAX = 10


def alarm_topic(scope: Construct, email: str | None) -> sns.Topic:
    # CloudWatch can only publish to an encrypted topic whose key lets it: the AWS-managed SNS key does not.
    key = kms.Key(scope, "AlarmTopicKey", enable_key_rotation=True, description="DeskOS alarm notifications")
    key.add_to_resource_policy(
        iam.PolicyStatement(
            actions=["kms:Decrypt", "kms:GenerateDataKey*"],
            principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
            resources=["*"],  # in a key policy, "*" means this key
        )
    )
    topic = sns.Topic(scope, "Alarms", master_key=key, enforce_ssl=True, display_name="DeskOS alarms")
    if email:
        topic.add_subscription(subscriptions.EmailSubscription(email))
    return topic


def function_error_alarms(
    scope: Construct, prefix: str, functions: Sequence[lambda_.Function], topic: sns.ITopic
) -> None:
    """Every function is in an errors alarm, ten functions per alarm (CloudWatch's limit of metrics in one
    alarm): one alarm per function would cost a resource per route."""
    for index in range(0, len(functions), ALARM_METRICS_MAX):
        chunk = functions[index : index + ALARM_METRICS_MAX]
        errors = cloudwatch.MathExpression(
            expression="+".join(f"e{i}" for i in range(len(chunk))),
            using_metrics={f"e{i}": f.metric_errors(period=PERIOD) for i, f in enumerate(chunk)},
            period=PERIOD,
            label="Function errors",
        )
        names = ", ".join(f.node.id for f in chunk)
        construct_id = f"{prefix}FunctionErrorsAlarm{index // ALARM_METRICS_MAX}"
        _alarm(scope, topic, construct_id, errors, 1, f"A function failed: {names}")


def _alarm(
    scope: Construct,
    topic: sns.ITopic,
    construct_id: str,
    metric: cloudwatch.IMetric,
    threshold: float,
    description: str,
    periods: int = 1,
) -> None:
    created = metric.create_alarm(
        scope,
        construct_id,
        threshold=threshold,
        evaluation_periods=periods,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        alarm_description=description,
    )
    created.add_alarm_action(actions.SnsAction(topic))


def dashboard_and_alarms(
    scope: Construct,
    api: Api,
    functions: Sequence[lambda_.Function],
    consumers: Sequence[Consumer],
    topic: sns.ITopic,
    upload_consumers: Sequence[UploadConsumer] = (),
    mail_receiver: MailReceiver | None = None,
) -> cloudwatch.Dashboard:
    """The dashboard (every function and endpoint) and the alarms of the API and the event pipeline; the
    functions' error alarms are made where the functions are (``function_error_alarms``)."""

    def alarm(construct_id: str, metric: cloudwatch.IMetric, threshold: float, description: str, periods: int = 1):
        _alarm(scope, topic, construct_id, metric, threshold, description, periods)

    # Every dead-letter queue: (who fills it, the queue, what it gave up on and what to do). One message is enough
    # to page; the dashboard graphs them all.
    dead_letters = [
        *((c.spec.name, c.dead_letters, "stream records; see its DLQ") for c in consumers),
        *((u.spec.name, u.dead_letters, "uploads (scan_failed); fix, redrive its DLQ") for u in upload_consumers),
        *((m.spec.name, m.dead_letters, "inbound emails; see its DLQ") for m in filter(None, [mail_receiver])),
    ]

    def depth(queue: sqs.Queue, **label: str) -> cloudwatch.Metric:  # a labelled metric would alarm as metric math
        return queue.metric_approximate_number_of_messages_visible(period=PERIOD, statistic="Maximum", **label)

    for name, queue, what in dead_letters:
        alarm(f"{name}DeadLettersAlarm", depth(queue), 1, f"{name} gave up on {what}")

    rest_api = api.rest_api
    # A 5xx is always a bug (docs/architecture.md, "Errors"): one is enough to page.
    alarm("ApiServerErrorsAlarm", rest_api.metric_server_error(period=PERIOD), 1, "The API answered a 5xx")
    latency = rest_api.metric_latency(period=PERIOD, statistic="p99")
    alarm("ApiLatencyAlarm", latency, LATENCY_P99_ALARM_MS, "API p99 latency above 3 s for 15 min", periods=3)
    for consumer in consumers:
        name = consumer.spec.name
        age = consumer.function.metric("IteratorAge", period=PERIOD, statistic="Maximum")
        alarm(f"{name}IteratorAgeAlarm", age, ITERATOR_AGE_ALARM_MS, f"{name} is behind the stream", periods=3)
    # The SLA sweep publishes these (functions/schedules/sla_sweep.py); a breach is a broken promise to a client.
    sla = {name: _business_metric(name) for name in ("SlaWarning", "SlaBreached")}
    alarm("SlaBreachedAlarm", sla["SlaBreached"], 1, "A ticket breached its SLA (see the sweep's emails)")
    # The work-order automation publishes these (functions/events/work_order_automation.py).
    work = {name: _business_metric(name) for name in ("WorkOrdersCreated", "WorkOrdersUnassigned")}
    alarm("WorkOrdersUnassignedAlarm", work["WorkOrdersUnassigned"], 1, "An automatic work order found no technician")
    # The calendar sweep publishes these (functions/schedules/calendar_sweep.py): an execution that failed every
    # retry is an email, survey or task a client or colleague never got.
    executions = ("MeetingWorkflowExecutions", "MeetingWorkflowRetries", "MeetingWorkflowFailed")
    meetings = {name: _business_metric(name) for name in executions}
    alarm(
        "MeetingWorkflowFailedAlarm",
        meetings["MeetingWorkflowFailed"],
        1,
        "A meeting workflow execution failed after its retries (its error: /calendar/meeting-workflow-executions)",
    )
    polls = {name: _business_metric(name) for name in ("MeetingPollReminders", "MeetingPollsClosed")}
    # Onboarding: the API publishes starts and completions, the reminder job the items it reminded.
    onboarding = [_business_metric(name) for name in ("OnboardingStarted", "OnboardingCompleted", "RemindersSent")]
    assignment_latency = cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name="WorkOrderAssignmentLatency",
        dimensions_map={"service": "deskos"},
        statistic="p99",
        period=PERIOD,
    )

    for upload in upload_consumers:
        name = upload.spec.name
        age = upload.queue.metric_approximate_age_of_oldest_message(period=PERIOD, statistic="Maximum")
        alarm(f"{name}QueueAgeAlarm", age, UPLOAD_QUEUE_AGE_ALARM_SECONDS, f"{name} is behind its uploads", periods=3)
    for scan_outcome, description in (
        ("UploadsInfected", "An uploaded file was infected (quarantined; tenant staff emailed)"),
        ("UploadsScanFailed", "An upload could not be scanned (scan_failed; tenant staff emailed)"),
    ):
        counted = cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=scan_outcome,
            dimensions_map={"service": "deskos-scan"},
            statistic="Sum",
            period=PERIOD,
        )
        alarm(f"{scan_outcome}Alarm", counted, 1, description)

    # Email in and out (functions/events/inbound_email.py, ticket_notifications.py)
    mail = {
        name: _business_metric(name, "deskos-mail")
        for name in ("EmailsReceived", "EmailsRejected", "NotificationsSent")
    }
    alarm(
        "EmailsRejectedAlarm",
        mail["EmailsRejected"],
        EMAILS_REJECTED_ALARM,
        f"Over {EMAILS_REJECTED_ALARM} inbound emails refused in 5 min for 15 min (a loop, a flood, a broken sender)",
        periods=3,
    )

    # Campaigns: the sender publishes sent and failed (functions/schedules/campaign_send.py), SES's events the rest
    # (functions/events/mail_feedback.py)
    campaign = {name: _business_metric(name) for name in CAMPAIGN_METRICS}
    alarm(
        "CampaignEmailsFailedAlarm",
        campaign["CampaignEmailsFailed"],
        1,
        "SES refused campaign emails (the reason is on each send record: /marketing/campaign-executions)",
    )
    rates = {
        "CampaignBounces": ("CampaignBounceRateAlarm", BOUNCE_RATE_ALARM_PERCENT, "bounce"),
        "CampaignComplaints": ("CampaignComplaintRateAlarm", COMPLAINT_RATE_ALARM_PERCENT, "complaint"),
    }
    for name, (construct_id, threshold, what) in rates.items():
        alarm(
            construct_id,
            _rate(name, "CampaignEmailsSent"),
            threshold,
            f"Campaign {what} rate at or above {threshold} % of a day's sending (SES reviews the account there)",
        )

    dashboard = cloudwatch.Dashboard(scope, "Dashboard", dashboard_name=Stack.of(scope).stack_name)
    dashboard.add_widgets(
        _graph("API requests and errors", [
            rest_api.metric_count(period=PERIOD),
            rest_api.metric_client_error(period=PERIOD),
            rest_api.metric_server_error(period=PERIOD),
        ]),
        _graph("API latency p99 (ms)", [latency]),
        _graph("SLA warnings and breaches", list(sla.values())),
        _graph("Work orders created and unassigned", list(work.values())),
        _graph("Work order assignment latency p99 (ms)", [assignment_latency]),
        _graph("Email: received, rejected, notifications sent", list(mail.values())),
        _graph("Meeting workflow executions: done, retried, failed", list(meetings.values())),
        _graph("Meeting poll reminders and closes", list(polls.values())),
        _graph("Onboarding started, completed and reminders sent", onboarding),
        _graph("Campaign emails: sent, failed, delivered, bounced, complaints", list(campaign.values())),
        _graph("Campaign bounce and complaint rates (% of a day's sending)", [
            _rate("CampaignBounces", "CampaignEmailsSent"),
            _rate("CampaignComplaints", "CampaignEmailsSent"),
        ]),
    )  # fmt: skip
    dashboard.add_widgets(
        *_graphs("5xx per endpoint", [_endpoint_metric(rest_api, r, "5XXError", "Sum") for r in api.routes]),
        *_graphs("p99 latency per endpoint (ms)", [
            _endpoint_metric(rest_api, r, "Latency", "p99") for r in api.routes
        ]),
    )  # fmt: skip
    dashboard.add_widgets(
        *_graphs("Lambda errors", [f.metric_errors(period=PERIOD, label=f.node.id) for f in functions]),
        *_graphs("Lambda throttles", [f.metric_throttles(period=PERIOD, label=f.node.id) for f in functions]),
    )
    dashboard.add_widgets(
        _graph("Stream iterator age max (ms)", [
            c.function.metric("IteratorAge", period=PERIOD, statistic="Maximum", label=c.spec.name) for c in consumers
        ]),
        _graph("Dead-letter queue depth", [depth(queue, label=name) for name, queue, _ in dead_letters]),
        _graph("Business metrics (DeskOS namespace)", [
            # EMF metrics from Powertools: whatever the functions publish (TicketsCreated, SlaBreached …).
            cloudwatch.MathExpression(
                expression=f"SEARCH('{{{METRICS_NAMESPACE},service}}', 'Sum', 300)", using_metrics={}, label=""
            )
        ]),
    )  # fmt: skip
    return dashboard


def _business_metric(name: str, service: str = "deskos") -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": service},
        statistic="Sum",
        period=PERIOD,
    )


def _rate(part: str, whole: str) -> cloudwatch.MathExpression:
    """``part`` as a percentage of ``whole`` over a day; 0 while ``whole`` is too small to judge."""
    p, w = part.lower(), whole.lower()  # ids: one graph shows several rates over the same whole
    return cloudwatch.MathExpression(
        expression=f"IF({w} >= {CAMPAIGN_RATE_MIN_SENT}, 100 * {p} / {w}, 0)",
        using_metrics={
            p: _business_metric(part).with_(period=CAMPAIGN_RATE_PERIOD),
            w: _business_metric(whole).with_(period=CAMPAIGN_RATE_PERIOD),
        },
        period=CAMPAIGN_RATE_PERIOD,
        label=f"{part} per {whole} (%)",
    )


def _endpoint_metric(rest_api: apigateway.RestApi, route: Route, metric_name: str, statistic: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/ApiGateway",
        metric_name=metric_name,
        dimensions_map={
            "ApiName": rest_api.rest_api_name,
            "Stage": STAGE,
            "Resource": route.path,
            "Method": route.method,
        },
        statistic=statistic,
        period=PERIOD,
        label=route.operation_id,
    )


def _graph(title: str, metrics: Sequence[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(metrics), width=12)


def _graphs(title: str, metrics: Sequence[cloudwatch.IMetric]) -> list[cloudwatch.GraphWidget]:
    chunks = [metrics[i : i + LINES_PER_GRAPH] for i in range(0, len(metrics), LINES_PER_GRAPH)]
    return [_graph(title if len(chunks) == 1 else f"{title} ({n}/{len(chunks)})", c) for n, c in enumerate(chunks, 1)]
