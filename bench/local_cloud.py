"""The local cloud as the marketing benches use it: their environment, and moto started in-process and provisioned
from ``infra.resources`` (the one ``deskos up`` runs)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


def environment(name: str, **extra: str) -> None:
    """Settings for a bench named ``name`` (its own table and bucket), before anything reads them."""
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_REGION="eu-west-1",
        AWS_DEFAULT_REGION="eu-west-1",
        DESKOS_TABLE=f"deskos-{name}-bench",
        DESKOS_BUCKET=f"deskos-{name}-bench-uploads",
        DESKOS_CURSOR_SECRET="bench-only-cursor-secret",
        POWERTOOLS_METRICS_DISABLED="true",
        POWERTOOLS_LOG_LEVEL="ERROR",
        **extra,
    )


@contextmanager
def started() -> Iterator[str]:
    """A provisioned moto server for the block (its URL; ``AWS_ENDPOINT_URL`` points at it), stopped after."""
    from infra.local.moto_server import start_moto
    from infra.local.provision import provision
    from shared import aws
    from shared.settings import settings

    server = start_moto()
    try:
        os.environ["AWS_ENDPOINT_URL"] = server.url
        settings.cache_clear()
        aws.forget()
        provision(server.url, "eu-west-1", table_name=settings().table_name, bucket_name=settings().bucket_name)
        yield server.url
    finally:
        server.stop()
