"""Choosing a technician for a work order: four strategies, pure functions over candidates.

A candidate is active, has every required skill and is below its capacity. The strategies:

- ``nearest``: smallest great-circle (haversine) distance from the ticket's location to the
  technician's home, among those whose service radius (if set) reaches it;
- ``skill_match``: most of the rule's skills and the ticket's tags held, ties by workload;
- ``workload``: fewest open work orders;
- ``round_robin``: the next technician in a stable order (by id); ``next_turn`` hands out turns
  (an atomic counter in DynamoDB), so concurrent choosers never take the same turn.

Ties always end in id order, so a choice is reproducible. No candidate: ``technician`` is None and
``reason`` says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Logic = Literal["nearest", "skill_match", "workload", "round_robin"]
EARTH_RADIUS_KM = 6371.0088


class Point(Protocol):
    lat: float
    lng: float


class Candidate(Protocol):
    id: str
    skills: list[str]
    home: Point | None
    service_radius_km: float | None
    open_work_orders: int

    @property
    def has_room(self) -> bool: ...


@dataclass(frozen=True)
class Choice:
    technician: Candidate | None
    reason: str
    distance_km: float | None = None


def haversine_km(a: Point, b: Point) -> float:
    lat1, lat2 = math.radians(float(a.lat)), math.radians(float(b.lat))
    d_lat, d_lng = lat2 - lat1, math.radians(float(b.lng) - float(a.lng))
    h = math.sin(d_lat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(d_lng / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def candidates(technicians: Iterable[Candidate], required_skills: Iterable[str]) -> list[Candidate]:
    """Active, every required skill, below capacity; in id order."""
    needed = set(required_skills)
    return sorted(
        (t for t in technicians if t.has_room and needed <= set(t.skills or ())),
        key=lambda t: t.id,
    )


def choose(
    logic: Logic,
    pool: Sequence[Candidate],
    *,
    required_skills: Sequence[str] = (),
    ticket_tags: Sequence[str] = (),
    location: Point | None = None,
    next_turn: Callable[[], int] | None = None,
) -> Choice:
    if not pool:
        skills = ", ".join(sorted(required_skills)) or "none"
        return Choice(None, f"no active technician below capacity with the required skills ({skills})")
    if logic == "nearest":
        return _nearest(pool, location)
    if logic == "skill_match":
        return _skill_match(pool, set(required_skills) | {t.lower() for t in ticket_tags})
    if logic == "workload":
        chosen = min(pool, key=lambda t: (int(t.open_work_orders or 0), t.id))
        return Choice(chosen, f"fewest open work orders ({int(chosen.open_work_orders or 0)})")
    if logic == "round_robin":
        if next_turn is None:
            raise ValueError("round_robin needs next_turn")
        turn = next_turn()
        chosen = pool[(turn - 1) % len(pool)]
        return Choice(chosen, f"round robin turn {turn} of {len(pool)} candidates")
    raise ValueError(f"unknown assignment logic {logic!r}")


def _nearest(pool: Sequence[Candidate], location: Point | None) -> Choice:
    if location is None:
        return Choice(None, "the ticket has no location to measure distances from")
    reachable = []
    for tech in pool:
        if tech.home is None:
            continue
        distance = haversine_km(location, tech.home)
        if tech.service_radius_km is None or distance <= float(tech.service_radius_km):
            reachable.append((distance, tech.id, tech))
    if not reachable:
        return Choice(None, "no candidate's service area covers the ticket's location")
    distance, _, chosen = min(reachable, key=lambda r: (r[0], r[1]))
    return Choice(chosen, f"nearest: {distance:.1f} km from home", distance_km=round(distance, 3))


def _skill_match(pool: Sequence[Candidate], wanted: set[str]) -> Choice:
    def score(tech: Candidate) -> tuple[int, int, str]:
        return (-len(wanted & set(tech.skills or ())), int(tech.open_work_orders or 0), tech.id)

    chosen = min(pool, key=score)
    matched = sorted(wanted & set(chosen.skills or ()))
    return Choice(
        chosen,
        f"skill match: {len(matched)} of {len(wanted)} ({', '.join(matched) or '-'}); "
        f"{int(chosen.open_work_orders or 0)} open work orders",
    )
