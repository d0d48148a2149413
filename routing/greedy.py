"""Greedy insertion: fast, deterministic, always answers. Used when the solver fails or has no time."""
from __future__ import annotations

from typing import Any

from routing.problem import Job, Nurse, Plan, Problem, Route
from routing.schedule import RouteTimes, route_times


def _order(job: Job) -> tuple[bool, bool, int, int, str]:
    # Jobs under way first, then locked ones, then the most pressing window.
    return (not job.started, not job.locked, job.window_s[1], job.window_s[0], job.id)


def insert(problem: Problem, travel: list[list[int]], routes: dict[str, list[Job]], job: Job,
           nurses: list[Nurse]) -> tuple[str, int] | None:
    """The cheapest feasible (nurse, position) for `job`, or None."""
    best: tuple[int, str, int] | None = None
    for nurse in nurses:
        route = routes[nurse.id]
        base = route_times(problem, travel, nurse, route).cost
        first = 1 if route and route[0].started else 0
        positions = [0] if job.started else range(first, len(route) + 1)
        for pos in positions:
            times: RouteTimes = route_times(problem, travel, nurse, [*route[:pos], job, *route[pos:]])
            if not times.feasible:
                continue
            delta = times.cost - base
            if best is None or delta < best[0]:
                best = (delta, nurse.id, pos)
    return None if best is None else (best[1], best[2])


def plan_greedy(problem: Problem, travel: list[list[int]], unassigned: list[dict[str, str]],
                skip: set[str]) -> Plan:
    routes: dict[str, list[Job]] = {n.id: [] for n in problem.nurses}
    dropped: list[tuple[Job, list[Nurse]]] = []
    for job in sorted((j for j in problem.jobs if j.id not in skip), key=_order):
        candidates = problem.nurses_for(job)
        if not _place(problem, travel, routes, job, candidates):
            dropped.append((job, candidates))
    # The routes have grown since these fitted nowhere. Where travel times do not keep the triangle inequality
    # (a given matrix may not), one may fit now by way of a stop added later: retry until nothing more fits.
    while dropped:
        still = [(job, candidates) for job, candidates in dropped
                 if not _place(problem, travel, routes, job, candidates)]
        if len(still) == len(dropped):
            break
        dropped = still
    left = list(unassigned) + [
        {"job": job.id, "reason": f"locked to {job.assigned_to}, but her route has no feasible place for it any more"
         if job.locked else "no nurse can fit it: hard window, shift end or capacity"} for job, _ in dropped]
    return assemble(problem, travel, routes, left, {"name": "greedy-insertion", "status": "feasible"})


def _place(problem: Problem, travel: list[list[int]], routes: dict[str, list[Job]], job: Job,
           candidates: list[Nurse]) -> bool:
    spot = insert(problem, travel, routes, job, candidates)
    if spot is not None:
        routes[spot[0]].insert(spot[1], job)
    return spot is not None


def assemble(problem: Problem, travel: list[list[int]], routes: dict[str, list[Job]],
             unassigned: list[dict[str, str]], solver: dict[str, Any]) -> Plan:
    out, travel_s, late = [], 0, 0
    for nurse in problem.nurses:
        times = route_times(problem, travel, nurse, routes.get(nurse.id, []))
        out.append(Route(nurse=nurse.id, stops=times.stops))
        travel_s += times.travel_s
        late += times.lateness_s
    return Plan(routes=out, unassigned=unassigned, travel_s=travel_s, lateness_s=late, solver=solver)
