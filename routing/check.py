"""An independent check of a plan against the spec's feasibility rules (not the solver's own code)."""
from __future__ import annotations

from routing.problem import Plan, Problem


def violations(problem: Problem, plan: Plan, travel: list[list[int]]) -> list[str]:
    """Every way the plan breaks the feasibility rules of docs/routing-problem.md; empty when it is feasible."""
    found: list[str] = []
    jobs = {j.id: j for j in problem.jobs}
    nurses = {n.id: n for n in problem.nurses}
    seen: dict[str, str] = {}
    total_travel = total_late = 0
    for route in plan.routes:
        nurse = nurses.get(route.nurse)
        if nurse is None:
            found.append(f"route for unknown nurse {route.nurse}")
            continue
        clock = max(problem.now_s, nurse.available_from_s)
        place = nurse.start
        load = 0
        for position, stop in enumerate(route.stops):
            job = jobs.get(stop.job)
            if job is None:
                found.append(f"{route.nurse}: unknown job {stop.job}")
                continue
            if stop.job in seen:
                found.append(f"{stop.job} appears twice ({seen[stop.job]} and {route.nurse})")
            seen[stop.job] = route.nurse
            expected_arrival = clock + travel[place][job.location]
            if stop.arrival_s != expected_arrival:
                found.append(f"{stop.job}: arrival {stop.arrival_s}, expected {expected_arrival}")
            if stop.start_s != max(stop.arrival_s, job.window_s[0]):
                found.append(f"{stop.job}: start {stop.start_s} is not max(arrival, window open)")
            if stop.end_s != stop.start_s + job.service_s:
                found.append(f"{stop.job}: end {stop.end_s} is not start + service")
            if job.hard and not job.window_s[0] <= stop.start_s <= job.window_s[1]:
                found.append(f"{stop.job}: starts at {stop.start_s}, outside its hard window {job.window_s}")
            if not job.hard:
                total_late += max(0, stop.start_s - job.window_s[1])
            if job.locked and job.assigned_to != route.nurse:
                found.append(f"{stop.job}: locked to {job.assigned_to} but routed to {route.nurse}")
            if job.started and position != 0:
                found.append(f"{stop.job}: under way but not first in {route.nurse}'s route")
            missing = job.skills - nurse.skills
            if missing and not (job.locked and job.assigned_to == route.nurse):
                found.append(f"{stop.job}: {route.nurse} lacks skills {sorted(missing)}")
            total_travel += travel[place][job.location]
            load += job.demand
            clock, place = stop.end_s, job.location
        if nurse.end is not None:
            total_travel += travel[place][nurse.end]
            clock += travel[place][nurse.end]
        if clock > nurse.shift_end_s:
            found.append(f"{route.nurse}: route finishes at {clock}, after shift end {nurse.shift_end_s}")
        if nurse.capacity is not None and load > nurse.capacity:
            found.append(f"{route.nurse}: load {load} over capacity {nurse.capacity}")
    unassigned = {u["job"] for u in plan.unassigned}
    for job in problem.jobs:
        if job.id not in seen and job.id not in unassigned:
            found.append(f"{job.id}: neither routed nor listed as unassigned")
        if job.id in seen and job.id in unassigned:
            found.append(f"{job.id}: both routed and unassigned")
    for u in plan.unassigned:
        if not u.get("reason"):
            found.append(f"{u.get('job')}: unassigned without a reason")
    if plan.travel_s != total_travel:
        found.append(f"travel_s {plan.travel_s}, routes add up to {total_travel}")
    if plan.lateness_s != total_late:
        found.append(f"lateness_s {plan.lateness_s}, stops add up to {total_late}")
    return found
