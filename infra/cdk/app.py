"""CDK entry point: ``npx aws-cdk synth|deploy`` runs it through ``cdk.json``; so does ``python -m infra.cdk.app``.

Context (``-c key=value`` or ``cdk.json``): allowed_origins (comma-separated), alarm_email, cognito_plus,
mfa_required, api_rate_limit, api_burst_limit, inbound_domain, stack_name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from functions.api.catalog import Route
from infra.cdk.stack import DeskOsStack, Options

# Feature flags the stack relies on, set here so that every synth (CLI, tests) behaves the same.
FEATURE_FLAGS = {
    # S3 server access logs delivered through a bucket policy, not the legacy LogDeliveryWrite ACL.
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
}


def options(app: App) -> Options:
    defaults = Options()

    def get(key: str) -> Any:
        return app.node.try_get_context(key)

    def flag(key: str, default: bool) -> bool:
        value = get(key)
        return default if value is None else str(value).lower() in ("1", "true", "yes")

    origins = get("allowed_origins")
    if isinstance(origins, str):  # from the command line
        origins = [o.strip() for o in origins.split(",") if o.strip()]
    return Options(
        allowed_origins=tuple(origins or defaults.allowed_origins),
        alarm_email=get("alarm_email") or None,
        cognito_plus=flag("cognito_plus", defaults.cognito_plus),
        mfa_required=flag("mfa_required", defaults.mfa_required),
        api_rate_limit=int(get("api_rate_limit") or defaults.api_rate_limit),
        api_burst_limit=int(get("api_burst_limit") or defaults.api_burst_limit),
        inbound_domain=get("inbound_domain") or None,
    )


def build(app: App, route_table: Sequence[Route] | None = None) -> DeskOsStack:
    """The stack, with cdk-nag's AWS Solutions pack: an unacknowledged finding fails the synth.
    ``route_table`` replaces the catalog's (tests synthesize a synthetic one)."""
    stack = DeskOsStack(
        app,
        app.node.try_get_context("stack_name") or "DeskOS",
        options(app),
        route_table=route_table,
        env=Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
        description="DeskOS: serverless multi-tenant client-service platform",
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return stack


def main() -> None:
    app = App(context=FEATURE_FLAGS)
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
