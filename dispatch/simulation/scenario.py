"""Realistic nights for the demo region (Assen and Midden-Drenthe), for simulation and benchmarks."""
from __future__ import annotations

import math
import random
from typing import Any

from dispatch.seed.demo import NURSES
from dispatch.seed.places import PLACES
from routing.problem import (
    ProblemError,
    distinct,
    geodesic_travel,
    ident,
    lat_lon,
    obj,
    seconds,
    skill_set,
    window,
)

SHIFT_S = 8 * 3600  # 23:00 - 07:00
DEFAULT_TARGETS_S = {"U2": 1800, "U3": 7200}  # docs/night-scenario.md
# Relative call intensity per hour of the shift (23h, 0h, ..., 6h): busy late evening and early morning.
HOURLY_WEIGHT = (1.6, 1.3, 0.9, 0.7, 0.6, 0.7, 1.0, 1.4)
# complaint: (weight, {urgency: weight}, service minutes, skills)
COMPLAINTS = {
    "fall": (24, {"U2": 6, "U3": 4}, (30, 45), ()),
    "incontinence": (14, {"U3": 1}, (20, 35), ()),
    "alarm_no_speech": (10, {"U2": 7, "U3": 3}, (15, 30), ()),
    "pain": (9, {"U2": 4, "U3": 6}, (20, 40), ()),
    "palliative": (8, {"U2": 5, "U3": 5}, (30, 60), ("palliative",)),
    "anxiety": (8, {"U2": 2, "U3": 8}, (20, 40), ()),
    "catheter": (7, {"U2": 4, "U3": 6}, (25, 40), ("catheter",)),
    "confusion": (6, {"U2": 4, "U3": 6}, (30, 45), ()),
    "shortness_of_breath": (5, {"U2": 8, "U3": 2}, (30, 45), ()),
    "blood_sugar": (4, {"U2": 5, "U3": 5}, (20, 30), ("diabetes",)),
    "bleeding": (3, {"U3": 1}, (20, 30), ("wound",)),
    "stoma": (2, {"U3": 1}, (20, 30), ("stoma",)),
}
PLANNED = (("turning", (15, 25), ()), ("insulin", (10, 20), ("diabetes",)), ("catheter care", (20, 30), ("catheter",)),
           ("pump check", (20, 30), ("palliative", "pump")), ("toilet round", (15, 25), ()),
           ("wound dressing", (20, 30), ("wound",)), ("night medication", (10, 15), ()))
NURSE_BASES = ((52.9929, 6.5642), (52.8625, 6.5125), (52.9550, 6.4480), (52.8503, 6.6066))


def point(rng: random.Random) -> tuple[float, float]:
    place = rng.choices(PLACES, [p.weight for p in PLACES])[0]
    d, bearing = place.radius_km * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    return (round(place.lat + d * math.cos(bearing) / 111.2, 5),
            round(place.lon + d * math.sin(bearing) / (111.2 * math.cos(math.radians(place.lat))), 5))


def _hour_time(rng: random.Random) -> int:
    hour = rng.choices(range(8), HOURLY_WEIGHT)[0]
    return hour * 3600 + rng.randrange(3600)


def generate(*, seed: int, calls: int, planned: int = 20, nurses: int = 3) -> dict[str, Any]:
    rng = random.Random(seed)
    team: list[dict[str, Any]] = []
    for k in range(nurses):
        _, _, nurse_skills = NURSES[k % len(NURSES)]
        lat, lon = NURSE_BASES[k % len(NURSE_BASES)]
        team.append({"id": f"n{k + 1}", "lat": lat, "lon": lon, "skills": sorted(nurse_skills)})
    have: set[str] = set().union(*(n["skills"] for n in team))
    planned_visits = []
    for i in range(planned):
        label, minutes, visit_skills = rng.choice([p for p in PLANNED if set(p[2]) <= have] or PLANNED[:1])
        opens = rng.randrange(0, SHIFT_S - 3600, 900)
        lat, lon = point(rng)
        planned_visits.append({"id": f"p{i + 1}", "lat": lat, "lon": lon, "label": label,
                               "window_s": [opens, opens + rng.choice((1800, 3600, 3600, 5400, 7200))],
                               "service_s": 60 * rng.randint(*minutes), "skills": list(visit_skills)})
    names = list(COMPLAINTS)
    night_calls: list[dict[str, Any]] = []
    for i in range(calls):
        complaint = rng.choices(names, [COMPLAINTS[c][0] for c in names])[0]
        _, urgencies, minutes, needed = COMPLAINTS[complaint]
        skills: tuple[str, ...] = needed if set(needed) <= have else ()
        urgency = rng.choices(list(urgencies), list(urgencies.values()))[0]
        lat, lon = point(rng)
        night_calls.append({"id": f"c{i + 1}", "at_s": _hour_time(rng), "lat": lat, "lon": lon, "urgency": urgency,
                            "complaint": complaint, "service_s": 60 * rng.randint(*minutes), "skills": list(skills)})
    night_calls.sort(key=lambda c: c["at_s"])
    return {"name": f"assen-night-{seed:03d}", "shift": {"start_s": 0, "end_s": SHIFT_S},
            "travel": {"model": "geodesic", "speed_kmh": 50, "road_factor": 1.3},
            "targets_s": dict(DEFAULT_TARGETS_S), "nurses": team, "planned": planned_visits, "calls": night_calls}


