"""OR-Tools model of the night: nurses from live positions, soft deadlines, windows, skills, locks, shift ends.

`solve(problem)` always returns a plan: the OR-Tools plan when it is found and checks out, else greedy insertion.
"""
from __future__ import annotations

import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing import travel as travel_times
from routing import vroom_start
from routing.check import violations
from routing.greedy import assemble, plan_greedy
from routing.problem import Job, Plan, Problem
from routing.schedule import LATENESS_SCALE, departure
from routing.travel import Key

# Dropping a job must cost more than any lateness: an urgent call is never dropped for being late.
DROP_PENALTY = 10**12
LOCKED_DROP_PENALTY = 10**14

FIRST_SOLUTION = routing_enums_pb2.FirstSolutionStrategy
METAHEURISTIC = routing_enums_pb2.LocalSearchMetaheuristic


@dataclass(frozen=True)
class Options:
    """Search options, chosen on measurements (see `nightcare bench routing`)."""

    time_limit_s: float = 1.0
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    # A deterministic work budget (solutions found); when it binds before the time limit, the same
    # problem always gives the same plan.
    solution_limit: int | None = None
    gls_lambda: float | None = None  # guided local search lambda coefficient (OR-Tools default 0.1)
    # Local-search moves only consider each node's nearest neighbours: many more moves per second.
    neighbors_ratio: float | None = None
    min_neighbors: int | None = None
    # Share of the time for a second start (quick descent, then the metaheuristic from there); 0: one start.
    portfolio_share: float = 0.5
    # Problems whose windows are all hard: at most this share of the time for VROOM's first solution (0: off).
    # VROOM stops when it is done (0.1 s on 25 customers, up to about 6 s on 100), and the time it leaves goes to
    # OR-Tools: `vroom_improve_share` of it to improving VROOM's routes, the rest to OR-Tools' own start.
    vroom_share: float = 0.6
    vroom_improve_share: float = 0.75


def solve(problem: Problem, options: Options = Options(), *,
          travel_cache: MutableMapping[Key, int] | None = None) -> Plan:
    started = time.perf_counter()
    matrix = travel_times.matrix(problem, travel_cache)
    unassigned, skip = _impossible(problem)
    plan: Plan | None = None
    status = "no time: greedy insertion"
    if _one_way(problem, skip):
        status = "one way to plan: greedy insertion"
    elif options.time_limit_s > 0 and len(skip) < len(problem.jobs):
        try:
            plan = _ortools(problem, matrix, unassigned, skip, options)
            status = "feasible" if plan else "no solution found: greedy insertion"
        except Exception as exc:  # noqa: BLE001 - dispatch never waits on a failing optimiser
            status = f"solver error ({type(exc).__name__}): greedy insertion"
            plan = None
        if plan is not None and violations(problem, plan, matrix):
            status, plan = "solver plan failed the check: greedy insertion", None
    if plan is None:
        plan = plan_greedy(problem, matrix, unassigned, skip)
        plan.solver["name"] = "greedy-insertion"
    plan.solver["status"] = status if plan.solver.get("name") == "greedy-insertion" else "feasible"
    plan.solver["solve_ms"] = round((time.perf_counter() - started) * 1000)
    # The budget it ran on, so a stored decision can be replayed on the same one (`nightcare solve`).
    plan.solver["time_limit_s"] = options.time_limit_s
    if options.solution_limit:
        plan.solver["solution_limit"] = options.solution_limit
    return plan


def _one_way(problem: Problem, skip: set[str]) -> bool:
    """Each job can go to one nurse only and no nurse has two to put in order (a job under way comes first):
    the plan is settled. Guided local search never stops by itself, and with no move to try it would only spin
    until its time limit (OR-Tools issue 1253), whatever its solution limit."""
    to_order: dict[str, int] = {}
    for job in problem.jobs:
        if job.id in skip:
            continue
        nurses = problem.nurses_for(job)
        if len(nurses) > 1:
            return False
        if not job.started:
            to_order[nurses[0].id] = to_order.get(nurses[0].id, 0) + 1
    return all(count <= 1 for count in to_order.values())


def _impossible(problem: Problem) -> tuple[list[dict[str, str]], set[str]]:
    """Jobs no nurse could ever do (skills), reported up front with the reason."""
    unassigned, skip = [], set()
    for job in problem.jobs:
        if job.locked:
            continue
        if not problem.nurses_for(job):
            have = set().union(*(n.skills for n in problem.nurses))
            missing = sorted(job.skills - have) or sorted(job.skills)
            unassigned.append({"job": job.id, "reason": f"no nurse has skill '{missing[0]}'"
                               if len(missing) == 1 else f"no nurse has all of {', '.join(missing)}"})
            skip.add(job.id)
    return unassigned, skip


