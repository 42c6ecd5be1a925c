"""The tenant-access roles, described once: what request handlers may do with their caller's tenant's credentials.

One role per access profile (``shared.credentials.profile``: ``read`` or ``write``, then the route's uses of
the uploads bucket). A route's function may only assume its own profile's role, with the session tag
``tenant_id``; the role reaches the table's items and the index entries whose partition key starts with
``T#<that tag>#``, and the uploads under ``t/<that tag>/``. ``infra/cdk`` deploys these documents,
``infra/local/provision.py`` creates the same roles in the local cloud, and ``infra/local/iam_guard.py``
enforces them there (moto evaluates no IAM conditions).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.credentials import TAG, profile

TENANT = "${aws:PrincipalTag/" + TAG + "}"
TENANT_KEYS = f"T#{TENANT}#*"  # dynamodb:LeadingKeys: the table's and every index's partition key
TENANT_OBJECTS = f"t/{TENANT}/*"  # the uploads bucket's keys
# Tag on a function's role naming the one profile it may assume (the trust policy checks it).
ACCESS_TAG = "deskos-tenant-access"
POLICY_NAME = "tenant-data"

# Transactions are authorised item by item with these same actions; BatchGetItem backs multi-item reads.
READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem")
WRITE_ACTIONS = (
    *READ_ACTIONS,
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:BatchWriteItem",  # bulk tagging, segment members (each item's key is held to the tenant's)
)
# What a route's declared use of the uploads bucket (x-deskos-s3) needs. Presigned URLs act with the signer's
# permissions: signing an upload needs PutObject (and PutObjectTagging: the upload carries the pending tag).
S3_USES: dict[str, tuple[str, ...]] = {
    "sign-upload": ("s3:PutObject", "s3:PutObjectTagging"),
    "sign-download": ("s3:GetObject",),
    "delete": ("s3:DeleteObject",),
}


def profiles(routes: Iterable[Any]) -> dict[str, tuple[bool, tuple[str, ...]]]:
    """Each access profile the routes (``functions.api.catalog.Route``) use -> (writes, bucket uses)."""
    return {profile(r.writes, r.s3): (r.writes, tuple(sorted(r.s3))) for r in routes}


def permissions(
    writes: bool, s3: Iterable[str], *, table_arn: str, bucket_arn: str, indexes: Iterable[str]
) -> dict[str, Any]:
    """The role's policy: the tenant's items and index entries, and its uploads, for what the profile does."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "TenantItems",
            "Effect": "Allow",
            "Action": list(WRITE_ACTIONS if writes else READ_ACTIONS),
            "Resource": [table_arn, *(f"{table_arn}/index/{name}" for name in indexes)],
            "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [TENANT_KEYS]}},
        }
    ]
    actions = sorted({action for use in s3 for action in S3_USES[use]})
    if actions:
        statements.append(
            {"Sid": "TenantUploads", "Effect": "Allow", "Action": actions, "Resource": f"{bucket_arn}/{TENANT_OBJECTS}"}
        )
    return {"Version": "2012-10-17", "Statement": statements}


def trust(account_root_arn: str, access_profile: str) -> dict[str, Any]:
    """Who may assume the role: a principal of this account whose role is tagged with this profile (and whose
    own policy allows it), only with exactly one session tag, a non-empty ``tenant_id``."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": account_root_arn},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {f"aws:PrincipalTag/{ACCESS_TAG}": access_profile},
                    "StringLike": {f"aws:RequestTag/{TAG}": "?*"},
                    "ForAllValues:StringEquals": {"aws:TagKeys": [TAG]},
                },
            }
        ],
    }
