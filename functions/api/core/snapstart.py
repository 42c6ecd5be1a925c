"""Lambda SnapStart for the API functions: what is done before the snapshot, and undone after each restore.

In the cloud every API function runs on SnapStart (``infra/cdk/functions.py``): Lambda initialises a published
version once, snapshots its memory, and starts every new execution environment from that snapshot. So:

- before the snapshot, ``prime`` does what a first request would: the handler module is imported already (routes,
  models); each authenticated route answers a request without a token (refused before any credential is asked
  for, so no AWS call is made), which builds its validators and the problem responses; and the container's
  botocore session reads the DynamoDB and STS models by making (and dropping) a client of each;
- after each restore, ``restored`` drops every client, connection and credential made before the snapshot
  (``shared.aws.forget()``: the snapshot's credentials and sockets belong to the environment that took it),
  forgets the settings (read again on first use) and reseeds ``random``, whose state every restored copy would
  otherwise share. ULIDs, tokens and signatures use ``os.urandom`` (through ``secrets`` too), which the kernel
  keeps unique per restored copy.

Locally the hooks are only registered; nothing calls them (tests call them the way Lambda does).
"""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING, Any

from snapshot_restore_py import register_after_restore, register_before_snapshot

from functions.observability import prime_tracing
from shared import aws
from shared.settings import settings

if TYPE_CHECKING:
    from functions.api.core.resolver import Api

PRIMED_SERVICES = ("dynamodb", "sts")  # what every authenticated request uses: the table, the tenant's credentials
_PARAMETER = re.compile(r"<[^>]+>")


def enable(api: Api) -> None:
    """Prime ``api``'s routes before the snapshot."""
    register_before_snapshot(prime, api)


class _BeforeSnapshot:
    """The Lambda context Powertools reads at the entry point: there is none before the snapshot."""

    function_name = "snapstart-prime"
    memory_limit_in_mb = 0
    invoked_function_arn = ""
    aws_request_id = "snapstart-prime"


def prime(api: Api) -> None:
    prime_tracing()  # X-Ray in the snapshot, not loaded by the first request after a restore
    for method, path in api.authenticated_routes():
        api.handler(_tokenless_event(method, _PARAMETER.sub("0", path)), _BeforeSnapshot())
    for service in PRIMED_SERVICES:
        aws.client(service)
    aws.forget()


@register_after_restore
def restored() -> None:
    aws.forget()
    settings.cache_clear()  # read again on first use: as of the restore, not the snapshot
    random.seed()  # from os.urandom


def _tokenless_event(method: str, path: str) -> dict[str, Any]:
    return {
        "httpMethod": method,
        "path": path,
        "resource": path,
        "headers": {"Content-Type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "requestContext": {"requestId": "snapstart-prime", "stage": "prime", "httpMethod": method, "path": path},
        "body": None,
        "isBase64Encoded": False,
    }
