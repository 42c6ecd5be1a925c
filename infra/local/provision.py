"""Create, in the local moto server, the resources ``infra/resources.py`` describes. Idempotent:
each resource is looked up first and created only if missing, so every ``deskos up`` runs it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import boto3
from botocore.exceptions import ClientError

from functions.api.catalog import routes
from infra import access_roles
from infra.resources import (
    QUEUES,
    SCHEDULES,
    TABLE_INDEXES,
    TABLE_TTL_ATTRIBUTE,
    UPLOAD_CONSUMERS,
    UPLOAD_EVENT,
    USER_POOL_CUSTOM_ATTRIBUTES,
    USER_POOL_GROUPS,
    Queue,
    QueueConsumer,
    Schedule,
    table_definition,
)
from shared.settings import LOCAL_ACCOUNT_ID, tenant_role_name

USER_POOL_NAME = "deskos-users"
USER_POOL_CLIENT_NAME = "deskos-local"
SENDER_DOMAIN = "deskos.local"
SENDER_ADDRESS = f"no-reply@{SENDER_DOMAIN}"
# Browser uploads go straight to S3 with presigned POSTs; locally the console may run on any port.
UPLOADS_CORS = {
    "CORSRules": [
        {
            "AllowedMethods": ["GET", "PUT", "POST", "HEAD"],
            "AllowedOrigins": ["*"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 3000,
        }
    ]
}


@dataclass(frozen=True)
class Provisioned:
    table_name: str
    bucket_name: str
    user_pool_id: str
    user_pool_client_id: str
    sender: str
    queue_urls: dict[str, str]


def schedule_rule_name(schedule: Schedule) -> str:
    return f"deskos-{schedule.name}"


def provision(
    endpoint_url: str,
    region: str,
    *,
    table_name: str,
    bucket_name: str,
    queues: Sequence[Queue] = QUEUES,
    schedules: Sequence[Schedule] = SCHEDULES,
    upload_consumers: Sequence[QueueConsumer] = UPLOAD_CONSUMERS,
) -> Provisioned:
    def client(service: str):
        return boto3.client(service, endpoint_url=endpoint_url, region_name=region)

    ensure_table(client("dynamodb"), table_name)
    ensure_bucket(client("s3"), bucket_name, region)
    queue_urls = {queue.name: client("sqs").create_queue(QueueName=queue.name)["QueueUrl"] for queue in queues}
    ensure_upload_notifications(client("sqs"), client("s3"), bucket_name, upload_consumers, queue_urls)
    pool_id, client_id = ensure_user_pool(client("cognito-idp"))
    ensure_sender(client("ses"))
    ensure_schedules(client("events"), schedules)
    ensure_tenant_roles(client("iam"), region, table_name, bucket_name)
    return Provisioned(
        table_name=table_name,
        bucket_name=bucket_name,
        user_pool_id=pool_id,
        user_pool_client_id=client_id,
        sender=SENDER_ADDRESS,
        queue_urls=queue_urls,
    )


def ensure_table(dynamodb, table_name: str) -> None:
    definition = table_definition(table_name)
    try:
        existing = dynamodb.describe_table(TableName=table_name)["Table"]
    except dynamodb.exceptions.ResourceNotFoundException:
        dynamodb.create_table(**definition)
    else:
        _add_missing_indexes(dynamodb, existing, definition)
    ttl = dynamodb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    if ttl.get("TimeToLiveStatus") != "ENABLED":
        dynamodb.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TABLE_TTL_ATTRIBUTE},
        )


def _add_missing_indexes(dynamodb, existing: dict, definition: dict) -> None:
    """State kept from an older version lacks indexes added since: create them (moto builds them at once)."""
    present = {index["IndexName"] for index in existing.get("GlobalSecondaryIndexes", [])}
    for index in definition["GlobalSecondaryIndexes"]:
        if index["IndexName"] not in present:
            dynamodb.update_table(
                TableName=definition["TableName"],
                AttributeDefinitions=definition["AttributeDefinitions"],
                GlobalSecondaryIndexUpdates=[{"Create": index}],
            )


def ensure_bucket(s3, bucket_name: str, region: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket_name)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
            raise
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket_name, **location)
    s3.put_public_access_block(
        Bucket=bucket_name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket_name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_cors(Bucket=bucket_name, CORSConfiguration=UPLOADS_CORS)


def ensure_upload_notifications(
    sqs, s3, bucket_name: str, consumers: Sequence[QueueConsumer], queue_urls: dict[str, str]
) -> None:
    """S3 ObjectCreated under each consumer's prefix -> its queue, which redrives to its DLQ."""
    configurations = []
    for consumer in consumers:
        url = queue_urls[consumer.queue]
        dead_letters = sqs.get_queue_attributes(
            QueueUrl=queue_urls[f"{consumer.name}-dlq"], AttributeNames=["QueueArn"]
        )
        redrive = {
            "deadLetterTargetArn": dead_letters["Attributes"]["QueueArn"],
            "maxReceiveCount": consumer.max_receives,
        }
        sqs.set_queue_attributes(
            QueueUrl=url,
            Attributes={"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": str(consumer.timeout_seconds)},
        )
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        configurations.append(
            {
                "Id": consumer.name,
                "QueueArn": arn,
                "Events": [UPLOAD_EVENT],
                "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": consumer.s3_prefix}]}},
            }
        )
    current = s3.get_bucket_notification_configuration(Bucket=bucket_name).get("QueueConfigurations", [])
    if [(c["Id"], c["QueueArn"], c["Events"]) for c in current] != [
        (c["Id"], c["QueueArn"], c["Events"]) for c in configurations
    ]:
        # (Re)configuring makes S3 send an s3:TestEvent to each queue; the consumer ignores it.
        s3.put_bucket_notification_configuration(
            Bucket=bucket_name, NotificationConfiguration={"QueueConfigurations": configurations}
        )


