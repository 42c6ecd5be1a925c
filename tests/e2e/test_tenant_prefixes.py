"""Everything the e2e suite writes sits under its own tenant's prefix, so IAM dynamodb:LeadingKeys and the S3
prefix can enforce isolation: the session's cloud is audited when it stops, after every e2e test that ran on it
(conftest.py; one cloud per xdist worker). Here: the cloud so far, and that the audit catches an escape."""

from __future__ import annotations

import pytest

from tests.e2e import prefix_audit


def test_everything_in_the_cloud_so_far_sits_under_its_tenants_prefix(cloud) -> None:
    prefix_audit.audit(cloud)


TENANT_ITEM = {"PK": "T#acme#TICKET#1", "SK": "TICKET", "tenant_id": "acme"}


@pytest.mark.parametrize(
    "item",
    [
        {**TENANT_ITEM, "PK": "T#globex#TICKET#1"},  # another tenant's prefix
        {**TENANT_ITEM, "tenant_id": None},  # no tenant at all
        {**TENANT_ITEM, "GSI1PK": "TICKETS#open"},  # an index entry outside the prefix
        {"PK": "SYS#SLASWEEP", "SK": "CURSOR", "tenant_id": "acme"},  # a system key carrying a tenant's id
    ],
    ids=["another-prefix", "no-tenant", "index-entry", "tenant-in-system-key"],
)
def test_the_audit_flags_an_item_outside_its_tenants_prefix(item) -> None:
    item = {k: v for k, v in item.items() if v is not None}
    assert prefix_audit.escaped_items([TENANT_ITEM, item]) != []
    assert prefix_audit.escaped_items([TENANT_ITEM]) == []


def test_the_audit_flags_an_object_outside_every_tenants_prefix() -> None:
    keys = ["t/acme/attachments/a.png", "t/globex/attachments/b.png", "attachments/c.png"]
    assert prefix_audit.escaped_objects(keys, {"acme"}) == keys[1:]
