"""The routing problem and plan of docs/routing-problem.md, with validation and JSON round-trips."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class ProblemError(ValueError):
    """The input (a routing problem, or a night scenario built on the same fields) is malformed; the message
    starts with the path of the offending field."""


@dataclass(frozen=True)
class Location:
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Travel:
    model: str = "geodesic"  # "geodesic" or "matrix"
    speed_kmh: float = 50.0
    road_factor: float = 1.3
    matrix_s: tuple[tuple[int, ...], ...] | None = None


@dataclass(frozen=True)
class Nurse:
    id: str
    start: int
    end: int | None = None
    available_from_s: int = 0
    shift_end_s: int = 86_400
    skills: frozenset[str] = frozenset()
    capacity: int | None = None


@dataclass(frozen=True)
class Job:
    id: str
    location: int
    service_s: int
    window_s: tuple[int, int]
    hard: bool = False
    lateness_weight: int = 1
    skills: frozenset[str] = frozenset()
    demand: int = 0
    assigned_to: str | None = None
    locked: bool = False
    started: bool = False  # extension: a locked job whose service has begun (comes first in its route)
    # Extension: cost per second between the window opening and the start (a client waiting for a call to be
    # answered), on top of lateness after the window closes. 0 (the spec's objective): waiting is free.
    waiting_weight: int = 0


@dataclass(frozen=True)
class Problem:
    now_s: int
    locations: tuple[Location, ...]
    travel: Travel
    nurses: tuple[Nurse, ...]
    jobs: tuple[Job, ...]

    def nurse(self, nurse_id: str) -> Nurse:
        return next(n for n in self.nurses if n.id == nurse_id)

    def nurses_for(self, job: Job) -> list[Nurse]:
        """Who may do it: the nurse it is locked to, else every nurse with its skills."""
        if job.locked:
            if job.assigned_to is None:  # from_dict() refuses a locked job without its nurse
                raise ValueError(f"job {job.id} is locked to no nurse")
            return [self.nurse(job.assigned_to)]
        return [n for n in self.nurses if job.skills <= n.skills]


@dataclass(frozen=True)
class Stop:
    job: str
    arrival_s: int
    start_s: int
    end_s: int


@dataclass(frozen=True)
class Route:
    nurse: str
    stops: tuple[Stop, ...]


@dataclass
class Plan:
    routes: list[Route]
    unassigned: list[dict[str, str]]
    travel_s: int
    lateness_s: int
    solver: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"routes": [{"nurse": r.nurse, "stops": [asdict(s) for s in r.stops]} for r in self.routes],
                "unassigned": list(self.unassigned), "travel_s": self.travel_s, "lateness_s": self.lateness_s,
                "solver": dict(self.solver)}

    def route_of(self, nurse_id: str) -> Route:
        return next(r for r in self.routes if r.nurse == nurse_id)

    def assignment(self) -> dict[str, str]:
        """job id -> nurse id."""
        return {s.job: r.nurse for r in self.routes for s in r.stops}


def seconds(value: Any, path: str, *, minimum: int | None = None) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProblemError(f"{path}: must be a whole number of seconds")
    if minimum is not None and value < minimum:
        raise ProblemError(f"{path}: must be at least {minimum}")
    return value


def skill_set(value: Any, path: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise ProblemError(f"{path}: must be a list of skill names")
    return frozenset(value)


def obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProblemError(f"{path}: must be an object")
    return value


def ident(item: dict[str, Any], path: str) -> str:
    value = item.get("id")
    if not isinstance(value, str) or not value:
        raise ProblemError(f"{path}.id: must be a non-empty string")
    return value


def distinct(ids: list[str], path: str) -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            raise ProblemError(f"{path}: ids must be distinct ({value!r} is used twice)")
        seen.add(value)


def window(value: Any, path: str) -> tuple[int, int]:
    if not isinstance(value, list) or len(value) != 2:
        raise ProblemError(f"{path}: must be [open, close]")
    opens, closes = seconds(value[0], f"{path}[0]"), seconds(value[1], f"{path}[1]")
    if closes < opens:
        raise ProblemError(f"{path}: closes before it opens")
    return opens, closes


def lat_lon(item: dict[str, Any], path: str) -> tuple[float, float]:
    lat, lon = item.get("lat"), item.get("lon")
    if isinstance(lat, bool) or not isinstance(lat, (int, float)) or not -90 <= lat <= 90:
        raise ProblemError(f"{path}.lat: must be a latitude in degrees")
    if isinstance(lon, bool) or not isinstance(lon, (int, float)) or not -180 <= lon <= 180:
        raise ProblemError(f"{path}.lon: must be a longitude in degrees")
    return lat, lon


def geodesic_travel(travel: dict[str, Any], path: str, *, alternative: str = "") -> tuple[float, float]:
    """(speed_kmh, road_factor) of a geodesic travel model, defaults 50 km/h and 1.3."""
    if travel.get("model", "geodesic") != "geodesic":
        raise ProblemError(f"{path}.model: must be 'geodesic'{alternative}")
    speed, factor = travel.get("speed_kmh", 50), travel.get("road_factor", 1.3)
    if not isinstance(speed, (int, float)) or isinstance(speed, bool) or not 1 <= speed <= 200:
        raise ProblemError(f"{path}.speed_kmh: must be between 1 and 200")
    if not isinstance(factor, (int, float)) or isinstance(factor, bool) or not 1 <= factor <= 5:
        raise ProblemError(f"{path}.road_factor: must be between 1 and 5")
    return float(speed), float(factor)


def from_dict(raw: Any) -> Problem:
    raw = obj(raw, "problem")
    now = seconds(raw.get("now_s", 0), "now_s", minimum=0)
    locations_raw = raw.get("locations")
    if not isinstance(locations_raw, list) or not locations_raw:
        raise ProblemError("locations: must be a non-empty list")
    travel_raw = obj(raw.get("travel", {"model": "geodesic"}), "travel")
    if "matrix_s" in travel_raw:
        matrix = travel_raw["matrix_s"]
        n = len(locations_raw)
        if (not isinstance(matrix, list) or len(matrix) != n
                or any(not isinstance(r, list) or len(r) != n for r in matrix)):
            raise ProblemError(f"travel.matrix_s: must be {n}×{n}, one row and column per location")
        rows = tuple(tuple(seconds(v, f"travel.matrix_s[{i}][{j}]", minimum=0) for j, v in enumerate(r))
                     for i, r in enumerate(matrix))
        travel = Travel(model="matrix", matrix_s=rows)
    else:
        speed, factor = geodesic_travel(travel_raw, "travel", alternative=" (or give travel.matrix_s)")
        travel = Travel(model="geodesic", speed_kmh=speed, road_factor=factor)
    locations = []
    for i, loc_raw in enumerate(locations_raw):
        loc = obj(loc_raw, f"locations[{i}]")
        lat, lon = lat_lon(loc, f"locations[{i}]") if travel.model == "geodesic" else (loc.get("lat"), loc.get("lon"))
        locations.append(Location(lat=lat, lon=lon))
    n_loc = len(locations)

    def _loc(value: Any, path: str) -> int:
        index = seconds(value, path, minimum=0)
        if index >= n_loc:
            raise ProblemError(f"{path}: no location {index} (there are {n_loc})")
        return index

    nurses = []
    for i, nr_raw in enumerate(raw.get("nurses") or []):
        nr = obj(nr_raw, f"nurses[{i}]")
        nid = ident(nr, f"nurses[{i}]")
        capacity = nr.get("capacity")
        nurses.append(Nurse(
            id=nid, start=_loc(nr.get("start"), f"nurses[{i}].start"),
            end=None if nr.get("end") is None else _loc(nr["end"], f"nurses[{i}].end"),
            available_from_s=seconds(nr.get("available_from_s", 0), f"nurses[{i}].available_from_s", minimum=0),
            shift_end_s=seconds(nr.get("shift_end_s", 86_400), f"nurses[{i}].shift_end_s", minimum=0),
            skills=skill_set(nr.get("skills"), f"nurses[{i}].skills"),
            capacity=None if capacity is None else seconds(capacity, f"nurses[{i}].capacity", minimum=0)))
    if not nurses:
        raise ProblemError("nurses: at least one nurse is needed")
    distinct([n.id for n in nurses], "nurses")
    ids = {n.id for n in nurses}
    jobs = []
    for i, jb_raw in enumerate(raw.get("jobs") or []):
        jb = obj(jb_raw, f"jobs[{i}]")
        jid = ident(jb, f"jobs[{i}]")
        opens, closes = window(jb.get("window_s"), f"jobs[{i}].window_s")
        assigned, locked = jb.get("assigned_to"), bool(jb.get("locked", False))
        if assigned is not None and assigned not in ids:
            raise ProblemError(f"jobs[{i}].assigned_to: no nurse {assigned!r}")
        if locked and assigned is None:
            raise ProblemError(f"jobs[{i}].locked: a locked job names the nurse it is locked to (assigned_to)")
        started = bool(jb.get("started", False))
        if started and not locked:
            raise ProblemError(f"jobs[{i}].started: a job under way must be locked")
        jobs.append(Job(
            id=jid, location=_loc(jb.get("location"), f"jobs[{i}].location"),
            service_s=seconds(jb.get("service_s", 0), f"jobs[{i}].service_s", minimum=0), window_s=(opens, closes),
            hard=bool(jb.get("hard", False)),
            lateness_weight=seconds(jb.get("lateness_weight", 1), f"jobs[{i}].lateness_weight", minimum=0),
            skills=skill_set(jb.get("skills"), f"jobs[{i}].skills"),
            demand=seconds(jb.get("demand", 0), f"jobs[{i}].demand", minimum=0), assigned_to=assigned, locked=locked,
            started=started,
            waiting_weight=seconds(jb.get("waiting_weight", 0), f"jobs[{i}].waiting_weight", minimum=0)))
    distinct([j.id for j in jobs], "jobs")
    for nurse in nurses:
        under_way = [j.id for j in jobs if j.started and j.assigned_to == nurse.id]
        if len(under_way) > 1:
            raise ProblemError(f"jobs: nurse {nurse.id!r} has more than one job under way ({', '.join(under_way)})")
    return Problem(now_s=now, locations=tuple(locations), travel=travel, nurses=tuple(nurses), jobs=tuple(jobs))


def to_dict(problem: Problem) -> dict[str, Any]:
    travel: dict[str, Any]
    if problem.travel.model == "matrix" and problem.travel.matrix_s is not None:
        travel = {"matrix_s": [list(r) for r in problem.travel.matrix_s]}
    else:
        travel = {"model": "geodesic", "speed_kmh": problem.travel.speed_kmh, "road_factor": problem.travel.road_factor}
    return {
        "now_s": problem.now_s,
        "locations": [{k: v for k, v in asdict(loc).items() if v is not None} for loc in problem.locations],
        "travel": travel,
        "nurses": [{"id": n.id, "start": n.start, "end": n.end, "available_from_s": n.available_from_s,
                    "shift_end_s": n.shift_end_s, "skills": sorted(n.skills), "capacity": n.capacity}
                   for n in problem.nurses],
        "jobs": [{"id": j.id, "location": j.location, "service_s": j.service_s, "window_s": list(j.window_s),
                  "hard": j.hard, "lateness_weight": j.lateness_weight, "skills": sorted(j.skills), "demand": j.demand,
                  "assigned_to": j.assigned_to, "locked": j.locked, **({"started": True} if j.started else {}),
                  **({"waiting_weight": j.waiting_weight} if j.waiting_weight else {})}
                 for j in problem.jobs],
    }
