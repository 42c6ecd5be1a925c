"""The assignment strategies, as pure functions over candidate technicians."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from shared.field.assignment import candidates, choose, haversine_km


@dataclass
class P:
    lat: float
    lng: float


@dataclass
class Tech:
    id: str
    skills: list[str] = field(default_factory=lambda: ["networking"])
    home: P | None = None
    service_radius_km: float | None = None
    open_work_orders: int = 0
    capacity: int = 5
    active: bool = True

    @property
    def has_room(self) -> bool:
        return self.active and self.open_work_orders < self.capacity


LONDON, PARIS, BRIGHTON = P(51.5072, -0.1276), P(48.8566, 2.3522), P(50.8225, -0.1372)


def test_haversine_london_to_paris_is_about_344_km():
    assert haversine_km(LONDON, PARIS) == pytest.approx(343.5, abs=1.0)


def test_candidates_are_active_skilled_and_below_capacity_in_id_order():
    pool = [
        Tech("c"),
        Tech("a"),
        Tech("b", skills=["hvac"]),
        Tech("d", active=False),
        Tech("e", open_work_orders=5),
    ]
    assert [t.id for t in candidates(pool, ["networking"])] == ["a", "c"]


def test_no_candidate_gives_no_technician_and_says_why():
    choice = choose("workload", [], required_skills=["networking"])
    assert choice.technician is None and "networking" in choice.reason


def test_nearest_picks_the_closest_home_within_its_service_radius():
    near_but_small_area = Tech("a", home=BRIGHTON, service_radius_km=10)
    far = Tech("b", home=PARIS)
    assert choose("nearest", [near_but_small_area, far], location=LONDON).technician.id == "b"
    assert choose("nearest", [Tech("c", home=BRIGHTON), far], location=LONDON).technician.id == "c"


def test_nearest_without_a_ticket_location_assigns_nobody():
    assert choose("nearest", [Tech("a", home=LONDON)], location=None).technician is None


def test_skill_match_prefers_most_skills_and_tags_then_least_work():
    pool = [
        Tech("a", skills=["networking"]),
        Tech("b", skills=["networking", "fibre"], open_work_orders=3),
        Tech("c", skills=["networking", "fibre"], open_work_orders=1),
    ]
    assert choose("skill_match", pool, required_skills=["networking"], ticket_tags=["Fibre"]).technician.id == "c"


def test_workload_picks_the_fewest_open_work_orders():
    pool = [Tech("a", open_work_orders=2), Tech("b", open_work_orders=1), Tech("c", open_work_orders=1)]
    assert choose("workload", pool).technician.id == "b"


def test_round_robin_walks_the_stable_order_by_turn():
    pool = candidates([Tech("c"), Tech("a"), Tech("b")], [])
    turns = itertools.count(1)
    picked = [choose("round_robin", pool, next_turn=lambda: next(turns)).technician.id for _ in range(6)]
    assert picked == ["a", "b", "c", "a", "b", "c"]