def _allow(model: pywrapcp.RoutingModel, index: int, vehicles: list[int]) -> None:
    """Only these vehicles may serve the node (-1 keeps it droppable). SetAllowedVehiclesForIndex's Python
    binding rejects every sequence in OR-Tools 9.15 (absl::Span), so the vehicle variable is restricted."""
    model.VehicleVar(index).SetValues([-1, *vehicles])


def _build(problem: Problem, matrix: list[list[int]],
           jobs: list[Job]) -> tuple[pywrapcp.RoutingModel, pywrapcp.RoutingIndexManager]:
    nurses = list(problem.nurses)
    v = len(nurses)
    # Nodes: one start and one end per nurse, then one per job. An open end (end: null) costs nothing to reach.
    node_loc: list[int | None] = [n.start for n in nurses] + [n.end for n in nurses] + [j.location for j in jobs]
    service = [0] * (2 * v) + [j.service_s for j in jobs]
    size = len(node_loc)
    cost = [[0 if (b is None or a is None) else matrix[a][b] for b in node_loc] for a in node_loc]
    transit = [[service[i] + cost[i][k] for k in range(size)] for i in range(size)]
    manager = pywrapcp.RoutingIndexManager(size, v, list(range(v)), list(range(v, 2 * v)))
    model = pywrapcp.RoutingModel(manager)
    cost_cb = model.RegisterTransitMatrix(cost)
    transit_cb = model.RegisterTransitMatrix(transit)
    model.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    horizon = max([n.shift_end_s for n in nurses] + [j.window_s[1] for j in jobs] + [problem.now_s]) + 86_400
    model.AddDimension(transit_cb, horizon, horizon, False, "time")
    clock = model.GetDimensionOrDie("time")
    # A cumul variable takes one soft upper bound, so waiting (from the window opening) is priced on a twin
    # of the time dimension. Both are costed at their earliest schedule, the one the spec's rules give.
    waiting = None
    if any(j.waiting_weight for j in jobs):
        model.AddDimension(transit_cb, horizon, horizon, False, "waiting")
        waiting = model.GetDimensionOrDie("waiting")
    for k, nurse in enumerate(nurses):
        t0 = departure(problem, nurse)
        for dim in (clock, waiting) if waiting else (clock,):
            dim.CumulVar(model.Start(k)).SetRange(t0, t0)
        clock.CumulVar(model.End(k)).SetMax(max(nurse.shift_end_s, t0))
    for offset, job in enumerate(jobs):
        index = manager.NodeToIndex(2 * v + offset)
        cumul = clock.CumulVar(index)
        if job.hard:
            cumul.SetRange(job.window_s[0], job.window_s[1])
        else:
            cumul.SetMin(job.window_s[0])
            if job.lateness_weight:
                clock.SetCumulVarSoftUpperBound(index, job.window_s[1], job.lateness_weight * LATENESS_SCALE)
        if waiting is not None:
            waiting.CumulVar(index).SetMin(job.window_s[0])  # every job: its waits delay the ones after it
            if job.waiting_weight:
                waiting.SetCumulVarSoftUpperBound(index, job.window_s[0], job.waiting_weight * LATENESS_SCALE)
        if job.locked:
            k = next(i for i, n in enumerate(nurses) if n.id == job.assigned_to)
            _allow(model, index, [k])
            model.AddDisjunction([index], LOCKED_DROP_PENALTY)
            if job.started:
                model.NextVar(model.Start(k)).SetValues([index])
        else:
            allowed = [k for k, n in enumerate(nurses) if job.skills <= n.skills]
            if len(allowed) < v:
                _allow(model, index, allowed)
            model.AddDisjunction([index], DROP_PENALTY)
    if any(n.capacity is not None for n in nurses):
        demand = model.RegisterUnaryTransitVector([0] * (2 * v) + [j.demand for j in jobs])
        model.AddDimensionWithVehicleCapacity(demand, 0, [n.capacity if n.capacity is not None else 10**9
                                                          for n in nurses], True, "load")
    return model, manager


