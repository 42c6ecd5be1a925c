"""A dynamic segment's criteria: a tree of AND/OR groups over contact and client fields and tags, checked
against the published field catalog, and evaluated against one contact's profile.

Written as JSON::

    {"match": "all", "conditions": [
        {"field": "client.customer_type", "operator": "equals", "value": "premium"},
        {"match": "any", "conditions": [
            {"field": "contact.tags", "operator": "has_tag", "value": "<tag id>"},
            {"field": "contact.created_at", "operator": "within_last_days", "value": 30}]}]}

Validation answers 422 naming the place (``criteria.conditions.1.conditions.0.field``) and what is wrong with
it: an unknown field, an operator that does not fit the field's type, a value of the wrong shape. Text
comparisons ignore case. Pure: no storage here (``audience`` builds the profiles)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.errors import Unprocessable

MAX_DEPTH = 4  # the root group is depth 1
MAX_CONDITIONS = 50  # rules and groups in the whole tree
MAX_PER_GROUP = 20
MAX_TEXT = 200
MAX_CHOICES = 100
MAX_DAYS = 3650

# field -> (type, description): what GET /marketing/segments/fields publishes
FIELDS: dict[str, tuple[str, str]] = {
    "contact.name": ("text", "The contact's full name."),
    "contact.email": ("text", "The contact's email address."),
    "contact.phone": ("text", "The contact's phone number."),
    "contact.created_at": ("date", "When the contact was created."),
    "contact.tags": ("tags", "The tags applied to the contact (values are tag ids)."),
    "client.id": ("id", "The id of the contact's client account."),
    "client.name": ("text", "The client account's name."),
    "client.customer_type": ("text", "The client account's customer type, e.g. premium."),
    "client.address": ("text", "The client account's address."),
    "client.created_at": ("date", "When the client account was created."),
    "client.tags": ("tags", "The tags applied to the contact's client account (values are tag ids)."),
}
# type -> operator -> the value it takes
OPERATORS: dict[str, dict[str, str]] = {
    "text": {
        "equals": "text",
        "not_equals": "text",
        "in": "list of text",
        "contains": "text",
        "starts_with": "text",
        "is_empty": "none",
    },
    "id": {"equals": "text", "not_equals": "text", "in": "list of text", "is_empty": "none"},
    "date": {"before": "date", "after": "date", "within_last_days": "days", "is_empty": "none"},
    "tags": {"has_tag": "tag id", "has_not_tag": "tag id"},
}


@dataclass(frozen=True)
class Rule:
    field: str
    operator: str
    value: Any


@dataclass(frozen=True)
class Group:
    all: bool
    conditions: tuple[Rule | Group, ...]


def catalog() -> list[dict[str, Any]]:
    """The published field catalog: each field, its type, its operators and what each takes."""
    return [
        {"field": name, "type": kind, "description": text, "operators": OPERATORS[kind]}
        for name, (kind, text) in FIELDS.items()
    ]


def parse(raw: Any, *, field: str = "criteria") -> Group:
    """The tree ``raw`` describes; 422 naming every place that is wrong (the first few)."""
    errors: list[dict[str, str]] = []
    count = [0]
    tree = _group(raw, field, 1, errors, count)
    if count[0] > MAX_CONDITIONS:
        errors.append({"field": field, "message": f"A segment has at most {MAX_CONDITIONS} conditions."})
    if errors or tree is None:
        raise Unprocessable(errors[0]["message"] if errors else "The criteria are invalid.", errors=errors[:20])
    return tree


def dump(node: Rule | Group) -> dict[str, Any]:
    """The stored (and answered) form of a parsed tree: dates as ISO strings."""
    if isinstance(node, Group):
        return {"match": "all" if node.all else "any", "conditions": [dump(c) for c in node.conditions]}
    value = node.value.isoformat() if isinstance(node.value, datetime) else node.value
    value = sorted(value) if isinstance(value, frozenset) else value
    return {"field": node.field, "operator": node.operator, **({} if value is None else {"value": value})}


def tag_ids(node: Rule | Group) -> set[str]:
    """The tags the tree tests for."""
    if isinstance(node, Group):
        return set().union(*(tag_ids(c) for c in node.conditions)) if node.conditions else set()
    return {node.value} if FIELDS[node.field][0] == "tags" else set()


def matches(node: Rule | Group, profile: Mapping[str, Any], at: datetime) -> bool:
    """Whether a contact's profile (field -> value; tags as sets of ids) meets the tree at ``at``."""
    if isinstance(node, Group):
        results = (matches(c, profile, at) for c in node.conditions)
        return all(results) if node.all else any(results)
    return _test(node, profile.get(node.field), at)


# ---- parsing -----------------------------------------------------------------------------------


