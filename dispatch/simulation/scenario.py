"""Realistic nights for the demo region (Assen and Midden-Drenthe), for simulation and benchmarks."""
from __future__ import annotations

import math
import random
from typing import Any

from dispatch.seed.demo import NURSES
from dispatch.seed.places import PLACES

SHIFT_S = 8 * 3600  # 23:00 - 07:00
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
    team = []
    for k in range(nurses):
        name, _, skills = NURSES[k % len(NURSES)]
        lat, lon = NURSE_BASES[k % len(NURSE_BASES)]
        team.append({"id": f"n{k + 1}", "lat": lat, "lon": lon, "skills": sorted(skills)})
    have = set().union(*(n["skills"] for n in team))
    planned_visits = []
    for i in range(planned):
        label, minutes, skills = rng.choice([p for p in PLANNED if set(p[2]) <= have] or PLANNED[:1])
        opens = rng.randrange(0, SHIFT_S - 3600, 900)
        lat, lon = point(rng)
        planned_visits.append({"id": f"p{i + 1}", "lat": lat, "lon": lon, "label": label,
                               "window_s": [opens, opens + rng.choice((1800, 3600, 3600, 5400, 7200))],
                               "service_s": 60 * rng.randint(*minutes), "skills": list(skills)})
    names = list(COMPLAINTS)
    night_calls = []
    for i in range(calls):
        complaint = rng.choices(names, [COMPLAINTS[c][0] for c in names])[0]
        _, urgencies, minutes, skills = COMPLAINTS[complaint]
        if not set(skills) <= have:
            skills = ()
        urgency = rng.choices(list(urgencies), list(urgencies.values()))[0]
        lat, lon = point(rng)
        night_calls.append({"id": f"c{i + 1}", "at_s": _hour_time(rng), "lat": lat, "lon": lon, "urgency": urgency,
                            "complaint": complaint, "service_s": 60 * rng.randint(*minutes), "skills": list(skills)})
    night_calls.sort(key=lambda c: c["at_s"])
    return {"name": f"assen-night-{seed:03d}", "shift": {"start_s": 0, "end_s": SHIFT_S},
            "travel": {"model": "geodesic", "speed_kmh": 50, "road_factor": 1.3},
            "targets_s": {"U2": 1800, "U3": 7200}, "nurses": team, "planned": planned_visits, "calls": night_calls}
