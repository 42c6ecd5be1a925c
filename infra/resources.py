"""The resources DeskOS needs, described once. ``infra/cdk`` deploys them to AWS;
``infra/local`` provisions the same ones in the embedded moto server."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.attachments.scanner import ATTEMPTS as SCAN_ATTEMPTS

# S3 key layout, defined with the code that builds the keys: every object of a tenant sits under t/<tenant>/…
# (uploads t/<tenant>/<owner-kind>/<owner-id>/<id>, t/<tenant>/quarantine/…, t/<tenant>/thumbnails/…);
# uploads arrive by POST (UPLOAD_EVENT) tagged STATUS_TAG=PENDING until the scan judges them (expired after
# ABANDONED_AFTER if it never does); quarantined objects are tagged QUARANTINED
from shared.attachments.storage import (  # noqa: F401
    ABANDONED_AFTER,
    PENDING,
    QUARANTINED,
    STATUS_TAG,
    UPLOAD_EVENT,
    UPLOADS_PREFIX,
)

# raw inbound email, stored before its tenant is known (SES writes it; the receiver reads it)
from shared.inbound import INBOUND_PREFIX
from shared.onboarding.reminders import RATE_MINUTES as ONBOARDING_REMINDER_MINUTES

TABLE_PARTITION_KEY = "PK"
TABLE_SORT_KEY = "SK"
TABLE_TTL_ATTRIBUTE = "expiration"
# name -> (partition key, sort key); every index partition key starts with T#<tenant>#; projection ALL
TABLE_INDEXES: dict[str, tuple[str, str]] = {f"GSI{i}": (f"GSI{i}PK", f"GSI{i}SK") for i in range(1, 6)}
# sparse indexes read only by system functions across tenants (the SLA sweep: tickets by the minute of their
# next SLA deadline; the calendar sweep: polls and workflow executions by when they are due); their partition
# keys carry no tenant prefix, so they project only the keys and the
# entity type (PynamoDB filters a model's queries on it)
SYSTEM_INDEXES: dict[str, tuple[str, str]] = {"DUE": ("DUEPK", "DUESK")}
SYSTEM_INDEX_ATTRIBUTES = ("entity",)

USER_POOL_CUSTOM_ATTRIBUTES = ("tenant_id", "client_id")
USER_POOL_GROUPS = ("managers", "staff", "portal")


@dataclass(frozen=True)
class StreamConsumer:
    """A Lambda fed by the table's stream (locally: by the event pump)."""

    name: str
    handler: str
    batch_size: int = 100
    max_retries: int = 3
    writes: tuple[str, ...] = ()  # what it may write besides the table: "ses", "cloudwatch"


@dataclass(frozen=True)
class Schedule:
    """A Lambda fired by EventBridge at a fixed rate (locally: by the event pump)."""

    name: str
    handler: str
    rate_minutes: int
    writes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Queue:
    name: str
    dead_letter_for: str | None = None


@dataclass(frozen=True)
class QueueConsumer:
    """A Lambda fed by an SQS queue that S3 notifies of objects uploaded (``UPLOAD_EVENT``) under ``s3_prefix``
    (locally: the event pump polls the queue). A message received ``max_receives`` times without success moves
    to ``<name>-dlq``. The queue's visibility timeout is the function's timeout (the least Lambda allows), so a
    message that keeps failing has had its last attempt within ``max_receives * timeout_seconds``."""

    name: str
    handler: str
    queue: str
    s3_prefix: str
    batch_size: int = 5
    max_receives: int = 3
    timeout_seconds: int = 300
    memory_mb: int = 2048  # ClamAV holds its signatures in memory
    writes: tuple[str, ...] = ()


@dataclass(frozen=True)
class MailReceiver:
    """Inbound email: in the cloud an SES receipt rule for every tenant's subdomain of the inbound domain stores
    the raw message under ``s3_prefix`` and invokes the function asynchronously (retried twice, then its DLQ);
    locally ``deskos up``'s SMTP listener stores it there and calls the same handler with the same event."""

    name: str
    handler: str
    s3_prefix: str
    expire_days: int = 14  # raw messages are kept this long (for a replay, for an investigation)
    timeout_seconds: int = 120
    memory_mb: int = 1024  # a 10 MB message, decoded, with its attachments
    writes: tuple[str, ...] = ()


