"""Travel times between locations: geodesic distance (geopy, WGS-84) with a road factor and speed, or a given matrix."""
from __future__ import annotations

from collections.abc import MutableMapping

from geopy.distance import geodesic

from routing.problem import Problem

Key = tuple[float, ...]  # (speed, road factor, lat1, lon1, lat2, lon2)


def geodesic_seconds(a: tuple[float, float], b: tuple[float, float], *, speed_kmh: float, road_factor: float) -> int:
    if a == b:
        return 0
    km: float = geodesic(a, b).km
    return round(km * road_factor / speed_kmh * 3600)


def matrix(problem: Problem, cache: MutableMapping[Key, int] | None = None) -> list[list[int]]:
    """Travel seconds between every pair of locations. `cache` (caller-owned) keeps computed pairs."""
    if problem.travel.matrix_s is not None:
        return [list(row) for row in problem.travel.matrix_s]
    speed, factor = problem.travel.speed_kmh, problem.travel.road_factor
    points: list[tuple[float, float]] = []
    for loc in problem.locations:
        if loc.lat is None or loc.lon is None:  # from_dict() refuses such a problem
            raise ValueError("geodesic travel needs every location's lat and lon")
        points.append((loc.lat, loc.lon))
    n = len(points)
    result = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            a, b = points[i], points[j]
            key: Key = (speed, factor, *a, *b) if a <= b else (speed, factor, *b, *a)
            seconds = cache.get(key) if cache is not None else None
            if seconds is None:
                seconds = geodesic_seconds(a, b, speed_kmh=speed, road_factor=factor)
                if cache is not None:
                    cache[key] = seconds
            result[i][j] = result[j][i] = seconds
    return result