def ensure_tenant_roles(iam, region: str, table_name: str, bucket_name: str) -> None:
    """The tenant-access role of each access profile the routes use, with the policies the cloud deploys
    (``infra/access_roles.py``); the local cloud's tenant guard enforces them."""
    table_arn = f"arn:aws:dynamodb:{region}:{LOCAL_ACCOUNT_ID}:table/{table_name}"
    for profile, (writes, s3) in access_roles.profiles(routes()).items():
        name = tenant_role_name(profile)
        trust = json.dumps(access_roles.trust(f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:root", profile))
        try:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
        except iam.exceptions.EntityAlreadyExistsException:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust)
        policy = access_roles.permissions(
            writes, s3, table_arn=table_arn, bucket_arn=f"arn:aws:s3:::{bucket_name}", indexes=TABLE_INDEXES
        )
        iam.put_role_policy(RoleName=name, PolicyName=access_roles.POLICY_NAME, PolicyDocument=json.dumps(policy))


def ensure_user_pool(cognito) -> tuple[str, str]:
    """The user pool (custom attributes, one group per role) and its app client: (pool id, client id)."""
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((p["Id"] for p in pools if p["Name"] == USER_POOL_NAME), None)
    if pool_id is None:
        pool_id = cognito.create_user_pool(
            PoolName=USER_POOL_NAME,
            Schema=[
                {"Name": name, "AttributeDataType": "String", "Mutable": True} for name in USER_POOL_CUSTOM_ATTRIBUTES
            ],
            AutoVerifiedAttributes=["email"],
        )["UserPool"]["Id"]
    groups = {g["GroupName"] for g in cognito.list_groups(UserPoolId=pool_id, Limit=60)["Groups"]}
    for group in USER_POOL_GROUPS:
        if group not in groups:
            cognito.create_group(UserPoolId=pool_id, GroupName=group)
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next((c["ClientId"] for c in clients if c["ClientName"] == USER_POOL_CLIENT_NAME), None)
    if client_id is None:
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=USER_POOL_CLIENT_NAME,
            GenerateSecret=False,
            ExplicitAuthFlows=[
                "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ],
        )["UserPoolClient"]["ClientId"]
    return pool_id, client_id


def ensure_sender(ses) -> None:
    # Verifying an identity that is already verified is a no-op, in SES as in moto.
    ses.verify_domain_identity(Domain=SENDER_DOMAIN)
    ses.verify_email_identity(EmailAddress=SENDER_ADDRESS)


def ensure_schedules(events, schedules: Sequence[Schedule]) -> None:
    # The pump fires the handlers itself; the rules exist so the local cloud lists what AWS would.
    for schedule in schedules:
        minutes = schedule.rate_minutes
        events.put_rule(
            Name=schedule_rule_name(schedule),
            ScheduleExpression=f"rate({minutes} minute{'s' if minutes != 1 else ''})",
            State="ENABLED",
        )
