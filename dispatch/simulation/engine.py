"""A night on a simulated clock, dispatched by the same core as the live service (docs/night-scenario.md).

Policies: `optimised` (re-plans with the dispatch core at every call and every completion; a travelling
nurse may be re-routed from her point on the straight line), `nearest` (each new visit goes to the nurse
who can reach it first, queued behind her work, never re-planned) and `clairvoyant` (the solver is given
the whole night in advance; the bound to compare with).

`foresight_s` (a measurement, not a policy): the online policies learn of each call that many seconds
before it comes, as if it were announced early; the call still cannot be served before it comes, and its
response is still counted from then. It answers "how much earlier information would close the gap to the
clairvoyant" (`nightcare bench nights --foresight S`).
"""
from __future__ import annotations

import heapq
import math
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from geopy.distance import geodesic

from dispatch.assignment.core import NightState, NurseState, VisitState, plan
from dispatch.simulation.scenario import check
from routing.solver import Options
from routing.travel import geodesic_seconds

POLICIES = ("optimised", "nearest", "clairvoyant")
SOLUTIONS_CAP_S = 10.0


@dataclass
class SimVisit:
    id: str
    kind: str
    lat: float
    lon: float
    window: tuple[int, int]
    service_s: int
    skills: frozenset[str]
    urgency: str | None = None
    at_s: int | None = None
    nurse: str | None = None
    depart_s: int | None = None
    arrival_s: int | None = None
    start_s: int | None = None
    end_s: int | None = None


@dataclass
class SimNurse:
    id: str
    lat: float
    lon: float
    skills: frozenset[str]
    queue: list[str] = field(default_factory=list)
    busy_until: int = 0  # serving until
    leg: dict | None = None  # the drive under way
    version: int = 0  # invalidates scheduled events after a re-route


class Night:
    def __init__(self, scenario: dict[str, Any], policy: str, *, time_limit_s: float = 0.1,
                 foresight_s: int = 0, solutions: int | None = None) -> None:
        if policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}")
        if foresight_s < 0:
            raise ValueError("foresight_s must be at least 0")
        self.foresight_s = foresight_s
        scenario = check(scenario)  # a malformed scenario: ProblemError naming the field
        self.scenario, self.policy = scenario, policy
        self.speed, self.factor = scenario["travel"]["speed_kmh"], scenario["travel"]["road_factor"]
        self.start_s, self.end_s = scenario["shift"]["start_s"], scenario["shift"]["end_s"]
        self.targets = scenario["targets_s"]
        # A time limit makes runs differ with the machine's load; a work budget (`solutions` improving solutions
        # per search) makes them reproducible, the time limit then only a cap. The clairvoyant gets ten times either.
        self.options = Options(time_limit_s=time_limit_s) if not solutions else \
            Options(time_limit_s=max(time_limit_s, SOLUTIONS_CAP_S), solution_limit=solutions)
        self.whole_night = Options(time_limit_s=10 * self.options.time_limit_s,
                                   solution_limit=10 * solutions if solutions else None)
        self.nurses = {n["id"]: SimNurse(id=n["id"], lat=n["lat"], lon=n["lon"], skills=frozenset(n["skills"]))
                       for n in scenario["nurses"]}
        self.visits: dict[str, SimVisit] = {}
        for p in scenario["planned"]:
            self.visits[p["id"]] = SimVisit(id=p["id"], kind="planned", lat=p["lat"], lon=p["lon"],
                                            window=tuple(p["window_s"]), service_s=p["service_s"],
                                            skills=frozenset(p["skills"]))
        self.calls = sorted(scenario["calls"], key=lambda c: (c["at_s"], c["id"]))
        self.known: set[str] = set(self.visits)
        self.legs: list[dict] = []
        self.events: list[tuple] = []
        self.seq = 0
        self.decision_ms: list[float] = []
        self.cache: dict = {}

    # -- helpers -------------------------------------------------------------------------------
    def travel(self, a: tuple[float, float], b: tuple[float, float]) -> int:
        key = (a, b)
        if key not in self.cache:
            self.cache[key] = geodesic_seconds(a, b, speed_kmh=self.speed, road_factor=self.factor)
        return self.cache[key]

    def push(self, at: int, kind: str, data: Any) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, data))

    def position(self, nurse: SimNurse, now: int) -> tuple[float, float]:
        return (nurse.lat, nurse.lon) if nurse.leg is None else along(nurse.leg, now)

    def _call_visit(self, call: dict) -> SimVisit:
        target = self.targets[call["urgency"]]
        return SimVisit(id=call["id"], kind="call", lat=call["lat"], lon=call["lon"],
                        window=(call["at_s"], call["at_s"] + target), service_s=call["service_s"],
                        skills=frozenset(call["skills"]), urgency=call["urgency"], at_s=call["at_s"])

    # -- moving nurses ---------------------------------------------------------------------------
    def depart(self, nurse: SimNurse, now: int) -> None:
        """Start the next job in her queue, if she is free; leave just in time for a window opening later."""
        if nurse.leg is not None or nurse.busy_until > now or not nurse.queue:
            return
        visit = self.visits[nurse.queue[0]]
        seconds = self.travel((nurse.lat, nurse.lon), (visit.lat, visit.lon))
        leave = visit.window[0] - seconds
        if leave > now:  # stay put (and available to re-plans) until it is time to go
            nurse.version += 1
            self.push(leave, "leave", (nurse.id, nurse.version))
            return
        nurse.leg = {"nurse": nurse.id, "from": {"lat": nurse.lat, "lon": nurse.lon},
                     "to": {"lat": visit.lat, "lon": visit.lon}, "depart_s": now, "arrival_s": now + seconds,
                     "completed": True, "job": visit.id}
        visit.nurse, visit.depart_s = nurse.id, now
        self.push(now + seconds, "arrive", (nurse.id, nurse.version))

    def abandon(self, nurse: SimNurse, now: int) -> None:
        leg = nurse.leg
        assert leg is not None
        nurse.lat, nurse.lon = self.position(nurse, now)
        leg.update(completed=False, arrival_s=now, to={"lat": nurse.lat, "lon": nurse.lon})
        self.legs.append({k: v for k, v in leg.items() if k != "job"})
        visit = self.visits[leg["job"]]
        if visit.nurse == nurse.id:  # not if the same re-plan has already sent another nurse to it
            visit.nurse = visit.depart_s = None
        nurse.leg = None
        nurse.version += 1

    def on_arrive(self, nurse: SimNurse, now: int) -> None:
        leg = nurse.leg
        assert leg is not None
        self.legs.append({k: v for k, v in leg.items() if k != "job"})
        visit = self.visits[leg["job"]]
        nurse.lat, nurse.lon, nurse.leg = visit.lat, visit.lon, None
        nurse.queue.remove(visit.id)
        visit.arrival_s, visit.start_s = now, max(now, visit.window[0])
        visit.end_s = visit.start_s + visit.service_s
        nurse.busy_until = visit.end_s
        self.push(visit.end_s, "done", (nurse.id, nurse.version))

    # -- policies ---------------------------------------------------------------------------------
    def replan(self, now: int, *, everything: bool = False) -> None:
        nurses = [NurseState(id=n.id, lat=lat, lon=lon, shift_end_s=self.end_s + 6 * 3600, skills=n.skills,
                             available_from_s=max(now, n.busy_until))
                  for n in self.nurses.values() for lat, lon in [self.position(n, now)]]
        pending = [v for v in self.visits.values() if v.id in self.known and v.start_s is None]
        state = NightState(now_s=now, nurses=nurses, speed_kmh=self.speed, road_factor=self.factor, visits=[
            VisitState(id=v.id, lat=v.lat, lon=v.lon, window_s=v.window, service_s=v.service_s, kind=v.kind,
                       urgency=v.urgency, skills=v.skills) for v in pending])
        t = time.perf_counter()
        _, result = plan(state, self.options if not everything else self.whole_night,
                         self.cache)
        self.decision_ms.append((time.perf_counter() - t) * 1000)
        for route in result.routes:
            nurse = self.nurses[route.nurse]
            new_queue = [s.job for s in route.stops]
            if nurse.leg is not None and (not new_queue or new_queue[0] != nurse.leg["job"]):
                self.abandon(nurse, now)  # re-routed on the way
            nurse.queue = new_queue
            self.depart(nurse, now)

    def nearest(self, visit: SimVisit, now: int) -> None:
        best: tuple[int, str] | None = None
        for nurse in self.nurses.values():
            if not visit.skills <= nurse.skills:
                continue
            free, here = max(now, nurse.busy_until), (nurse.lat, nurse.lon)
            if nurse.leg is not None:
                free, here = nurse.leg["arrival_s"], (nurse.leg["to"]["lat"], nurse.leg["to"]["lon"])
            for job in nurse.queue[1 if nurse.leg else 0:]:
                v = self.visits[job]
                if v.window[0] > visit.window[0]:
                    break  # the new visit goes before this one
                free = max(free + self.travel(here, (v.lat, v.lon)), v.window[0]) + v.service_s
                here = (v.lat, v.lon)
            reach = free + self.travel(here, (visit.lat, visit.lon))
            if best is None or (reach, nurse.id) < best:
                best = (reach, nurse.id)
        if best is not None:
            nurse = self.nurses[best[1]]
            self._enqueue(nurse, visit)
            self.depart(nurse, now)

    def _enqueue(self, nurse: SimNurse, visit: SimVisit) -> None:
        """Behind the work already due, before work whose window opens later (the job under way stays first)."""
        first = 1 if nurse.leg else 0
        pos = len(nurse.queue)
        while pos > first and self.visits[nurse.queue[pos - 1]].window[0] > visit.window[0]:
            pos -= 1
        nurse.queue.insert(pos, visit.id)

    # -- the night ---------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        for call in self.calls:
            self.visits[call["id"]] = self._call_visit(call)
        if self.policy == "clairvoyant":
            self.known = set(self.visits)
            self.replan(self.start_s, everything=True)
        else:
            for call in self.calls:
                self.push(max(self.start_s, call["at_s"] - self.foresight_s), "call", call["id"])
            if self.policy == "optimised":
                self.replan(self.start_s)
            else:
                for v in sorted((v for v in self.visits.values() if v.kind == "planned"), key=lambda v: v.window):
                    self.nearest(v, self.start_s)
        while self.events:
            now, _, kind, data = heapq.heappop(self.events)
            if kind == "call":
                self.known.add(data)
                if self.policy == "optimised":
                    self.replan(now)
                else:
                    self.nearest(self.visits[data], now)
                continue
            nurse_id, version = data
            nurse = self.nurses[nurse_id]
            if version != nurse.version:
                continue  # superseded by a re-route
            if kind == "leave":
                self.depart(nurse, now)
            elif kind == "arrive":
                self.on_arrive(nurse, now)
            else:  # service done
                if self.policy == "optimised" and any(v.start_s is None for v in self.visits.values()
                                                      if v.id in self.known):
                    self.replan(now)
                else:
                    self.depart(nurse, now)
        return self.report()

    def report(self) -> dict[str, Any]:
        visits = []
        for v in sorted(self.visits.values(), key=lambda v: (v.at_s if v.at_s is not None else v.window[0], v.id)):
            row: dict[str, Any] = {"id": v.id, "kind": v.kind, "nurse": v.nurse if v.start_s is not None else None,
                   "depart_s": v.depart_s, "arrival_s": v.arrival_s, "start_s": v.start_s, "end_s": v.end_s}
            if v.kind == "call":
                row.update(urgency=v.urgency, at_s=v.at_s)
            else:
                row.update(window_s=list(v.window))
            visits.append(row)
        return {"scenario": self.scenario["name"], "policy": self.policy, "visits": visits,
                "legs": self.legs, "kpis": self.kpis()}

    def kpis(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        calls = [v for v in self.visits.values() if v.kind == "call"]
        for urgency in sorted({v.urgency for v in calls if v.urgency}):
            group = [v for v in calls if v.urgency == urgency]
            target = self.targets.get(urgency)
            responses = [max(v.arrival_s, v.at_s) - v.at_s for v in group
                         if v.arrival_s is not None and v.at_s is not None]
            unserved = len(group) - len(responses)
            ordered = sorted(responses) + [math.inf] * unserved
            out[urgency] = {
                "n": len(group), "unserved": unserved,
                "mean_response_s": round(statistics.mean(responses)) if responses else None,
                "p90_response_s": _p90(ordered),
                "within_target": round(sum(r <= target for r in responses) / len(group), 4) if target else None,
            }
        planned = [v for v in self.visits.values() if v.kind == "planned"]
        if planned:
            ok = sum(1 for v in planned if v.start_s is not None and v.window[0] <= v.start_s <= v.window[1])
            out["planned"] = {"n": len(planned), "within_window": round(ok / len(planned), 4)}
        km = sum(_km(leg) for leg in self.legs) * self.factor
        out["travel_km"] = round(km, 1)
        out["decision_ms_p95"] = round(_p95(self.decision_ms), 1) if self.decision_ms else 0
        return out


def along(leg: dict, at: int) -> tuple[float, float]:
    """Where a nurse on this drive is at `at`: on the straight line, in proportion to the time driven."""
    span = max(1, leg["arrival_s"] - leg["depart_s"])
    f = min(1.0, max(0.0, (at - leg["depart_s"]) / span))
    return (leg["from"]["lat"] + f * (leg["to"]["lat"] - leg["from"]["lat"]),
            leg["from"]["lon"] + f * (leg["to"]["lon"] - leg["from"]["lon"]))


def _km(leg: dict) -> float:
    a, b = (leg["from"]["lat"], leg["from"]["lon"]), (leg["to"]["lat"], leg["to"]["lon"])
    return 0.0 if a == b else geodesic(a, b).km


def _p90(ordered: list[float]) -> int | None:
    if not ordered:
        return None
    value = ordered[min(len(ordered) - 1, math.ceil(0.9 * len(ordered)) - 1)]
    return None if value == math.inf else round(value)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def simulate(scenario: dict[str, Any], policy: str, *, time_limit_s: float = 0.1,
             foresight_s: int = 0, solutions: int | None = None) -> dict[str, Any]:
    return Night(scenario, policy, time_limit_s=time_limit_s, foresight_s=foresight_s, solutions=solutions).run()