def _params(options: Options, seconds: float) -> Any:  # a RoutingSearchParameters protobuf
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(FIRST_SOLUTION, options.first_solution)
    params.local_search_metaheuristic = getattr(METAHEURISTIC, options.metaheuristic)
    params.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
    if options.solution_limit:
        params.solution_limit = options.solution_limit
    if options.gls_lambda is not None:
        params.guided_local_search_lambda_coefficient = options.gls_lambda
    if options.neighbors_ratio is not None:
        params.ls_operator_neighbors_ratio = options.neighbors_ratio
    if options.min_neighbors is not None:
        params.ls_operator_min_neighbors = options.min_neighbors
    return params


def _routes(model: pywrapcp.RoutingModel, manager: pywrapcp.RoutingIndexManager, solution: Any,
            v: int) -> list[list[int]]:
    routes = []
    for k in range(v):
        seq, index = [], solution.Value(model.NextVar(model.Start(k)))
        while not model.IsEnd(index):
            seq.append(manager.IndexToNode(index))
            index = solution.Value(model.NextVar(index))
        routes.append(seq)
    return routes


def _ortools(problem: Problem, matrix: list[list[int]], unassigned: list[dict[str, str]], skip: set[str],
             options: Options) -> Plan | None:
    nurses = list(problem.nurses)
    jobs = [j for j in problem.jobs if j.id not in skip]
    v = len(nurses)
    model, manager = _build(problem, matrix, jobs)
    began = time.perf_counter()
    seeded = vroom_start.routes(problem, matrix, jobs, options.time_limit_s * options.vroom_share) \
        if options.vroom_share > 0 else None
    start = model.ReadAssignmentFromRoutes([[manager.NodeToIndex(2 * v + o) for o in r] for r in seeded], True) \
        if seeded is not None else None
    remaining = max(0.0, options.time_limit_s - (time.perf_counter() - began))  # what VROOM left
    if start is not None:
        # It improves on VROOM's routes (at worst they are kept) and, for a smaller share, runs OR-Tools' own
        # start: each wins on instances the other misses, and the better plan is kept.
        improve = remaining * options.vroom_improve_share
        from_vroom = model.SolveFromAssignmentWithParameters(start, _params(options, improve))
        own = model.SolveWithParameters(_params(options, remaining - improve)) \
            if options.vroom_improve_share < 1 else None
        found = [(s, name) for s, name in ((from_vroom, "or-tools+vroom"), (own, "or-tools")) if s is not None]
        if found:
            best, name = min(found, key=lambda pair: pair[0].ObjectiveValue())
            return _plan_from(problem, matrix, jobs, unassigned, model, manager, best, options, name)
    solution = model.SolveWithParameters(_params(options, remaining * (1 - options.portfolio_share)))
    if options.portfolio_share > 0:
        # A second start on the same model: OR-Tools' own quick descent, then the metaheuristic from its local
        # optimum. The two starts win on different instances; the better plan is kept.
        quick = Options(first_solution="AUTOMATIC", metaheuristic="GREEDY_DESCENT")
        budget = remaining * options.portfolio_share
        start = model.SolveWithParameters(_params(quick, budget * 0.3))
        if start is not None:
            other = model.SolveFromAssignmentWithParameters(start, _params(options, budget * 0.7)) or start
            if solution is None or other.ObjectiveValue() < solution.ObjectiveValue():
                solution = other
    if solution is None:
        return None
    return _plan_from(problem, matrix, jobs, unassigned, model, manager, solution, options, "or-tools")


def _plan_from(problem: Problem, matrix: list[list[int]], jobs: list[Job], unassigned: list[dict[str, str]],
               model: pywrapcp.RoutingModel, manager: pywrapcp.RoutingIndexManager, solution: Any,
               options: Options, name: str) -> Plan:
    nurses = list(problem.nurses)
    v = len(nurses)
    routes: dict[str, list[Job]] = {}
    left = list(unassigned)
    placed: set[str] = set()
    for nurse, nodes in zip(nurses, _routes(model, manager, solution, v), strict=True):
        seq = [jobs[node - 2 * v] for node in nodes]
        routes[nurse.id] = seq
        placed.update(j.id for j in seq)
    for job in jobs:
        if job.id not in placed:
            left.append({"job": job.id, "reason": "no feasible place: hard window, shift end or capacity"})
    return assemble(problem, matrix, routes, left, {"name": name, "first_solution": options.first_solution,
                                                    "metaheuristic": options.metaheuristic,
                                                    "objective": solution.ObjectiveValue()})
