"""The entity kit's rules, which every entity module shares: versions, states and patches."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import BaseModel

from shared.db.entities import MISSING_VERSION, apply_patch, expect_version, require_state
from shared.errors import Conflict, Unprocessable


def order(status: str = "new", **fields):
    return SimpleNamespace(noun="work order", version=3, status=status, **fields)


def test_the_version_read_is_the_first_one_sent_the_body_before_if_match():
    expect_version(order(), None, 3)
    expect_version(order(), 3, 2)


def test_a_stale_version_names_the_entity_and_its_current_version():
    with pytest.raises(Conflict) as refused:
        expect_version(order(), 2, None)

    assert refused.value.detail == "Stale version 2: the work order is at version 3."
    assert refused.value.problem()["current_version"] == 3


def test_a_missing_version_is_a_422_on_version_unless_it_may_be_left_out():
    with pytest.raises(Unprocessable) as refused:
        expect_version(order(), None, None)

    assert refused.value.errors == [{"field": "version", "message": MISSING_VERSION}]
    expect_version(order(), None, None, required=False)


def test_a_wrong_state_is_a_409_naming_the_state():
    with pytest.raises(Conflict) as refused:
        require_state(order(), ("in_progress",), "completed")

    assert refused.value.detail == "A new work order cannot be completed."
    assert refused.value.problem()["current_status"] == "new"
    require_state(order(), ("new", "assigned"), "assigned")
    with pytest.raises(Conflict) as refused:
        require_state(order(status="in_progress"), ("new",), "assigned")
    assert refused.value.detail == "An in_progress work order cannot be assigned."


class Patch(BaseModel):
    version: int | None = None
    notes: str | None = None
    location: dict | None = None


def test_a_patch_sets_what_it_sends_and_refuses_a_null_where_none_may_stand():
    entity = order(notes="old", location={"lat": 1, "lng": 2})

    changes = apply_patch(entity, Patch(version=3, location=None), nullable={"location"})

    assert changes == {"location": None} and entity.location is None and entity.notes == "old"
    with pytest.raises(Unprocessable) as refused:
        apply_patch(entity, Patch(notes=None))
    assert refused.value.errors == [{"field": "notes", "message": "May not be null."}]
