"""The single table and the uploads bucket, from the shared definitions in ``infra.resources``."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from infra import resources
from infra.cdk.functions import log_group
from infra.cdk.nag import acknowledge, skip_checkov

QUARANTINE_DAYS = 30  # long enough to investigate an infected upload, short enough not to keep malware around
CORS_MAX_AGE_SECONDS = 3000


def _string(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def table(scope: Construct) -> dynamodb.Table:
    built = dynamodb.Table(
        scope,
        "Table",
        partition_key=_string(resources.TABLE_PARTITION_KEY),
        sort_key=_string(resources.TABLE_SORT_KEY),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        time_to_live_attribute=resources.TABLE_TTL_ATTRIBUTE,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        deletion_protection=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    skip_checkov(
        built,
        "Encrypted at rest under the AWS-managed key (aws/dynamodb); tenants are separated by IAM leading-key "
        "conditions, not by keys, so a customer-managed key would add per-request KMS cost and gain no isolation.",
        "CKV_AWS_119",
    )
    for name, (pk, sk) in resources.TABLE_INDEXES.items():
        built.add_global_secondary_index(
            index_name=name,
            partition_key=_string(pk),
            sort_key=_string(sk),
            projection_type=dynamodb.ProjectionType.ALL,
        )
    for name, (pk, sk) in resources.SYSTEM_INDEXES.items():
        built.add_global_secondary_index(
            index_name=name,
            partition_key=_string(pk),
            sort_key=_string(sk),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            non_key_attributes=list(resources.SYSTEM_INDEX_ATTRIBUTES),
        )
    return built


def uploads_bucket(scope: Construct) -> s3.Bucket:
    """Its CORS rules are set by ``uploads_cors``, once the web app's distribution exists."""
    logs = s3.Bucket(
        scope,
        "AccessLogs",
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,  # S3 server access logging cannot deliver to SSE-KMS buckets
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycle_rules=[s3.LifecycleRule(id="expire-logs", expiration=Duration.days(365))],
        removal_policy=RemovalPolicy.RETAIN,
    )
    skip_checkov(
        logs,
        "This is the access-log bucket: logging it would log into itself; log objects are written once and "
        "expire after a year, so there is nothing to version.",
        "CKV_AWS_18",
        "CKV_AWS_21",
    )
    return s3.Bucket(
        scope,
        "Uploads",
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        server_access_logs_bucket=logs,
        server_access_logs_prefix="uploads/",
        lifecycle_rules=[
            s3.LifecycleRule(
                # An upload the scan never judged (still tagged pending): its record has expired too (table TTL).
                id="abandoned-uploads",
                prefix=resources.UPLOADS_PREFIX,
                tag_filters={resources.STATUS_TAG: resources.PENDING},
                expiration=Duration.days(resources.ABANDONED_AFTER.days),
            ),
            s3.LifecycleRule(
                id="incomplete-uploads-and-old-versions",
                abort_incomplete_multipart_upload_after=Duration.days(1),
                noncurrent_version_expiration=Duration.days(30),
                expired_object_delete_marker=True,
            ),
            s3.LifecycleRule(
                id="expire-quarantine",
                prefix=resources.UPLOADS_PREFIX,
                tag_filters={resources.STATUS_TAG: resources.QUARANTINED},
                expiration=Duration.days(QUARANTINE_DAYS),
            ),
            s3.LifecycleRule(
                # raw inbound mail, stored by SES before its tenant is known: the receiver has made what it makes
                # of it (ticket, comment, attachments under t/<tenant>/) within minutes; kept a while for support
                id="expire-raw-inbound-mail",
                prefix=resources.INBOUND_MAIL.s3_prefix,
                expiration=Duration.days(resources.INBOUND_MAIL.expire_days),
            ),
        ],
        removal_policy=RemovalPolicy.RETAIN,
    )


def uploads_cors(scope: Construct, bucket: s3.IBucket, origins: Sequence[str]) -> cr.AwsCustomResource:
    """The uploads bucket's CORS rules, admitting ``origins`` (the web app's distribution among them): browsers
    upload straight to S3 with presigned POSTs and download with presigned GETs.

    Set by an SDK call at deploy time, not by the bucket's own template: the distribution's CSP names the bucket, so
    the bucket cannot name the distribution. The call owns the bucket's whole CORS configuration (the template
    declares none, so CloudFormation never resets it)."""
    put = cr.AwsSdkCall(
        service="S3",
        action="PutBucketCors",
        parameters={
            "Bucket": bucket.bucket_name,
            "CORSConfiguration": {
                "CORSRules": [
                    {
                        "AllowedMethods": ["POST", "PUT", "GET", "HEAD"],
                        "AllowedOrigins": list(origins),
                        "AllowedHeaders": ["*"],
                        "ExposeHeaders": ["ETag"],
                        "MaxAgeSeconds": CORS_MAX_AGE_SECONDS,
                    }
                ]
            },
        },
        physical_resource_id=cr.PhysicalResourceId.of(f"{bucket.bucket_name}-cors"),
    )
    call = cr.AwsCustomResource(
        scope,
        "UploadsCors",
        on_create=put,
        on_update=put,
        policy=cr.AwsCustomResourcePolicy.from_statements(
            [iam.PolicyStatement(actions=["s3:PutBucketCORS"], resources=[bucket.bucket_arn])]
        ),
        install_latest_aws_sdk=False,  # the runtime's SDK: no download from npm at deploy time
        log_group=log_group(scope, "UploadsCorsLogs"),
    )
    # CDK's one function per stack that makes the SDK calls of AwsCustomResource
    provider = Stack.of(scope).node.find_child(f"AWS{cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace('-', '')}")
    acknowledge(
        provider,
        "CDK's own function for deploy-time SDK calls (here: the uploads bucket's CORS rules) logs through the "
        "AWS-managed basic execution policy.",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
    )
    skip_checkov(
        provider.node.find_child("Resource"),
        "CDK's own function, run by CloudFormation at deploy time only: no dead-letter queue, VPC or reserved "
        "concurrency applies to it.",
        "CKV_AWS_115",
        "CKV_AWS_116",
        "CKV_AWS_117",
    )
    return call
