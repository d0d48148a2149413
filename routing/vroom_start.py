"""A first solution from VROOM (pyvroom) for problems whose windows are all hard.

VROOM is fast and strong on classic VRPTW; the OR-Tools model then improves on its routes with the time
left and keeps the best. VROOM cannot price lateness, so problems with soft windows (live nights) do
not use it. Optional: without pyvroom installed this returns None.
"""
from __future__ import annotations

from datetime import timedelta

from routing.problem import Job, Problem
from routing.schedule import departure


def routes(problem: Problem, matrix: list[list[int]], jobs: list[Job], seconds: float) -> list[list[int]] | None:
    """Per nurse, the positions (in `jobs`) of her jobs in VROOM's order; None when VROOM does not apply."""
    if not jobs or any(not j.hard or j.started for j in jobs):
        return None
    try:
        import vroom
    except ImportError:
        return None
    names = sorted(set().union(*(j.skills for j in jobs), *(n.skills for n in problem.nurses)))
    skill_id = {name: i for i, name in enumerate(names)}
    lock_base = len(names)  # a locked job needs its nurse's own skill
    capacities = any(n.capacity is not None for n in problem.nurses)
    model = vroom.Input()
    model.set_durations_matrix(profile="car", matrix_input=matrix)
    for k, nurse in enumerate(problem.nurses):
        t0 = departure(problem, nurse)
        model.add_vehicle(vroom.Vehicle(
            k, start=nurse.start, end=nurse.end,
            capacity=[nurse.capacity if nurse.capacity is not None else 10**9] if capacities else (),
            skills={skill_id[s] for s in nurse.skills} | {lock_base + k},
            time_window=vroom.TimeWindow(t0, max(t0, nurse.shift_end_s))))
    nurse_index = {n.id: k for k, n in enumerate(problem.nurses)}
    for offset, job in enumerate(jobs):
        skills = {skill_id[s] for s in job.skills}
        if job.locked and job.assigned_to is not None:  # from_dict() refuses a locked job without its nurse
            skills = {lock_base + nurse_index[job.assigned_to]}
        model.add_job(vroom.Job(offset + 1, location=job.location, default_service=job.service_s,
                                delivery=[job.demand] if capacities else vroom.Amount([]), skills=skills,
                                time_windows=[vroom.TimeWindow(*job.window_s)]))
    # Both cores: this path serves planning problems (all windows hard), never the live re-plan loop.
    solution = model.solve(exploration_level=5, nb_threads=2, timeout=timedelta(seconds=max(0.01, seconds)))
    result: list[list[int]] = [[] for _ in problem.nurses]
    steps = solution.routes
    for row in steps[steps["type"] == "job"].itertuples():
        result[int(row.vehicle_id)].append(int(row.id) - 1)
    return result
