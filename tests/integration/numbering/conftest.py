"""The concurrency test talks to a moto server in a process of its own, as Lambda talks to DynamoDB:
16 creator threads sharing the server's interpreter would starve it of the GIL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import boto3
import pytest

from infra.local.provision import ensure_table
from shared.settings import settings


@pytest.fixture
def separate_dynamodb(use_endpoint) -> Iterator[str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "infra.local.moto_server", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        url = server.stdout.readline().strip()
        assert url.startswith("http://"), "the moto server did not start"
        use_endpoint(url)
        ensure_table(boto3.client("dynamodb", endpoint_url=url, region_name=settings().region), settings().table_name)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
