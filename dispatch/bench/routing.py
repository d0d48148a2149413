"""Routing quality on the Solomon benchmark: gap to best known at a fixed time limit, side by side with
OR-Tools at its default settings and VROOM (pyvroom) in the same run.

Columns: `ours` (the solver as the service has it: VROOM's start when all windows are hard, improved by
OR-Tools), `ortools` (the same OR-Tools search without VROOM's start), `default` (OR-Tools as it comes),
`vroom` (VROOM alone, exploration level 5, 2 threads).

`nightcare bench routing DIR --time-limit S [--only C1,R2] [--no-default] [--no-vroom]`
"""
from __future__ import annotations

import csv
import statistics
import time
from functools import partial
from pathlib import Path

from routing.check import violations
from routing.solomon import Instance, read, to_problem
from routing.solver import Options, solve


def best_known(directory: Path) -> dict[tuple[str, int], int]:
    path = next((p for p in (directory / "best_known.csv", directory.parent / "best_known.csv") if p.exists()), None)
    if path is None:
        raise SystemExit(f"no best_known.csv in {directory} or its parent")
    with path.open() as f:
        return {(r["instance"], int(r["customers"])): int(r["best_known_distance_tenths"]) for r in csv.DictReader(f)}


def _ours(instance: Instance, options: Options) -> tuple[int | None, float]:
    problem = to_problem(instance)
    t = time.perf_counter()
    plan = solve(problem, options)
    elapsed = time.perf_counter() - t
    if plan.unassigned or violations(problem, plan, instance.matrix()):
        return None, elapsed
    return plan.travel_s, elapsed


def _vroom(instance: Instance, threads: int) -> tuple[int | None, float]:
    import vroom

    matrix = instance.matrix()
    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=matrix)
    for k in range(25):
        problem.add_vehicle(vroom.Vehicle(k, start=0, end=0, capacity=[instance.capacity],
                                          time_window=vroom.TimeWindow(*instance.windows[0])))
    for c in range(1, len(matrix)):
        problem.add_job(vroom.Job(c, location=c, default_service=instance.service, delivery=[instance.demand[c]],
                                  time_windows=[vroom.TimeWindow(*instance.windows[c])]))
    t = time.perf_counter()
    solution = problem.solve(exploration_level=5, nb_threads=threads)
    elapsed = time.perf_counter() - t
    return (None if solution.summary.unassigned else int(solution.summary.cost)), elapsed


def run(directory: Path, *, time_limit: float, only: list[str], default: bool, vroom: bool,
        options: Options | None = None) -> list[dict]:
    known = best_known(directory)
    ours_options = options or Options(time_limit_s=time_limit)
    # The same search without VROOM's start, and OR-Tools as it comes (one start, its defaults).
    ortools_options = Options(time_limit_s=time_limit, vroom_share=0)
    default_options = Options(time_limit_s=time_limit, first_solution="AUTOMATIC", metaheuristic="AUTOMATIC",
                              portfolio_share=0, vroom_share=0)
    rows = []
    for path in sorted(directory.glob("*.vrptw")):
        instance = read(path)
        if only and not any(instance.name.startswith(prefix) for prefix in only):
            continue
        best = known[(instance.name, instance.customers)]
        row: dict = {"instance": instance.name, "customers": instance.customers, "best": best}
        runners = [("ours", partial(_ours, instance, ours_options)),
                   ("ortools", partial(_ours, instance, ortools_options))]
        if default:
            runners.append(("default", partial(_ours, instance, default_options)))
        if vroom:
            runners.append(("vroom", partial(_vroom, instance, threads=2)))
        for name, runner in runners:
            cost, seconds = runner()
            row[name] = cost
            row[f"{name}_gap"] = None if cost is None else 100 * (cost - best) / best
            row[f"{name}_s"] = seconds
        rows.append(row)
        print(_line(row, [r for r, _ in runners]), flush=True)
    return rows


def _line(row: dict, names: list[str]) -> str:
    parts = [f"{row['instance']:<6} {row['customers']:>3} best {row['best']:>6}"]
    for name in names:
        gap = row[f"{name}_gap"]
        parts.append(f"{name} {'infeasible' if gap is None else f'{gap:+6.2f}%'} {row[f'{name}_s']:6.2f}s")
    return "  ".join(parts)


def summary(rows: list[dict]) -> None:
    names = [n for n in ("ours", "ortools", "default", "vroom") if rows and n in rows[0]]
    print(f"\n{len(rows)} instances")
    for name in names:
        gaps = [r[f"{name}_gap"] for r in rows if r[f"{name}_gap"] is not None]
        failed = sum(1 for r in rows if r[f"{name}_gap"] is None)
        secs = [r[f"{name}_s"] for r in rows]
        if gaps:
            print(f"{name:<8} mean gap {statistics.mean(gaps):+6.3f}%  median {statistics.median(gaps):+6.3f}%  "
                  f"max {max(gaps):+6.2f}%  infeasible {failed}  mean time {statistics.mean(secs):.2f}s")
    if "vroom" in names:
        print("ours against vroom, instance by instance: " + head_to_head(rows, "ours", "vroom"))


def head_to_head(rows: list[dict], a: str, b: str) -> str:
    """How many instances `a` solves shorter than `b`, as short, or longer (an infeasible answer loses)."""
    better = same = worse = 0
    for row in rows:
        x, y = row[a], row[b]
        if x is not None and (y is None or x < y):
            better += 1
        elif x == y:
            same += 1
        else:
            worse += 1
    return f"shorter on {better}, the same on {same}, longer on {worse}"
