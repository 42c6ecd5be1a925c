"""The tenant-access roles of ``infra/access_roles.py``, one per access profile, and what lets a route's function
assume its own profile's role (and no other) with its caller's tenant as session tag."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Aws, Stack, Tags
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from functions.api.catalog import Route
from infra import access_roles, resources
from infra.cdk.nag import acknowledge
from shared.credentials import SESSION_SECONDS
from shared.settings import tenant_role_variable


@dataclass(frozen=True)
class TenantRole:
    profile: str
    role: iam.CfnRole


def tenant_roles(
    scope: Construct, routes: Sequence[Route], table: dynamodb.ITable, bucket: s3.IBucket
) -> dict[str, TenantRole]:
    """One role per access profile the routes use. L1 roles with inline policies: one resource each."""
    account_root = f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:root"
    built = {}
    for profile, (writes, uses) in access_roles.profiles(routes).items():
        policy = access_roles.permissions(
            writes, uses, table_arn=table.table_arn, bucket_arn=bucket.bucket_arn, indexes=resources.TABLE_INDEXES
        )
        role = iam.CfnRole(
            scope,
            "TenantAccess" + "".join(part.title() for part in profile.split("-")),
            assume_role_policy_document=access_roles.trust(account_root, profile),
            policies=[iam.CfnRole.PolicyProperty(policy_name=access_roles.POLICY_NAME, policy_document=policy)],
            max_session_duration=SESSION_SECONDS,
            description=f"DeskOS tenant access ({profile}): the items and uploads of the tenant named by the session",
        )
        if uses:
            acknowledge(
                role,
                "The uploads of the caller's tenant are the keys under t/<tenant_id>/ (the tenant from the session "
                "tag), which IAM can only express as a prefix with a trailing wildcard.",
                f"AwsSolutions-IAM5[Resource::<{_logical(bucket)}.Arn>/t/<aws:PrincipalTag/{access_roles.TAG}>/*]",
            )
        built[profile] = TenantRole(profile, role)
    return built


def may_assume(function: lambda_.Function, tenant_role: TenantRole) -> None:
    """The function may assume its profile's tenant role (with a session tag), and learns its ARN."""
    assert function.role is not None
    function.role.add_to_principal_policy(
        iam.PolicyStatement(actions=["sts:AssumeRole", "sts:TagSession"], resources=[tenant_role.role.attr_arn])
    )
    Tags.of(function.role).add(access_roles.ACCESS_TAG, tenant_role.profile)  # the trust policy checks it
    function.add_environment(tenant_role_variable(tenant_role.profile), tenant_role.role.attr_arn)


def _logical(bucket: s3.IBucket) -> str:
    return Stack.of(bucket).get_logical_id(bucket.node.default_child)
