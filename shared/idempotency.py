"""Idempotent creates with Powertools idempotency, stored in the single table under the tenant.

Records live at ``T#<tenant>#IDEMPOTENCY`` / ``<operation>#<hash>`` so tenant isolation (and
``dynamodb:LeadingKeys``) covers them too; the key hash covers the operation, the caller and the
``Idempotency-Key``, and the body is validated so a reused key with another body is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig
from aws_lambda_powertools.utilities.idempotency.base import IdempotencyHandler
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from botocore.exceptions import ClientError

from shared import aws, credentials
from shared.caller import TenantContext
from shared.db.errors import contended, throttled, unavailable
from shared.db.table import tkey
from shared.errors import BadRequest, Conflict, Unprocessable
from shared.settings import settings

_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


@cache
def _config() -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath="[operation, user, key]",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=settings().idempotency_ttl_seconds,
    )


@cache
def _client() -> Any:
    return aws.client("dynamodb")


aws.on_forget(_client.cache_clear)


def once(
    ctx: TenantContext,
    operation: str,
    key: str,
    body: dict[str, Any],
    create: Callable[[], dict[str, Any]],
    invocation: Any = None,
) -> dict[str, Any]:
    """``invocation``: the Lambda context, so that an interrupted create's in-progress record expires with the
    invocation, not the TTL."""
    if not _KEY.match(key):
        raise BadRequest("Idempotency-Key must be 1-255 visible ASCII characters.")
    if hasattr(invocation, "get_remaining_time_in_millis"):
        _config().register_lambda_context(invocation)
    store = DynamoDBPersistenceLayer(
        table_name=settings().table_name,
        key_attr="PK",
        sort_key_attr="SK",
        static_pk_value=tkey(ctx.tenant_id, "IDEMPOTENCY"),
        boto3_client=credentials.client("dynamodb", _client),
    )
    made: list[dict[str, Any]] = []

    def create_once() -> dict[str, Any]:
        made.append(create())
        return made[0]

    handler = IdempotencyHandler(
        function=create_once,
        function_payload={"operation": operation, "user": ctx.user_id, "key": key, "body": body},
        config=_config(),
        persistence_store=store,
        key_prefix=operation,
        function_args=(),
        function_kwargs={},
    )
    try:
        return handler.handle()
    except IdempotencyAlreadyInProgressError:
        raise Conflict("A request with this Idempotency-Key is still in progress; retry shortly.") from None
    except IdempotencyValidationError:
        raise Unprocessable("This Idempotency-Key was used with a different body.") from None
    except IdempotencyPersistenceLayerError as error:
        if made:
            # Created, but the key's record could not be marked done: the result stands. Until the record's
            # in-progress window (the invocation's time) ends, a retry with the key is refused as in progress.
            return made[0]
        cause = error.__cause__
        if isinstance(cause, ClientError) and (throttled(cause) or contended(cause)):
            raise unavailable() from None  # the key's record was not written, or was removed again
        raise