def check(raw: Any) -> dict[str, Any]:
    """The scenario of docs/night-scenario.md with its defaults filled in, or a ProblemError whose message
    names the field and the reason (`calls[3].at_s: must be a whole number of seconds`)."""
    scenario = obj(raw, "scenario")
    name = scenario.get("name", "")
    if not isinstance(name, str):
        raise ProblemError("name: must be a string")
    shift = obj(scenario.get("shift"), "shift")
    start = seconds(shift.get("start_s"), "shift.start_s", minimum=0)
    end = seconds(shift.get("end_s"), "shift.end_s")
    if end <= start:
        raise ProblemError("shift.end_s: must be after shift.start_s")
    speed, factor = geodesic_travel(obj(scenario.get("travel", {}), "travel"), "travel")
    targets = obj(scenario.get("targets_s", DEFAULT_TARGETS_S), "targets_s")
    targets = {str(u): seconds(t, f"targets_s.{u}", minimum=1) for u, t in targets.items()}
    nurses: list[dict[str, Any]] = []
    for i, raw_nurse in enumerate(_list(scenario.get("nurses"), "nurses", required=True)):
        nurse, path = obj(raw_nurse, f"nurses[{i}]"), f"nurses[{i}]"
        lat, lon = lat_lon(nurse, path)
        nurses.append({"id": ident(nurse, path), "lat": lat, "lon": lon,
                       "skills": sorted(skill_set(nurse.get("skills"), f"{path}.skills"))})
    distinct([n["id"] for n in nurses], "nurses")
    planned = []
    for i, raw_visit in enumerate(_list(scenario.get("planned", []), "planned")):
        visit, path = obj(raw_visit, f"planned[{i}]"), f"planned[{i}]"
        opens, closes = window(visit.get("window_s"), f"{path}.window_s")
        planned.append({**visit, "id": ident(visit, path), **_place(visit, path), "window_s": [opens, closes]})
    calls = []
    for i, raw_call in enumerate(_list(scenario.get("calls", []), "calls")):
        call, path = obj(raw_call, f"calls[{i}]"), f"calls[{i}]"
        at = seconds(call.get("at_s"), f"{path}.at_s")
        if not start <= at <= end:
            raise ProblemError(f"{path}.at_s: must be within the shift ({start}-{end})")
        urgency = call.get("urgency")
        if urgency not in targets:
            raise ProblemError(f"{path}.urgency: must be one with a target in targets_s ({', '.join(targets)})")
        calls.append({**call, "id": ident(call, path), **_place(call, path), "at_s": at, "urgency": urgency})
    distinct([v["id"] for v in planned + calls], "planned and calls")
    return {**scenario, "name": name, "shift": {"start_s": start, "end_s": end},
            "travel": {"model": "geodesic", "speed_kmh": speed, "road_factor": factor}, "targets_s": targets,
            "nurses": nurses, "planned": planned, "calls": calls}


def _list(value: Any, path: str, *, required: bool = False) -> list:
    if not isinstance(value, list) or (required and not value):
        raise ProblemError(f"{path}: must be a {'non-empty ' if required else ''}list")
    return value


def _place(visit: dict[str, Any], path: str) -> dict[str, Any]:
    """Where a visit is, how long it takes and which skills it needs."""
    lat, lon = lat_lon(visit, path)
    return {"lat": lat, "lon": lon, "service_s": seconds(visit.get("service_s", 0), f"{path}.service_s", minimum=0),
            "skills": sorted(skill_set(visit.get("skills"), f"{path}.skills"))}
