"""Why an urgent call was reached late: could any dispatcher have done better at the moment it came?

For each call reached after its target, the earliest any nurse with the skills could have arrived had she
dropped everything not yet begun: a nurse in the middle of a visit finishes it first (visits are never
interrupted), a travelling nurse turns from her point on the road. "out of reach": no nurse could have made
the target at that moment, only work held back earlier would have (anticipation); "reachable": one could,
but the plan sent her elsewhere (usually to another urgent call).
"""
from __future__ import annotations

from typing import Any

from dispatch.simulation.engine import along
from dispatch.simulation.scenario import check
from routing.travel import geodesic_seconds


def late_calls(scenario: dict[str, Any], night: dict[str, Any], urgency: str = "U2") -> list[dict[str, Any]]:
    scenario = check(scenario)
    speed, factor = scenario["travel"]["speed_kmh"], scenario["travel"]["road_factor"]
    target = scenario["targets_s"].get(urgency, 1800)
    places = {v["id"]: (v["lat"], v["lon"]) for v in [*scenario["calls"], *scenario["planned"]]}
    found = []
    for call in scenario["calls"]:
        if call["urgency"] != urgency:
            continue
        visit = next(v for v in night["visits"] if v["id"] == call["id"])
        response = None if visit["arrival_s"] is None else max(0, visit["arrival_s"] - call["at_s"])
        if response is not None and response <= target:
            continue
        best: tuple[int, str] | None = None
        for nurse in scenario["nurses"]:
            if not set(call.get("skills", [])) <= set(nurse.get("skills", [])):
                continue
            free, here = _state(nurse, night, places, call["at_s"])
            reach = free - call["at_s"] + geodesic_seconds(here, (call["lat"], call["lon"]), speed_kmh=speed,
                                                             road_factor=factor)
            if best is None or (reach, nurse["id"]) < best:
                best = (reach, nurse["id"])
        found.append({"call": call["id"], "at_s": call["at_s"], "response_s": response, "nurse": visit["nurse"],
                      "best_s": best[0] if best else None, "best_nurse": best[1] if best else None,
                      "kind": "reachable" if best is not None and best[0] <= target else "out of reach"})
    return found


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
