"""Generated nights: `optimised` against `nearest` and `clairvoyant` (share of U2 reached within target,
p90 response per urgency). `nightcare bench nights --nights 20` (busy nights: 24 calls + 20 planned; the
notes' quieter nights are `--calls 16 --planned 12`)"""
from __future__ import annotations

import math
import statistics

from dispatch.simulation.engine import simulate
from dispatch.simulation.misses import late_calls
from dispatch.simulation.scenario import generate

POLICIES = ("nearest", "optimised", "clairvoyant")


def _fmt(k: dict, urgency: str) -> str:
    g = k.get(urgency)
    if not g:
        return f"{'-':>17}"
    p90 = "unserved" if g["p90_response_s"] is None else f"{g['p90_response_s'] / 60:5.1f}m"
    return f"{g['within_target']:5.2f} p90 {p90:>8}"


def run(*, count: int, calls: int, planned: int, nurses: int, time_limit: float, misses: bool = False,
        foresight: int = 0, solutions: int | None = None) -> list[dict]:
    rows, late = [], []
    if solutions:
        print(f"each re-plan stops after {solutions} improving solutions (reproducible run to run)")
    if foresight:
        print(f"foresight: nearest and optimised learn of each call {foresight} s before it comes "
              "(a measurement of the value of earlier information, not a policy)")
    print(f"{'night':<18} " + "  ".join(f"{p + ' U2 / U3':<38}" for p in POLICIES))
    for seed in range(1, count + 1):
        scenario = generate(seed=seed, calls=calls, planned=planned, nurses=nurses)
        nights = {p: simulate(scenario, p, time_limit_s=time_limit, foresight_s=foresight, solutions=solutions)
                  for p in POLICIES}
        kpis = {p: night["kpis"] for p, night in nights.items()}
        rows.append({"night": scenario["name"], **kpis})
        print(f"{scenario['name']:<18} " + "  ".join(f"{_fmt(kpis[p], 'U2')} | {_fmt(kpis[p], 'U3')}"
                                                     for p in POLICIES), flush=True)
        if misses:
            for miss in late_calls(scenario, nights["optimised"]):
                late.append(miss)
                best = "nobody" if miss["best_s"] is None else f"{miss['best_nurse']} in {miss['best_s'] / 60:.1f} min"
                got = "unserved" if miss["response_s"] is None else f"{miss['response_s'] / 60:.1f} min"
                print(f"    late U2 {miss['call']} at {miss['at_s'] / 3600:.2f} h: {got}; at that moment the "
                      f"earliest was {best} ({miss['kind']})", flush=True)
    with_u2 = [r for r in rows if "U2" in r["optimised"]]  # a night without U2 calls says nothing here
    share = {p: [r[p]["U2"]["within_target"] for r in with_u2] for p in POLICIES}
    beats = sum(1 for r in with_u2 if _better(r["optimised"], r["nearest"]))
    ratios = [o / c for o, c in zip(share["optimised"], share["clairvoyant"], strict=True) if c > 0]
    print(f"\nU2 within target, mean over {len(with_u2)} nights with U2 calls: "
          + ", ".join(f"{p} {_stat(statistics.mean, share[p], 1, '.3f')}" for p in POLICIES))
    pooled = {p: _pooled(with_u2, p) for p in POLICIES}
    print("U2 calls within target, all nights pooled: " + ", ".join(
        f"{p} {within}/{n}" for p, (within, n) in pooled.items())
          + f"; optimised / clairvoyant {_ratio(pooled['optimised'], pooled['clairvoyant'])}")
    print("U2 mean response, mean over nights (min): " + ", ".join(
        f"{p} {_stat(statistics.mean, [r[p]['U2']['mean_response_s'] for r in with_u2], 60, '.1f')}"
        for p in POLICIES))
    for urgency in ("U2", "U3"):
        print(f"{urgency} p90 response, median over nights (min): " + ", ".join(
            f"{p} {_stat(statistics.median, [_p90(r[p][urgency]) for r in rows if urgency in r[p]], 60, '.1f')}"
            for p in POLICIES))
    print(f"optimised beats nearest on {beats}/{len(with_u2)} nights (U2 share higher, or equal with lower U2 p90)")
    print(f"optimised / clairvoyant U2 share: mean {_stat(statistics.mean, ratios, 1, '.3f')}, worst night "
          f"{_stat(min, ratios, 1, '.3f')}, nights below 0.95: {sum(r < 0.95 for r in ratios)}/{len(ratios)}")
    if misses:
        kinds = {kind: sum(m["kind"] == kind for m in late) for kind in ("out of reach", "traded", "avoidable",
                                                                           "reachable")}
        print(f"late U2 calls (optimised): {len(late)}, of which {kinds['out of reach']} out of reach of every nurse "
              f"when they came, {kinds['traded']} traded (on time only by making another waiting U2 late), "
              f"{kinds['avoidable']} avoidable with what was known"
              + (f", {kinds['reachable']} not classified (too many waiting)" if kinds["reachable"] else ""))
    print("decision ms p95 (optimised), median over nights: "
          f"{_stat(statistics.median, [r['optimised']['decision_ms_p95'] for r in rows], 1, '.0f')}")
    return rows


def _pooled(rows: list[dict], policy: str) -> tuple[int, int]:
    """U2 calls reached within target and U2 calls, over all the nights: each call counts once, so a night
    with many U2 calls weighs more than one with a single call (the mean of the nights' shares does not)."""
    n = sum(r[policy]["U2"]["n"] for r in rows)
    return sum(round(r[policy]["U2"]["within_target"] * r[policy]["U2"]["n"]) for r in rows), n


def _ratio(a: tuple[int, int], b: tuple[int, int]) -> str:
    """The ratio of two pooled shares over the same calls ('-' when the second reached none)."""
    return f"{a[0] / b[0]:.3f}" if b[0] else "-"


def _stat(how, values: list, unit: float, fmt: str) -> str:
    """A summary figure over the nights that have one ('-' when none has; an unserved p90 is 'unserved')."""
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    value = how(values)
    return "unserved" if value == math.inf else format(value / unit, fmt)


def _better(a: dict, b: dict) -> bool:
    sa, sb = a["U2"]["within_target"], b["U2"]["within_target"]
    if sa != sb:
        return sa > sb
    return _p90(a["U2"]) < _p90(b["U2"])


def _p90(kpi: dict) -> float:
    """p90 response in seconds; a group with unserved calls has none (worse than any)."""
    return math.inf if kpi["p90_response_s"] is None else kpi["p90_response_s"]
