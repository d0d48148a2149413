"""Greedy insertion: fast, deterministic, always answers. Used when the solver fails or has no time."""
from __future__ import annotations

from routing.problem import Job, Nurse, Plan, Problem, Route
from routing.schedule import RouteTimes, route_times


def _order(job: Job) -> tuple:
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
    left = list(unassigned)
    for job in sorted((j for j in problem.jobs if j.id not in skip), key=_order):
        if job.locked:
            candidates = [problem.nurse(job.assigned_to)]  # type: ignore[arg-type]
        else:
            candidates = [n for n in problem.nurses if job.skills <= n.skills]
        spot = insert(problem, travel, routes, job, candidates)
        if spot is None:
            reason = (f"locked to {job.assigned_to}, but her route has no feasible place for it any more"
                      if job.locked else "no nurse can fit it: hard window, shift end or capacity")
            left.append({"job": job.id, "reason": reason})
            continue
        nurse_id, pos = spot
        routes[nurse_id].insert(pos, job)
    return assemble(problem, travel, routes, left, {"name": "greedy-insertion", "status": "feasible"})


def assemble(problem: Problem, travel: list[list[int]], routes: dict[str, list[Job]],
             unassigned: list[dict[str, str]], solver: dict) -> Plan:
    out, travel_s, late = [], 0, 0
    for nurse in problem.nurses:
        times = route_times(problem, travel, nurse, routes.get(nurse.id, []))
        out.append(Route(nurse=nurse.id, stops=times.stops))
        travel_s += times.travel_s
        late += times.lateness_s
    return Plan(routes=out, unassigned=unassigned, travel_s=travel_s, lateness_s=late, solver=solver)
