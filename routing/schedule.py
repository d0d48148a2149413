"""Times along a route, by the spec's rules: arrival = previous end + travel, start = max(arrival, open)."""
from __future__ import annotations

from dataclasses import dataclass

from routing.problem import Job, Nurse, Problem, Stop

# Lateness comes first in the objective, then travel: a weighted second late costs this many travel seconds.
LATENESS_SCALE = 1000


@dataclass(frozen=True)
class RouteTimes:
    stops: tuple[Stop, ...]
    travel_s: int
    lateness_s: int  # seconds late, summed over soft windows
    weighted_lateness: int  # lateness_weight × seconds late, plus waiting_weight × seconds from open to start
    finish_s: int  # arrival at the end location, or the last stop's end
    feasible: bool
    why: str = ""

    @property
    def cost(self) -> int:
        return self.weighted_lateness * LATENESS_SCALE + self.travel_s


def departure(problem: Problem, nurse: Nurse) -> int:
    return max(problem.now_s, nurse.available_from_s)


def route_times(problem: Problem, travel: list[list[int]], nurse: Nurse, jobs: list[Job]) -> RouteTimes:
    t, here = departure(problem, nurse), nurse.start
    stops, travel_s, late, weighted, why = [], 0, 0, 0, ""
    load = 0
    for job in jobs:
        leg = travel[here][job.location]
        arrival = t + leg
        start = max(arrival, job.window_s[0])
        weighted += (start - job.window_s[0]) * job.waiting_weight
        if start > job.window_s[1]:
            if job.hard:
                why = why or f"{job.id} would start at {start}, after its hard window closes at {job.window_s[1]}"
            else:
                late += start - job.window_s[1]
                weighted += (start - job.window_s[1]) * job.lateness_weight
        if job.skills - nurse.skills and not (job.locked and job.assigned_to == nurse.id):
            why = why or f"{nurse.id} lacks skills {sorted(job.skills - nurse.skills)} for {job.id}"
        load += job.demand
        end = start + job.service_s
        stops.append(Stop(job=job.id, arrival_s=arrival, start_s=start, end_s=end))
        travel_s += leg
        t, here = end, job.location
    if nurse.end is not None:
        leg = travel[here][nurse.end]
        travel_s += leg
        t += leg
    if t > nurse.shift_end_s:
        why = why or f"{nurse.id}'s route would finish at {t}, after her shift ends at {nurse.shift_end_s}"
    if nurse.capacity is not None and load > nurse.capacity:
        why = why or f"{nurse.id}'s load {load} exceeds her capacity {nurse.capacity}"
    return RouteTimes(stops=tuple(stops), travel_s=travel_s, lateness_s=late, weighted_lateness=weighted, finish_s=t,
                      feasible=not why, why=why)
