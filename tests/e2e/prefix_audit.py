"""The tenant-prefix audit of a local cloud: everything in its table and bucket sits under its own tenant's
prefix, so that IAM dynamodb:LeadingKeys and the S3 prefix can enforce isolation.

The session's `cloud` fixture (conftest.py) runs it when the cloud stops, after every e2e test that ran on it
(one cloud per xdist worker); tests/e2e/test_tenant_prefixes.py proves it catches what it must."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import boto3

from infra.resources import TABLE_INDEXES, TABLE_PARTITION_KEY, TABLE_SORT_KEY
from shared.caller import valid_tenant_id
from shared.inbound import INBOUND_PREFIX
from shared.onboarding.reminders import ReminderCursor
from shared.support.sla_sweep import SweepCursor

# The only partitions outside a tenant (docs/access-patterns.md): system items carrying no tenant's id.
SYSTEM_ITEMS = {SweepCursor.KEY, ReminderCursor.KEY, ("SYS#KBREVIEWDUE", "CURSOR")}
TENANT_OBJECT = re.compile(r"^t/([a-z0-9][a-z0-9-]{1,39})/")
IDEMPOTENCY_RECORD = re.compile(r"^T#([a-z0-9][a-z0-9-]{1,39})#IDEMPOTENCY$")


def client(cloud, service: str) -> Any:
    """A boto3 client of the cloud's moto (the audits read it directly)."""
    details = cloud.details
    return boto3.client(service, endpoint_url=details["aws_endpoint_url"], region_name=details["region"])


def items(cloud) -> Iterator[dict[str, Any]]:
    # A Scan: the audit reads the whole table on purpose, which no product code may do.
    for page in client(cloud, "dynamodb").get_paginator("scan").paginate(TableName=cloud.details["table_name"]):
        for item in page["Items"]:
            yield {name: next(iter(value.values())) for name, value in item.items()}


def objects(cloud) -> Iterator[str]:
    for page in client(cloud, "s3").get_paginator("list_objects_v2").paginate(Bucket=cloud.details["bucket_name"]):
        for found in page.get("Contents", []):
            yield found["Key"]


def escaped_items(items: Iterable[dict[str, Any]]) -> list[tuple]:
    """(tenant, partition keys, sort key) of each item, or index entry, outside its tenant's prefix."""
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
    return escaped


def escaped_objects(keys: Iterable[str], tenants: set[str]) -> list[str]:
    """The object keys outside every tenant's prefix. Raw inbound mail lands (SES, or the local SMTP listener)
    before its tenant is known; only the receiver reads it, and the bucket expires it (infra/cdk/storage.py)."""
    return [
        key
        for key in keys
        if not key.startswith(INBOUND_PREFIX) and (not (m := TENANT_OBJECT.match(key)) or m.group(1) not in tenants)
    ]


def audit(cloud) -> None:
    """Fails naming what sits outside its tenant's prefix in the cloud's table and bucket."""
    found = list(items(cloud))
    assert found, "the local cloud's table is empty: its seed wrote nothing?"
    tenants = {item["tenant_id"] for item in found if item[TABLE_SORT_KEY] == "TENANT"}
    escaped = [*map(str, escaped_items(found)), *escaped_objects(objects(cloud), tenants)]
    assert escaped == [], "outside their tenant's prefix:\n" + "\n".join(escaped)