STREAM_CONSUMERS: tuple[StreamConsumer, ...] = (
    StreamConsumer(name="AuditTrail", handler="functions.events.audit_trail.handler"),
    StreamConsumer(
        name="SurveyInvitations", handler="functions.events.survey_invitations.handler", batch_size=25, writes=("ses",)
    ),
    StreamConsumer(
        name="TicketNotifications",
        handler="functions.events.ticket_notifications.handler",
        batch_size=25,
        writes=("ses", "cloudwatch"),
    ),
    StreamConsumer(
        name="WorkOrderAutomation",
        handler="functions.events.work_order_automation.handler",
        batch_size=25,
        writes=("ses", "cloudwatch"),
    ),
    StreamConsumer(name="KnowledgeIndex", handler="functions.events.knowledge_index.handler", writes=("cloudwatch",)),
    StreamConsumer(
        name="KnowledgeReviews", handler="functions.events.knowledge_reviews.handler", batch_size=25, writes=("ses",)
    ),
    StreamConsumer(
        name="Onboarding", handler="functions.events.onboarding.handler", batch_size=25, writes=("ses", "cloudwatch")
    ),
    # appointment invitations (.ics), voting links, reminders and notes to organizers (shared/calendar/mailing.py)
    StreamConsumer(
        name="CalendarMail",
        handler="functions.events.calendar_mail.handler",
        batch_size=25,
        writes=("ses", "cloudwatch"),
    ),
    # meeting-workflow executions planned, moved and skipped from appointment changes (shared/calendar/executions.py)
    StreamConsumer(
        name="MeetingWorkflows",
        handler="functions.events.meeting_workflows.handler",
        batch_size=25,
        writes=("cloudwatch",),
    ),
    StreamConsumer(name="SegmentMembership", handler="functions.events.segment_membership.handler", batch_size=100),
    StreamConsumer(name="MarketingCleanup", handler="functions.events.marketing_cleanup.handler", batch_size=10),
)

SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        name="SlaSweep", handler="functions.schedules.sla_sweep.handler", rate_minutes=1, writes=("ses", "cloudwatch")
    ),
    Schedule(
        name="KnowledgeReviewDue",
        handler="functions.schedules.knowledge_review_due.handler",
        rate_minutes=60,
        writes=("ses", "cloudwatch"),
    ),
    Schedule(
        name="OnboardingReminders",
        handler="functions.schedules.onboarding_reminders.handler",
        rate_minutes=ONBOARDING_REMINDER_MINUTES,
        writes=("ses", "cloudwatch"),
    ),
    # polls reminded and closed, meeting-workflow executions run (the DUE index: shared/calendar/due.py)
    Schedule(
        name="CalendarSweep",
        handler="functions.schedules.calendar_sweep.handler",
        rate_minutes=1,
        writes=("ses", "cloudwatch"),
    ),
    Schedule(
        name="CampaignSend",
        handler="functions.schedules.campaign_send.handler",
        rate_minutes=1,
        writes=("ses", "cloudwatch"),
    ),
    # every minute: a refresh asked for starts at once; each dynamic segment comes due an hour after its last
    Schedule(name="SegmentRefresh", handler="functions.schedules.segment_refresh.handler", rate_minutes=1),
)


@dataclass(frozen=True)
class MailEventsConsumer:
    """A Lambda fed SES's events about sent emails (bounces, complaints, deliveries): the configuration set
    ``configuration_set`` publishes them to an SNS topic that invokes it; locally ``deskos bounce`` invokes it
    with the same event."""

    name: str
    handler: str
    configuration_set: str
    senders: tuple[str, ...]  # the schedules whose emails go through the configuration set (campaign emails)
    events: tuple[str, ...] = ("BOUNCE", "COMPLAINT", "DELIVERY")


MAIL_EVENTS = MailEventsConsumer(
    name="MailFeedback",
    handler="functions.events.mail_feedback.handler",
    configuration_set="deskos-campaigns",
    senders=("CampaignSend",),
)

# S3 ObjectCreated under t/ -> the uploads queue -> the scan function (ClamAV, type check, thumbnail).
UPLOAD_CONSUMERS: tuple[QueueConsumer, ...] = (
    QueueConsumer(
        name="UploadScan",
        handler="functions.events.scan_upload.handler",
        queue="deskos-uploads-created",
        s3_prefix=UPLOADS_PREFIX,
        # one file per invocation, each engine call bounded (scanner.CLAMSCAN_TIMEOUT_SECONDS): a file that cannot
        # be scanned is scan_failed within ATTEMPTS x 2 min = 6 min of its upload
        batch_size=1,
        max_receives=SCAN_ATTEMPTS,
        timeout_seconds=120,
        writes=("ses", "cloudwatch"),
    ),
)

INBOUND_MAIL = MailReceiver(
    name="InboundEmail",
    handler="functions.events.inbound_email.handler",
    s3_prefix=INBOUND_PREFIX,
    writes=("cloudwatch",),
)

QUEUES: tuple[Queue, ...] = (
    *(
        Queue(name=f"{c.name}-dlq", dead_letter_for=c.name)
        for c in (*STREAM_CONSUMERS, *UPLOAD_CONSUMERS, INBOUND_MAIL)
    ),
    *(Queue(name=c.queue) for c in UPLOAD_CONSUMERS),
)


def table_definition(table_name: str) -> dict:
    """CreateTable arguments for the single table (the CDK stack declares the same keys and indexes)."""
    system = {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(SYSTEM_INDEX_ATTRIBUTES)}
    indexes = {
        **{name: (keys, {"ProjectionType": "ALL"}) for name, keys in TABLE_INDEXES.items()},
        **{name: (keys, system) for name, keys in SYSTEM_INDEXES.items()},
    }
    attributes = {TABLE_PARTITION_KEY, TABLE_SORT_KEY, *(k for keys, _ in indexes.values() for k in keys)}
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)],
        "KeySchema": [
            {"AttributeName": TABLE_PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": TABLE_SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": name,
                "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}],
                "Projection": projection,
            }
            for name, ((pk, sk), projection) in indexes.items()
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }
