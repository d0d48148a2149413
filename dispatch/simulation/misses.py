"""Why an urgent call was reached late: could any dispatcher have done better at the moment it came?

For each call reached after its target, the earliest any nurse with the skills could have arrived had she
dropped everything not yet begun: a nurse in the middle of a visit finishes it first (visits are never
interrupted), a travelling nurse turns from her point on the road. Three kinds:
- "out of reach": no nurse could have made the target at that moment; only work held back earlier would have
  (anticipation);
- "traded": a nurse could have, but at some moment while it waited (it came, or another urgent call came
  before its target passed) no way of sending the nurses to the urgent calls then waiting had fewer of them
  late than the night had: reaching it in time would have made another one late instead;
- "avoidable": at each of those moments some way of sending them, knowing only the calls made so far, had
  fewer of those calls late than the night had.
Every way is tried (each order of the waiting calls, each nurse for each); with more than MAX_WAITING urgent
calls waiting at once the call is left "reachable", not told apart.
"""
from __future__ import annotations

from itertools import permutations, product
from typing import Any

from dispatch.simulation.engine import along
from dispatch.simulation.scenario import check
from routing.travel import geodesic_seconds

MAX_WAITING = 5  # urgent calls waiting at once beyond which the ways of sending nurses are not all tried


def late_calls(scenario: dict[str, Any], night: dict[str, Any], urgency: str = "U2") -> list[dict[str, Any]]:
    scenario = check(scenario)
    speed, factor = scenario["travel"]["speed_kmh"], scenario["travel"]["road_factor"]
    target = scenario["targets_s"].get(urgency, 1800)
    places = {v["id"]: (v["lat"], v["lon"]) for v in [*scenario["calls"], *scenario["planned"]]}
    visits = {v["id"]: v for v in night["visits"]}
    urgent = [c for c in scenario["calls"] if c["urgency"] == urgency]

    drives: dict[tuple, int] = {}

    def drive(a: tuple[float, float], b: tuple[float, float]) -> int:
        if (a, b) not in drives:
            drives[a, b] = geodesic_seconds(a, b, speed_kmh=speed, road_factor=factor)
        return drives[a, b]

    def response(call: dict[str, Any]) -> int | None:
        arrival = visits[call["id"]]["arrival_s"]
        return None if arrival is None else max(0, arrival - call["at_s"])

    found = []
    for call in urgent:
        got = response(call)
        if got is not None and got <= target:
            continue
        at = call["at_s"]
        best: tuple[int, str] | None = None
        for nurse in scenario["nurses"]:
            if _can(nurse, call):
                free, here = _state(nurse, night, places, at)
                reach = free - at + drive(here, (call["lat"], call["lon"]))
                if best is None or (reach, nurse["id"]) < best:
                    best = (reach, nurse["id"])
        kind = "out of reach"
        if best is not None and best[0] <= target:
            # The moments a dispatcher learned something while it waited: it came, or another urgent call came.
            reached = visits[call["id"]]["arrival_s"]
            moments = sorted({c["at_s"] for c in urgent if at <= c["at_s"] < at + target
                              and (reached is None or c["at_s"] < reached)})
            kind = "avoidable"
            for moment in moments:
                waiting = [c for c in urgent if c["at_s"] <= moment and (visits[c["id"]]["arrival_s"] is None
                                                                         or visits[c["id"]]["arrival_s"] > moment)]
                late_then = sum(1 for c in waiting if (r := response(c)) is None or r > target)
                fewest = _fewest_late(waiting, [(n, *_state(n, night, places, moment)) for n in scenario["nurses"]],
                                      target, drive)
                if fewest is None:
                    kind = "reachable"  # too many waiting to try every way
                    break
                if fewest >= late_then:
                    kind = "traded"
                    break
        found.append({"call": call["id"], "at_s": at, "response_s": got, "nurse": visits[call["id"]]["nurse"],
                      "best_s": best[0] if best else None, "best_nurse": best[1] if best else None, "kind": kind})
    return found


def _fewest_late(calls: list[dict[str, Any]], nurses: list[tuple], target: int, drive) -> int | None:
    """The fewest of these calls any dispatcher could have reached late, sending each nurse from where she is
    (when she is free) through her share of them in some order; None when there are too many to try all."""
    if len(calls) > MAX_WAITING:
        return None
    fewest = len(calls)
    able = {call["id"]: [k for k, (nurse, _, _) in enumerate(nurses) if _can(nurse, call)] for call in calls}
    for order in permutations(calls):
        for who in product(*(able[call["id"]] for call in order)):
            free = {k: (nurses[k][1], nurses[k][2]) for k in range(len(nurses))}
            late = 0
            for call, k in zip(order, who, strict=True):
                t, here = free[k]
                arrival = t + drive(here, (call["lat"], call["lon"]))
                late += arrival - call["at_s"] > target
                if late >= fewest:
                    break
                free[k] = (arrival + call["service_s"], (call["lat"], call["lon"]))
            fewest = min(fewest, late)
            if fewest == 0:
                return 0
    return fewest


def _can(nurse: dict[str, Any], call: dict[str, Any]) -> bool:
    """She has the skills the call needs."""
    return set(call.get("skills", [])) <= set(nurse.get("skills", []))


def _state(nurse: dict[str, Any], night: dict[str, Any], places: dict, at: int) -> tuple[int, tuple[float, float]]:
    """When she could leave, and from where, at moment `at`."""
    for v in night["visits"]:
        if v["nurse"] == nurse["id"] and v["start_s"] is not None and v["start_s"] <= at < v["end_s"]:
            return v["end_s"], places[v["id"]]
    here = (nurse["lat"], nurse["lon"])
    for leg in sorted((g for g in night["legs"] if g["nurse"] == nurse["id"] and g["depart_s"] <= at),
                      key=lambda g: g["depart_s"]):
        if leg["arrival_s"] > at:  # on the road: her point on the straight line
            return at, along(leg, at)
        here = (leg["to"]["lat"], leg["to"]["lon"])
    return at, here
