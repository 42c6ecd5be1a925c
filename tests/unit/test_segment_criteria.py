"""Segment criteria: checked against the field catalog (422 naming the place), evaluated against profiles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import Unprocessable
from shared.marketing import criteria

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def rule(field: str, operator: str, value=None) -> dict:
    return {"field": field, "operator": operator, **({} if value is None else {"value": value})}


def tree(*conditions, match: str = "all") -> dict:
    return {"match": match, "conditions": list(conditions)}


def profile(**fields) -> dict:
    base = {name: None for name in criteria.FIELDS}
    base.update({"contact.tags": set(), "client.tags": set()})
    base.update({k.replace("__", "."): v for k, v in fields.items()})
    return base


def errors_of(raw) -> dict[str, str]:
    with pytest.raises(Unprocessable) as caught:
        criteria.parse(raw)
    return {e["field"]: e["message"] for e in caught.value.errors}


def test_an_unknown_field_is_named():
    assert (
        "contact.shoe_size" in errors_of(tree(rule("contact.shoe_size", "equals", "9")))["criteria.conditions.0.field"]
    )


def test_an_operator_that_does_not_fit_the_fields_type_is_named():
    message = errors_of(tree(rule("contact.created_at", "starts_with", "20")))["criteria.conditions.0.operator"]
    assert "starts_with" in message and "date field" in message


@pytest.mark.parametrize(
    ("condition", "place"),
    [
        (rule("contact.created_at", "within_last_days", "thirty"), "value"),
        (rule("contact.created_at", "before", "yesterday"), "value"),
        (rule("contact.name", "in", []), "value"),
        (rule("contact.name", "equals", 7), "value"),
        (rule("contact.tags", "has_tag", ""), "value"),
        (rule("contact.name", "is_empty", "x"), "value"),
        ({"field": "contact.name", "operator": "equals", "value": "a", "extra": 1}, None),
    ],
)
def test_values_of_the_wrong_shape_are_refused(condition, place):
    found = errors_of(tree(condition))
    assert (f"criteria.conditions.0.{place}" if place else "criteria.conditions.0") in found


def test_groups_nest_at_most_four_deep():
    deep = tree(rule("contact.name", "is_empty"))
    for _ in range(4):
        deep = tree(deep)
    assert any("4 levels" in m for m in errors_of(deep).values())
    criteria.parse(tree(tree(tree(tree(rule("contact.name", "is_empty"))))))  # four is fine


def test_too_many_conditions_are_refused():
    many = tree(*[tree(*[rule("contact.name", "is_empty")] * 10)] * 6)
    assert any("at most 50" in m for m in errors_of(many).values())


def test_premium_contacts_tagged_vip_or_recent():
    parsed = criteria.parse(
        tree(
            rule("client.customer_type", "equals", "Premium"),
            tree(
                rule("contact.tags", "has_tag", "VIP1"),
                rule("contact.created_at", "within_last_days", 30),
                match="any",
            ),
        )
    )
    old = NOW - timedelta(days=90)
    assert criteria.matches(
        parsed, profile(client__customer_type="premium", contact__created_at=old, contact__tags={"VIP1"}), NOW
    )
    assert criteria.matches(
        parsed, profile(client__customer_type="premium", contact__created_at=NOW - timedelta(days=3)), NOW
    )
    assert not criteria.matches(parsed, profile(client__customer_type="premium", contact__created_at=old), NOW)
    assert not criteria.matches(parsed, profile(client__customer_type="standard", contact__tags={"VIP1"}), NOW)
    assert criteria.tag_ids(parsed) == {"VIP1"}


@pytest.mark.parametrize(
    ("condition", "fields", "expected"),
    [
        (rule("contact.email", "contains", "@ACME."), {"contact__email": "ann@acme.example"}, True),
        (rule("contact.name", "starts_with", "an"), {"contact__name": "Ann Lee"}, True),
        (rule("contact.name", "not_equals", "ann"), {"contact__name": None}, True),
        (rule("contact.name", "in", ["Bob", "Ann"]), {"contact__name": "ann"}, True),
        (rule("contact.phone", "is_empty"), {"contact__phone": ""}, True),
        (
            rule("contact.created_at", "before", "2026-01-01"),
            {"contact__created_at": datetime(2025, 5, 1, tzinfo=UTC)},
            True,
        ),
        (rule("contact.created_at", "after", "2026-01-01T00:00:00Z"), {"contact__created_at": None}, False),
        (rule("client.tags", "has_not_tag", "T1"), {"client__tags": {"T2"}}, True),
    ],
)
def test_each_operator(condition, fields, expected):
    assert criteria.matches(criteria.parse(tree(condition)), profile(**fields), NOW) is expected


def test_the_stored_form_parses_back_to_the_same_tree():
    raw = tree(rule("contact.name", "in", ["b", "a"]), rule("contact.created_at", "before", "2026-01-01"), match="any")
    parsed = criteria.parse(raw)
    assert criteria.parse(criteria.dump(parsed)) == parsed


def test_the_catalog_publishes_every_field_with_its_operators():
    published = {f["field"]: f for f in criteria.catalog()}
    assert set(published) == set(criteria.FIELDS)
    assert "has_tag" in published["contact.tags"]["operators"]
