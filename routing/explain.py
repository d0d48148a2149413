"""Why a job went to its nurse: every nurse's ETA for it, had it been put in her planned route."""
from __future__ import annotations

from collections.abc import MutableMapping

from routing import travel as travel_times
from routing.greedy import insert
from routing.problem import Job, Plan, Problem
from routing.schedule import route_times
from routing.travel import Key


def etas(problem: Problem, plan: Plan, job_id: str,
         cache: MutableMapping[Key, int] | None = None) -> dict[str, int | None]:
    """nurse id -> arrival seconds at the job (None: she cannot take it: skills, window or shift end)."""
    matrix = travel_times.matrix(problem, cache)
    jobs = {j.id: j for j in problem.jobs}
    job = jobs[job_id]
    routes: dict[str, list[Job]] = {r.nurse: [jobs[s.job] for s in r.stops if s.job != job_id] for r in plan.routes}
    result: dict[str, int | None] = {}
    for nurse in problem.nurses:
        routes.setdefault(nurse.id, [])
        if not (job.skills <= nurse.skills or (job.locked and job.assigned_to == nurse.id)):
            result[nurse.id] = None
            continue
        spot = insert(problem, matrix, routes, job, [nurse])
        if spot is None:
            result[nurse.id] = None
            continue
        _, pos = spot
        times = route_times(problem, matrix, nurse, [*routes[nurse.id][:pos], job, *routes[nurse.id][pos:]])
        result[nurse.id] = times.stops[pos].arrival_s
    return result
