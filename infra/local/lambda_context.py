"""Lambda's context object as the local cloud hands it to a handler (the API server, the event pump) and as
the tests do: the parts that handlers and Powertools read."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

MOTO_ACCOUNT_ID = "123456789012"  # moto's default account


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 512
    timeout_ms: int = 900_000
    region: str = "local"
    account_id: str = MOTO_ACCOUNT_ID
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.timeout_ms - int((time.monotonic() - self._started) * 1000))
