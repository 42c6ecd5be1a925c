"""Everything a caller sends is bounded: every string, list, number and map of every request body,
query and path parameter in the API contract has a limit, so no input costs more than its limit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from functions.api import catalog

OPENAPI = catalog.openapi()


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    node: Any = OPENAPI
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def unbounded(schema: dict[str, Any], where: str, seen: frozenset[str] = frozenset()) -> Iterator[str]:
    """Where in ``schema`` a value may be as large as the caller likes."""
    ref = schema.get("$ref")
    if ref in seen:
        return
    schema, seen = resolve(schema), seen | {ref} if ref else seen
    for combined in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(combined, ()):
            yield from unbounded(option, where, seen)
    if "enum" in schema or "const" in schema:
        return
    kind = schema.get("type")
    if kind == "string" and schema.get("format") not in ("date-time", "date") and "maxLength" not in schema:
        yield f"{where}: string without maxLength"
    elif kind == "array":
        if "maxItems" not in schema:
            yield f"{where}: array without maxItems"
        yield from unbounded(schema.get("items", {}), f"{where}[]", seen)
    elif kind in ("integer", "number") and not (
        {"minimum", "exclusiveMinimum"} & schema.keys() and {"maximum", "exclusiveMaximum"} & schema.keys()
    ):
        yield f"{where}: {kind} without minimum and maximum"
    elif kind == "object" or "properties" in schema:
        for name, prop in schema.get("properties", {}).items():
            yield from unbounded(prop, f"{where}.{name}", seen)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) or extra is True:
            if "maxProperties" not in schema:
                yield f"{where}: map without maxProperties"
            if isinstance(extra, dict):
                yield from unbounded(extra, f"{where}{{}}", seen)


def inputs() -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in OPENAPI["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", ()):
                yield f"{name} {parameter['in']} {parameter['name']}", parameter.get("schema", {})
            for media in operation.get("requestBody", {}).get("content", {}).values():
                yield f"{name} body", media.get("schema", {})


INPUTS = dict(inputs())


@pytest.mark.parametrize("where", sorted(INPUTS))
def test_every_input_of_the_contract_is_bounded(where):
    assert list(unbounded(INPUTS[where], where)) == []
