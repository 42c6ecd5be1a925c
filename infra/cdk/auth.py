"""The Cognito user pool: tenant and client ids as custom attributes, roles as groups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import resources
from infra.cdk.nag import acknowledge

# What a route's declared use of the user pool (x-deskos-cognito, shared/admin/identity.py) needs; an invitation
# deletes the user it made when it cannot be completed.
COGNITO_USES: dict[str, tuple[str, ...]] = {
    "invite": ("cognito-idp:AdminCreateUser", "cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminDeleteUser"),
    "regroup": ("cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminRemoveUserFromGroup"),
    "disable": ("cognito-idp:AdminDisableUser", "cognito-idp:AdminUserGlobalSignOut"),
    "enable": ("cognito-idp:AdminEnableUser",),
}


@dataclass(frozen=True)
class Auth:
    pool: cognito.UserPool
    client: cognito.UserPoolClient


def user_pool(scope: Construct, *, plus_tier: bool, mfa_required: bool) -> Auth:
    pool = cognito.UserPool(
        scope,
        "Users",
        # Tenants are provisioned by DeskOS operators and managers invite their users: no self sign-up.
        self_sign_up_enabled=False,
        sign_in_aliases=cognito.SignInAliases(email=True),
        auto_verify=cognito.AutoVerifiedAttrs(email=True),
        custom_attributes={
            name: cognito.StringAttribute(mutable=True) for name in resources.USER_POOL_CUSTOM_ATTRIBUTES
        },
        password_policy=cognito.PasswordPolicy(
            min_length=12,
            require_lowercase=True,
            require_uppercase=True,
            require_digits=True,
            require_symbols=True,
            temp_password_validity=Duration.days(3),
        ),
        mfa=cognito.Mfa.REQUIRED if mfa_required else cognito.Mfa.OPTIONAL,
        mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
        account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
        feature_plan=cognito.FeaturePlan.PLUS if plus_tier else cognito.FeaturePlan.ESSENTIALS,
        standard_threat_protection_mode=(cognito.StandardThreatProtectionMode.FULL_FUNCTION if plus_tier else None),
        deletion_protection=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    for group in resources.USER_POOL_GROUPS:
        pool.add_group(f"Group{group.title()}", group_name=group)
    client = pool.add_client(
        "Console",
        generate_secret=False,  # browsers and the portal cannot keep a secret
        auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
        prevent_user_existence_errors=True,
        id_token_validity=Duration.hours(1),
        access_token_validity=Duration.hours(1),
        refresh_token_validity=Duration.days(30),
    )
    if not mfa_required:
        acknowledge(
            pool,
            "TOTP MFA is offered to every user; requiring it is left to the operator (context mfa_required=true) "
            "because portal users are tenants' own customers filing tickets.",
            "AwsSolutions-COG2",
        )
    if not plus_tier:
        acknowledge(
            pool,
            "The Plus feature plan (threat protection) is billed per monthly active user; DeskOS deploys "
            "Essentials by default and switches to Plus with full-function threat protection when the context "
            "cognito_plus=true is set.",
            "AwsSolutions-COG8",
        )
    return Auth(pool=pool, client=client)


def may_administer_users(function: lambda_.Function, pool: cognito.IUserPool, uses: Iterable[str]) -> None:
    """The function's own role may do what its route declares with the pool's users, on this pool only."""
    assert function.role is not None
    actions = sorted({action for use in uses for action in COGNITO_USES[use]})
    function.role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=[pool.user_pool_arn]))
    function.add_environment("DESKOS_USER_POOL_ID", pool.user_pool_id)
