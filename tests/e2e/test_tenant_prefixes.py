"""Runs last (see conftest): everything the whole e2e suite wrote into the session's local cloud sits under
its own tenant's prefix, so IAM dynamodb:LeadingKeys and the S3 prefix can enforce isolation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import boto3

from infra.resources import TABLE_INDEXES, TABLE_PARTITION_KEY, TABLE_SORT_KEY
from shared.caller import valid_tenant_id
from shared.onboarding.reminders import ReminderCursor
from shared.support.sla_sweep import SweepCursor

# The only partitions outside a tenant (docs/access-patterns.md): system items carrying no tenant's id.
SYSTEM_ITEMS = {SweepCursor.KEY, ReminderCursor.KEY, ("SYS#KBREVIEWDUE", "CURSOR")}
TENANT_OBJECT = re.compile(r"^t/([a-z0-9][a-z0-9-]{1,39})/")
IDEMPOTENCY_RECORD = re.compile(r"^T#([a-z0-9][a-z0-9-]{1,39})#IDEMPOTENCY$")


def _client(cloud, service: str) -> Any:
    details = cloud.details
    return boto3.client(service, endpoint_url=details["aws_endpoint_url"], region_name=details["region"])


def _items(cloud) -> Iterator[dict[str, Any]]:
    # A Scan: this test reads the whole table on purpose, which no product code may do.
    for page in _client(cloud, "dynamodb").get_paginator("scan").paginate(TableName=cloud.details["table_name"]):
        for item in page["Items"]:
            yield {name: next(iter(value.values())) for name, value in item.items()}


def _objects(cloud) -> Iterator[str]:
    for page in _client(cloud, "s3").get_paginator("list_objects_v2").paginate(Bucket=cloud.details["bucket_name"]):
        for found in page.get("Contents", []):
            yield found["Key"]


def test_every_item_and_index_entry_sits_under_its_tenants_prefix(cloud) -> None:
    items = list(_items(cloud))
    assert len(items) > 100, "the e2e suite should have written plenty by now"

    escaped = []
    for item in items:
        pk, sk, tenant = item[TABLE_PARTITION_KEY], item[TABLE_SORT_KEY], item.get("tenant_id")
        if (pk, sk) in SYSTEM_ITEMS and not valid_tenant_id(tenant or ""):
            continue
        if tenant is None and (record := IDEMPOTENCY_RECORD.match(pk)) and "status" in item:
            tenant = record.group(1)  # Powertools writes idempotency records with their key and its own fields only
        partition_keys = [pk, *(item[index_pk] for index_pk, _sk in TABLE_INDEXES.values() if index_pk in item)]
        if not tenant or any(not key.startswith(f"T#{tenant}#") for key in partition_keys):
            escaped.append((tenant, partition_keys, sk))

    assert escaped == [], "\n".join(map(str, escaped))


def test_every_object_sits_under_a_tenants_prefix(cloud) -> None:
    tenants = {item["tenant_id"] for item in _items(cloud) if item[TABLE_SORT_KEY] == "TENANT"}
    keys = list(_objects(cloud))
    assert keys, "the e2e suite uploads attachments"

    escaped = [key for key in keys if not (m := TENANT_OBJECT.match(key)) or m.group(1) not in tenants]

    assert escaped == [], "\n".join(escaped)
