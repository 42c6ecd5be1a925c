"""Constant-cost DynamoDB transactions for the local moto server.

moto backs up every table a transaction touches with ``copy.deepcopy`` (items and stream
records included) so it can roll back a cancelled one: each transaction costs time proportional
to the whole table, and a local table of a few thousand tickets slows every create to seconds.
The local server applies requests one at a time under a lock, so a transaction can be checked
first and applied only when every condition holds: then nothing ever needs rolling back, and the
table copy is skipped. Cancellations are reported exactly as moto (and DynamoDB) report them.
"""

from __future__ import annotations

import contextvars
import copy
from types import SimpleNamespace
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import MultipleTransactionsException, TransactionCanceledException
from moto.dynamodb.models.table import Table

_checked = contextvars.ContextVar("deskos_transaction_checked", default=False)
_original = dynamodb_models.DynamoDBBackend.transact_write_items


def _deepcopy(value: Any, memo: dict | None = None) -> Any:
    # only the rollback backup of a pre-checked transaction is skipped; item copies still happen
    if _checked.get() and isinstance(value, Table):
        return value
    return copy.deepcopy(value, memo)


def _cancellations(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]]:
    seen: set[tuple[str, str]] = set()
    reasons: list[tuple[Any, Any, Any]] = []
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        table = backend.get_table(op["TableName"])
        if op_type == "Put":
            key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = op["Item"][table.range_key_attr]
        else:
            key = op["Key"]
        identity = (op["TableName"], str(dict(sorted(key.items()))))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        condition = op.get("ConditionExpression")
        if condition is None:
            reasons.append((None, None, None))
            continue
        current = backend.get_item(op["TableName"], key)
        holds = get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
        ).expr(current)
        if holds:
            reasons.append((None, None, None))
        else:
            old = current.to_json()["Attributes"] if current and op.get("ReturnValuesOnConditionCheckFailure") else None
            reasons.append(("ConditionalCheckFailed", "The conditional request failed", old))
    return reasons


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) <= 100:
        reasons = _cancellations(self, transact_items)
        if any(code is not None for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
    token = _checked.set(True)
    try:
        return _original(self, transact_items)
    finally:
        _checked.reset(token)


def install() -> None:
    """Idempotent; only the local server calls it, tests of moto itself are unaffected."""
    if dynamodb_models.DynamoDBBackend.transact_write_items is _transact_write_items:
        return
    dynamodb_models.copy = SimpleNamespace(deepcopy=_deepcopy)
    dynamodb_models.DynamoDBBackend.transact_write_items = _transact_write_items
