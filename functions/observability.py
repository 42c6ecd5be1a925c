"""What every function's Powertools share: the Tracer (one per container; Tracer instances share their
config), and Metrics that keep quiet about requests that add no metric.

In Lambda the Tracer records to X-Ray, loaded by the first traced invocation (``prime_tracing`` loads it
earlier): only botocore is patched (PynamoDB calls it too), since patching every library X-Ray knows would
import them all. Elsewhere (tests, the local cloud, the bench) there is no X-Ray daemon, and the X-Ray recorder
would even create an AWS client at import to fetch sampling rules: the Tracer is disabled there and never loads
X-Ray (``POWERTOOLS_TRACE_DISABLED=true`` disables it in Lambda too)."""

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


class _XRayOnFirstUse(BaseProvider):
    """X-Ray, loaded by the first traced invocation (or by ``prime_tracing``) instead of at import: the
    recorder, its models and the botocore patch cost a cold start more than a tenth of the stack's floor
    (bench/cold_start.py). Patches asked for at construction are applied when it loads."""

    def __init__(self) -> None:
        self._recorder: Any = None
        self._modules: tuple[str, ...] = ()

    def load(self) -> Any:
        if self._recorder is None:
            from aws_xray_sdk.core import patch, xray_recorder

            xray_recorder.configure(streaming_threshold=0)  # as Powertools does: subsegments sent as they end
            patch(self._modules)
            self._recorder = xray_recorder
        return self._recorder

    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Any:
        return self.load().in_subsegment(name=name, **kwargs)

    def in_subsegment_async(self, name: str | None = None, **kwargs: Any) -> Any:
        return self.load().in_subsegment_async(name=name, **kwargs)

    def put_annotation(self, key: str, value: Any) -> None:
        self.load().put_annotation(key, value)

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self.load().put_metadata(key, value, namespace)

    def patch(self, modules: Any) -> None:
        self._modules = tuple(modules)

    def patch_all(self) -> None:
        raise NotImplementedError("patch only what the functions use")


def _traced() -> bool:
    off = os.getenv("POWERTOOLS_TRACE_DISABLED", "false").lower() in ("1", "true", "yes", "on")
    return bool(os.getenv("LAMBDA_TASK_ROOT")) and not off


tracer = (
    Tracer(service="deskos", patch_modules=("botocore",), provider=_XRayOnFirstUse())
    if _traced()
    else Tracer(service="deskos", disabled=True, auto_patch=False, provider=_Untraced())
)


def prime_tracing() -> None:
    """Load X-Ray now (before a SnapStart snapshot, say), not in the first traced invocation."""
    if isinstance(tracer.provider, _XRayOnFirstUse):
        tracer.provider.load()
