"""What every function's Powertools share: the Tracer (one per container; Tracer instances share their
config), and Metrics that keep quiet about requests that add no metric.

In Lambda it traces with X-Ray: only botocore is patched (PynamoDB calls it too), since patching every library
X-Ray knows would import them all. Elsewhere (tests, the local cloud, the bench) there is no X-Ray daemon, and
the X-Ray recorder would even create an AWS client at import to fetch sampling rules: the Tracer is disabled
there and never loads X-Ray (``POWERTOOLS_TRACE_DISABLED=true`` disables it in Lambda too)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider


class _Untraced(BaseProvider):
    """What the Tracer records to outside Lambda: nothing."""

    class Segment:
        def put_annotation(self, key: str, value: Any) -> None: ...

        def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Iterator[Any]:
        yield self.Segment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any):
        yield self.Segment()

    def put_annotation(self, key: str, value: Any) -> None: ...

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...

    def patch(self, modules: Any) -> None: ...

    def patch_all(self) -> None: ...


# Metrics.log_metrics warns at the end of every invocation that added no metric; most requests add none.
warnings.filterwarnings("ignore", message="No application metrics to publish", module="aws_lambda_powertools")


def _traced() -> bool:
    off = os.getenv("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true", "yes", "on")
    return bool(os.getenv("LAMBDA_TASK_ROOT")) and not off


tracer = (
    Tracer(service="deskos", patch_modules=("botocore",))
    if _traced()
    else Tracer(service="deskos", disabled=True, auto_patch=False, provider=_Untraced())
)
