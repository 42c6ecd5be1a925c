"""The single DynamoDB table: one polymorphic PynamoDB base, key helpers and the index definitions.

Every partition key of tenant data, in the table and in every index, starts with ``T#<tenant>#``
so IAM ``dynamodb:LeadingKeys`` can enforce isolation. No connection is made at import time:
PynamoDB connects on first use, and the table name is read from settings when it is needed.
Inside a request every call (items, indexes, batches, ``transaction()``) goes through the caller's tenant
scope (``shared.credentials``): a connection made with the tenant's credentials, once per scope.
"""

from __future__ import annotations

import random
import time
from typing import TypeVar

from pynamodb.attributes import (
    DiscriminatorAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.connection import Connection, TableConnection
from pynamodb.connection.base import MetaTable
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from shared import aws, credentials
from shared.db.errors import storage_errors
from shared.errors import NotFound, Unavailable
from shared.settings import region, settings

INDEXES = ("GSI1", "GSI2", "GSI3", "GSI4", "GSI5")
BATCH_GET_ATTEMPTS = 5


def tkey(tenant_id: str, *parts: str) -> str:
    """A tenant-prefixed key: ``T#<tenant>#part#part``."""
    return "#".join(("T", tenant_id, *parts))


class _LazyMeta(type):
    """Meta whose table name and region come from settings when PynamoDB asks, not at import."""

    @property
    def table_name(cls) -> str:
        return settings().table_name

    @property
    def region(cls) -> str:
        return region()


def _index(name: str) -> type[GlobalSecondaryIndex]:
    meta = type("Meta", (), {"index_name": name, "projection": AllProjection()})
    return type(
        name,
        (GlobalSecondaryIndex,),
        {
            "Meta": meta,
            f"{name}PK": UnicodeAttribute(hash_key=True, attr_name=f"{name}PK"),
            f"{name}SK": UnicodeAttribute(range_key=True, attr_name=f"{name}SK"),
        },
    )


class Item(Model):
    """Base of every entity. Subclasses set ``entity`` and build their own keys."""

    class Meta(metaclass=_LazyMeta):
        billing_mode = "PAY_PER_REQUEST"

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)
    entity = DiscriminatorAttribute()
    tenant_id = UnicodeAttribute()
    GSI1PK = UnicodeAttribute(null=True)
    GSI1SK = UnicodeAttribute(null=True)
    GSI2PK = UnicodeAttribute(null=True)
    GSI2SK = UnicodeAttribute(null=True)
    GSI3PK = UnicodeAttribute(null=True)
    GSI3SK = UnicodeAttribute(null=True)
    GSI4PK = UnicodeAttribute(null=True)
    GSI4SK = UnicodeAttribute(null=True)
    GSI5PK = UnicodeAttribute(null=True)
    GSI5SK = UnicodeAttribute(null=True)
    # who made the last change: the audit trail reads it from the stream image
    updated_by = UnicodeAttribute(null=True)
    expiration = NumberAttribute(null=True)

    gsi1 = _index("GSI1")()
    gsi2 = _index("GSI2")()
    gsi3 = _index("GSI3")()
    gsi4 = _index("GSI4")()
    gsi5 = _index("GSI5")()

    @classmethod
    def _batch_get_page(cls, keys_to_get, consistent_read, attributes_to_get):
        """One page of ``batch_get``. PynamoDB asks again at once, and for ever, for the keys DynamoDB
        leaves unprocessed (as it does under throttling): here with backoff, a few times, then a 503."""
        found, pending = [], keys_to_get
        for attempt in range(BATCH_GET_ATTEMPTS):
            if attempt:
                time.sleep(random.uniform(0, min(0.025 * 2**attempt, 0.5)))
            page, pending = super()._batch_get_page(pending, consistent_read, attributes_to_get)
            found += page
            if not pending:
                return found, []
        raise Unavailable("Storage is busy; retry shortly.", retry_after=1)

    @classmethod
    def _get_connection(cls) -> TableConnection:
        """Outside a request the process's connection (PynamoDB keeps one per class; each holds the table's
        schema), inside one the tenant scope's. Indexes, batches and ``transaction()`` all come here; every
        entity shares the table, so one per scope. Either way its client comes from ``shared.aws``."""
        unscoped = super()._get_connection()
        if not isinstance(unscoped.connection, _Connection):
            cls._connection = unscoped = _connect(cls.Meta, unscoped.get_meta_table(), None)
        scope = credentials.current()
        if scope is None:
            return unscoped
        return scope.cached("pynamodb", lambda: _connect(cls.Meta, unscoped.get_meta_table(), scope.keys))


class _Connection(Connection):
    """PynamoDB's connection, its client made from the container's botocore session: PynamoDB would start a
    session of its own per connection and thread, each reading the service and endpoint models again."""

    @property
    def session(self) -> _SessionOfKeys:
        keys = self._aws_access_key_id and aws.Keys(
            self._aws_access_key_id, self._aws_secret_access_key, self._aws_session_token
        )
        return _SessionOfKeys(keys or None)


class _SessionOfKeys:
    """What ``Connection.client`` asks of a session: a client, here with the connection's credentials."""

    def __init__(self, keys: aws.Keys | None) -> None:
        self.keys = keys

    def create_client(self, service: str, region: str, **options: object) -> object:
        return aws.client(service, credentials=self.keys, region_name=region, **options)


def _connect(meta: type, meta_table: MetaTable, keys: aws.Keys | None) -> TableConnection:
    table = TableConnection(meta.table_name, meta_table=meta_table)
    table.connection = _Connection(
        region=meta.region,
        host=meta.host,
        connect_timeout_seconds=meta.connect_timeout_seconds,
        read_timeout_seconds=meta.read_timeout_seconds,
        max_retry_attempts=meta.max_retry_attempts,
        max_pool_connections=meta.max_pool_connections,
        extra_headers=meta.extra_headers,
        **({} if keys is None else keys_options(keys)),
    )
    table.connection.add_meta_table(meta_table)
    return table


def keys_options(keys: aws.Keys) -> dict[str, str | None]:
    return {
        "aws_access_key_id": keys.access_key_id,
        "aws_secret_access_key": keys.secret_access_key,
        "aws_session_token": keys.session_token,
    }


def forget_connections() -> None:
    """Drop every entity class's connection (``aws.forget()`` calls it)."""
    pending: list[type[Model]] = [Item]
    while pending:
        model = pending.pop()
        if "_connection" in vars(model):
            model._connection = None
        pending.extend(model.__subclasses__())


aws.on_forget(forget_connections)


M = TypeVar("M", bound=Item)


def get_or_none(model: type[M], key: tuple[str, str]) -> M | None:
    """The item at ``key``, or None; throttling is a 503."""
    with storage_errors():
        try:
            return model.get(*key)
        except model.DoesNotExist:
            return None


def get_or_404(model: type[M], key: tuple[str, str], what: str) -> M:
    """The item at ``key``, or NotFound("No such <what>.") — also what another tenant's id gets,
    since the key holds the caller's tenant."""
    found = get_or_none(model, key)
    if found is None:
        raise NotFound(f"No such {what}.")
    return found


def transaction() -> TransactWrite:
    """A TransactWrite on the table's own connection (created lazily by PynamoDB)."""
    return TransactWrite(connection=Item._get_connection().connection)
