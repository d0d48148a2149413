"""Solomon VRPTW instances (LKH-3 text format, DIMACS distance-only convention) as routing problems."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from routing.problem import Job, Location, Nurse, Problem, Travel

MAX_VEHICLES = 25


@dataclass(frozen=True)
class Instance:
    name: str
    customers: int
    coords: list[tuple[float, float]]  # node 0 is the depot
    demand: list[int]
    windows: list[tuple[int, int]]  # in tenths
    service: int  # in tenths
    capacity: int

    def matrix(self) -> list[list[int]]:
        return [[math.floor(10 * math.dist(a, b)) for b in self.coords] for a in self.coords]


def read(path: Path) -> Instance:
    lines = [line.strip() for line in path.read_text().splitlines()]
    header: dict[str, str] = {}
    sections: dict[str, list[list[str]]] = {}
    current = None
    for line in lines:
        if not line or line == "EOF":
            continue
        if (":" in line and current is None) or (":" in line and line.split(":")[0].strip().isupper()
                                                 and not line[0].isdigit()):
            key, value = (part.strip() for part in line.split(":", 1))
            header[key] = value
            current = None
        elif line.endswith("_SECTION"):
            current = line
            sections[current] = []
        elif current:
            sections[current].append(line.split())
    coords = [(float(r[1]), float(r[2])) for r in sections["NODE_COORD_SECTION"]]
    demand = [int(r[1]) for r in sections["DEMAND_SECTION"]]
    windows = [(int(float(r[1])) * 10, int(float(r[2])) * 10) for r in sections["TIME_WINDOW_SECTION"]]
    depot = int(sections.get("DEPOT_SECTION", [["1"]])[0][0]) - 1
    if depot != 0:
        raise ValueError(f"{path.name}: depot is expected to be node 1")
    return Instance(name=header["NAME"], customers=len(coords) - 1, coords=coords, demand=demand, windows=windows,
                    service=int(float(header.get("SERVICE_TIME", 0))) * 10, capacity=int(header["CAPACITY"]))


def to_problem(instance: Instance, vehicles: int = MAX_VEHICLES) -> Problem:
    depot_close = instance.windows[0][1]
    nurses = tuple(Nurse(id=f"v{k}", start=0, end=0, available_from_s=instance.windows[0][0], shift_end_s=depot_close,
                         capacity=instance.capacity) for k in range(vehicles))
    jobs = tuple(Job(id=f"c{i}", location=i, service_s=instance.service, window_s=instance.windows[i], hard=True,
                     demand=instance.demand[i]) for i in range(1, len(instance.coords)))
    matrix = instance.matrix()
    return Problem(now_s=0, locations=tuple(Location() for _ in instance.coords),
                   travel=Travel(model="matrix", matrix_s=tuple(tuple(r) for r in matrix)), nurses=nurses, jobs=jobs)
