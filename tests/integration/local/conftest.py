"""A local cloud per test module (moto on a free loopback port, provisioned from infra/resources.py),
with a fresh table, and so a fresh stream, for every test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import boto3
import pytest

from infra.local.moto_server import MotoServer, start_moto
from infra.local.provision import Provisioned, ensure_table, provision
from shared.db.table import Item
from shared.settings import settings


@dataclass
class Cloud:
    server: MotoServer
    resources: Provisioned
    region: str

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.server.url, region_name=self.region)


def forget_pynamodb_connections() -> None:
    """PynamoDB caches a connection per model class; another module's moto listens on another port."""
    pending = [Item]
    while pending:
        model = pending.pop()
        if "_connection" in vars(model):
            model._connection = None
        pending.extend(model.__subclasses__())


@pytest.fixture
def use_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Points this test's AWS clients, PynamoDB's included, at a moto server it started itself."""

    def use(url: str) -> None:
        monkeypatch.setenv("AWS_ENDPOINT_URL", url)
        forget_pynamodb_connections()

    yield use
    forget_pynamodb_connections()


@pytest.fixture(scope="module")
def module_cloud() -> Iterator[Cloud]:
    server = start_moto()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", server.url)
        forget_pynamodb_connections()
        config = settings()
        resources = provision(server.url, config.region, table_name=config.table_name, bucket_name=config.bucket_name)
        yield Cloud(server, resources, config.region)
        server.stop()
        forget_pynamodb_connections()


@pytest.fixture
def cloud(module_cloud: Cloud) -> Cloud:
    dynamodb = module_cloud.client("dynamodb")
    dynamodb.delete_table(TableName=module_cloud.resources.table_name)
    ensure_table(dynamodb, module_cloud.resources.table_name)
    return module_cloud
