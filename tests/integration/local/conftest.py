"""A fresh table, and so a fresh stream, for every test of the local cloud (the module's cloud and
the fixtures behind it live in tests/integration/conftest.py)."""

from __future__ import annotations

import pytest

from infra.local.provision import ensure_table


@pytest.fixture
def cloud(module_cloud):
    dynamodb = module_cloud.client("dynamodb")
    dynamodb.delete_table(TableName=module_cloud.resources.table_name)
    ensure_table(dynamodb, module_cloud.resources.table_name)
    return module_cloud
