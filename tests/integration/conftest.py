"""The local cloud that integration tests share: moto on a free loopback port, provisioned from
infra/resources.py, once per test module, with a fresh table (and so a fresh stream) for every test
that asks for ``cloud``; and the means to point this process's clients at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest

import shared.db.table  # noqa: F401 (registers the PynamoDB connections with aws.forget())
from infra.local.moto_server import MotoServer, start_moto
from infra.local.provision import Provisioned, ensure_table, provision
from shared import aws
from shared.settings import settings
from tests.integration.faults import faults  # noqa: F401 (a fixture: DynamoDB faults injected at botocore)


@dataclass
class Cloud:
    server: MotoServer
    resources: Provisioned
    region: str
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def client(self, service: str):
        """One client per service: making a boto3 client costs more than most requests to moto."""
        if service not in self._clients:
            self._clients[service] = boto3.client(service, endpoint_url=self.server.url, region_name=self.region)
        return self._clients[service]


def forget_pynamodb_connections() -> None:
    """Clients are cached per process (PynamoDB's connections, the process's own clients, tenant-scoped
    credentials and their clients); another module's moto listens on another port, so forget them all."""
    aws.forget()


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
    """The module's cloud with an empty table, and so a fresh stream (suites that make their own
    tenants can share the module's table instead: ``module_cloud``)."""
    dynamodb = module_cloud.client("dynamodb")
    dynamodb.delete_table(TableName=module_cloud.resources.table_name)
    ensure_table(dynamodb, module_cloud.resources.table_name)
    return module_cloud
