"""Everything a caller sends is bounded: every string, list, number and map of every request body,
query and path parameter in the API contract has a limit, so no input costs more than its limit; and
every number a request carries is one DynamoDB can store (or is refused)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any, get_args

import pytest
from pydantic import ValidationError, create_model

from functions.api import catalog
from shared.schemas import Strict

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


# ---- numbers: whatever a number field accepts, DynamoDB can store --------------------------------------

EXTREMES = (5e-324, 6.655117390619086e-250, -1e-131, 1e-130, 0.1 + 0.2, 1.2345678901234567e-5, 1e125, 1e300, -1e300)


def storable(value: float) -> bool:
    """DynamoDB's numbers: up to 38 significant digits, magnitude 0 or between 1e-130 and 1e126."""
    number = Decimal(repr(value))
    digits = len(number.normalize().as_tuple().digits)
    return number == 0 or (Decimal("1e-130") <= abs(number) < Decimal("1e126") and digits <= 38)


def holds_float(annotation: Any) -> bool:
    return annotation is float or any(holds_float(arg) for arg in get_args(annotation))


def request_models() -> Iterator[type[Strict]]:
    """Every request body model (they forbid unknown fields), of every module the catalog serves."""
    pending = [Strict]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        yield model


FLOAT_FIELDS = {
    f"{model.__module__}.{model.__name__}.{name}": (model, name)
    for model in request_models()
    for name, info in model.model_fields.items()
    if holds_float(info.annotation)
}


def test_the_walk_finds_the_float_fields():
    assert {"shared.schemas.Location.lat", "shared.field.technicians.TechnicianIn.service_radius_km"} <= set(
        FLOAT_FIELDS
    )


@pytest.mark.parametrize("where", sorted(FLOAT_FIELDS))
def test_every_float_a_request_carries_is_refused_or_storable(where):
    model, name = FLOAT_FIELDS[where]
    info = model.model_fields[name]
    probe = create_model("Probe", value=(info.annotation, info))
    for extreme in EXTREMES:
        try:
            value = probe.model_validate({"value": extreme}).value
        except ValidationError:
            continue  # out of the field's bounds
        assert storable(value), f"{where} accepts {extreme!r} as {value!r}, which DynamoDB cannot store"


def test_every_documented_number_bound_is_one_dynamodb_holds():
    bounds = [
        (where, schema[key])
        for where, top in INPUTS.items()
        for schema in walk(top)
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
        if key in schema
    ]
    assert bounds
    assert [(where, bound) for where, bound in bounds if not storable(float(bound))] == []


def walk(schema: dict[str, Any], seen: frozenset[str] = frozenset()) -> Iterator[dict[str, Any]]:
    ref = schema.get("$ref")
    if ref in seen:
        return
    schema, seen = resolve(schema), seen | {ref} if ref else seen
    yield schema
    children = [*schema.get("anyOf", ()), *schema.get("oneOf", ()), *schema.get("allOf", ())]
    children += schema.get("properties", {}).values()
    children += [schema[key] for key in ("items", "additionalProperties") if isinstance(schema.get(key), dict)]
    for child in children:
        yield from walk(child, seen)