def _group(raw: Any, place: str, depth: int, errors: list[dict[str, str]], count: list[int]) -> Group | None:
    if not isinstance(raw, dict) or set(raw) - {"match", "conditions"} or "conditions" not in raw:
        errors.append({"field": place, "message": 'A group is {"match": "all" or "any", "conditions": [...]}.'})
        return None
    if depth > MAX_DEPTH:
        errors.append({"field": place, "message": f"Groups nest at most {MAX_DEPTH} levels deep."})
        return None
    match = raw.get("match", "all")
    if match not in ("all", "any"):
        errors.append({"field": f"{place}.match", "message": 'Must be "all" (AND) or "any" (OR).'})
    conditions = raw["conditions"]
    if not isinstance(conditions, list) or not 1 <= len(conditions) <= MAX_PER_GROUP:
        errors.append({"field": f"{place}.conditions", "message": f"A group holds 1 to {MAX_PER_GROUP} conditions."})
        return None
    parsed: list[Rule | Group] = []
    for index, child in enumerate(conditions):
        count[0] += 1
        where = f"{place}.conditions.{index}"
        node = (
            _group(child, where, depth + 1, errors, count)
            if isinstance(child, dict) and "conditions" in child
            else _rule(child, where, errors)
        )
        if node is not None:
            parsed.append(node)
    return Group(match == "all", tuple(parsed))


def _rule(raw: Any, place: str, errors: list[dict[str, str]]) -> Rule | None:
    if not isinstance(raw, dict) or set(raw) - {"field", "operator", "value"}:
        errors.append({"field": place, "message": 'A condition is {"field", "operator", "value"}.'})
        return None
    name, operator = raw.get("field"), raw.get("operator")
    if not isinstance(name, str) or name not in FIELDS:
        shown = name if isinstance(name, str) and len(name) <= 100 else "this"
        errors.append(
            {"field": f"{place}.field", "message": f"Unknown field {shown!r}; see /marketing/segments/fields."}
        )
        return None
    kind = FIELDS[name][0]
    if not isinstance(operator, str) or operator not in OPERATORS[kind]:
        shown = operator if isinstance(operator, str) and len(operator) <= 100 else "this"
        allowed = ", ".join(OPERATORS[kind])
        message = f"Operator {shown!r} does not fit {name} (a {kind} field): use one of {allowed}."
        errors.append({"field": f"{place}.operator", "message": message})
        return None
    value, problem = _value(OPERATORS[kind][operator], raw.get("value"))
    if problem:
        errors.append({"field": f"{place}.value", "message": problem})
        return None
    return Rule(name, operator, value)


def _value(takes: str, value: Any) -> tuple[Any, str | None]:
    if takes == "none":
        return None, None if value in (None, True) else "is_empty takes no value."
    if takes in ("text", "tag id"):
        if not isinstance(value, str) or not 0 < len(value) <= MAX_TEXT:
            return None, f"Must be text of 1 to {MAX_TEXT} characters."
        return (value if takes == "tag id" else value.casefold()), None
    if takes == "list of text":
        if (
            not isinstance(value, list)
            or not 0 < len(value) <= MAX_CHOICES
            or not all(isinstance(v, str) and 0 < len(v) <= MAX_TEXT for v in value)
        ):
            return None, f"Must be a list of 1 to {MAX_CHOICES} texts."
        return frozenset(v.casefold() for v in value), None
    if takes == "days":
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_DAYS:
            return None, f"Must be a whole number of days, 1 to {MAX_DAYS}."
        return value, None
    try:  # a date or an instant, ISO 8601; a date alone is its midnight UTC
        if not isinstance(value, str) or len(value) > 40:
            raise ValueError
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), None
    except ValueError:
        return None, "Must be an ISO 8601 date or instant, e.g. 2026-01-31 or 2026-01-31T09:30:00Z."


# ---- evaluating --------------------------------------------------------------------------------


def _test(rule: Rule, actual: Any, at: datetime) -> bool:
    op, wanted = rule.operator, rule.value
    if op == "is_empty":
        return actual in (None, "") or actual == set()
    if op in ("has_tag", "has_not_tag"):
        return (wanted in (actual or ())) == (op == "has_tag")
    if isinstance(actual, datetime):
        if op == "before":
            return actual < wanted
        if op == "after":
            return actual > wanted
        return at - timedelta(days=wanted) <= actual <= at
    if actual is None:
        return op == "not_equals"
    text = str(actual).casefold()
    if op == "equals":
        return text == wanted
    if op == "not_equals":
        return text != wanted
    if op == "in":
        return text in wanted
    if op == "contains":
        return wanted in text
    return text.startswith(wanted)  # starts_with
