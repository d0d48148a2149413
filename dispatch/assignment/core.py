"""The dispatch core shared by the live service and the simulator: the night's state → routing problem → plan.

Pure (no database, no clock): the service builds a NightState from the database, the simulator from its
simulated world, and both apply the plan this returns.
"""
from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field

from routing.problem import Job, Location, Nurse, Plan, Problem, Travel
from routing.solver import Options, solve

DECLINED = "not-declined-by:"


@dataclass(frozen=True)
class Weights:
    """Lateness weight per second late, per urgency; planned night visits keep their windows (soft, so a
    planned visit is done late rather than not at all). Chosen on 20 simulated nights (see the notes):
    U2 heavy enough that a 30-minute target beats everything else.

    `urgent_waiting`: U0-U2 are "as soon as possible", not "any time within the target": every second an
    urgent client waits costs what a second of U3 lateness costs, so a plan reaches them early and keeps
    slack for the next call. 20 nights (see the notes): mean U2 response 18.5 -> 15.6 min on busy nights,
    14.4 -> 11.9 on quieter ones, the share within target unchanged; a higher weight took more from U3."""

    u1: int = 100
    u2: int = 100
    u3: int = 3
    planned: int = 2
    urgent_waiting: int = 3

    def of(self, kind: str, urgency: str | None) -> int:
        if kind == "planned":
            return self.planned
        return {"U0": self.u1, "U1": self.u1, "U2": self.u2}.get(urgency or "U3", self.u3)

    def waiting(self, kind: str, urgency: str | None) -> int:
        return self.urgent_waiting if kind == "call" and urgency in ("U0", "U1", "U2") else 0


@dataclass(frozen=True)
class NurseState:
    id: str
    lat: float
    lon: float
    shift_end_s: int
    skills: frozenset[str] = frozenset()
    available_from_s: int = 0


@dataclass(frozen=True)
class VisitState:
    id: str
    lat: float
    lon: float
    window_s: tuple[int, int]
    service_s: int
    kind: str = "call"  # call | planned
    urgency: str | None = None
    skills: frozenset[str] = frozenset()
    nurse: str | None = None
    locked: bool = False  # accepted, under way, or locked by an operator
    started: bool = False  # service has begun (service_s is then what remains)
    declined_by: frozenset[str] = frozenset()  # nurses who declined it (or did not answer): not offered again


@dataclass
class NightState:
    now_s: int
    nurses: list[NurseState]
    visits: list[VisitState]
    speed_kmh: float = 50.0
    road_factor: float = 1.3
    weights: Weights = field(default_factory=Weights)


def to_problem(state: NightState) -> Problem:
    locations: list[Location] = []
    index: dict[tuple[float, float], int] = {}

    def loc(lat: float, lon: float) -> int:
        key = (round(lat, 6), round(lon, 6))
        if key not in index:
            index[key] = len(locations)
            locations.append(Location(lat=key[0], lon=key[1]))
        return index[key]

    # A decline is a skill the declining nurse lacks: the job needs "not-declined-by:<nurse>", which every
    # other nurse has. The routing problem stays plain (and replayable), and explanations name the reason.
    declines = {n for v in state.visits for n in v.declined_by}
    nurses = tuple(Nurse(id=n.id, start=loc(n.lat, n.lon), end=None, available_from_s=n.available_from_s,
                         shift_end_s=max(n.shift_end_s, state.now_s),
                         skills=n.skills | {f"{DECLINED}{d}" for d in declines if d != n.id}) for n in state.nurses)
    on_duty = {n.id for n in nurses}
    jobs = tuple(Job(id=v.id, location=loc(v.lat, v.lon), service_s=v.service_s, window_s=v.window_s, hard=False,
                     lateness_weight=state.weights.of(v.kind, v.urgency),
                     waiting_weight=state.weights.waiting(v.kind, v.urgency),
                     skills=v.skills | {f"{DECLINED}{d}" for d in v.declined_by},
                     assigned_to=v.nurse if v.nurse in on_duty else None,
                     locked=v.locked and v.nurse in on_duty, started=v.started and v.locked and v.nurse in on_duty)
                 for v in state.visits)
    return Problem(now_s=state.now_s, locations=tuple(locations),
                   travel=Travel(model="geodesic", speed_kmh=state.speed_kmh, road_factor=state.road_factor),
                   nurses=nurses, jobs=jobs)


def plan(state: NightState, options: Options, cache: MutableMapping | None = None) -> tuple[Problem, Plan]:
    problem = to_problem(state)
    if not problem.nurses:
        return problem, Plan(routes=[], unassigned=[{"job": j.id, "reason": "no nurse on duty"} for j in problem.jobs],
                              travel_s=0, lateness_s=0, solver={"name": "none", "status": "no nurse on duty"})
    return problem, solve(problem, options, travel_cache=cache)
