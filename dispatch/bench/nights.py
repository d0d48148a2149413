"""Generated nights: `optimised` against `nearest` and `clairvoyant` (share of U2 reached within target,
p90 response per urgency). `nightcare bench nights --nights 20 --calls 30`"""
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
        foresight: int = 0) -> list[dict]:
    rows, late = [], []
    if foresight:
        print(f"foresight: nearest and optimised learn of each call {foresight} s before it comes "
              "(a measurement of the value of earlier information, not a policy)")
    print(f"{'night':<18} " + "  ".join(f"{p + ' U2 / U3':<38}" for p in POLICIES))
    for seed in range(1, count + 1):
        scenario = generate(seed=seed, calls=calls, planned=planned, nurses=nurses)
        nights = {p: simulate(scenario, p, time_limit_s=time_limit, foresight_s=foresight) for p in POLICIES}
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
    share = {p: [r[p]["U2"]["within_target"] for r in rows if "U2" in r[p]] for p in POLICIES}
    beats = sum(1 for r in rows if _better(r["optimised"], r["nearest"]))
    ratios = [o / c for o, c in zip(share["optimised"], share["clairvoyant"]) if c > 0]
    print(f"\nU2 within target, mean over {len(rows)} nights: "
          + ", ".join(f"{p} {statistics.mean(share[p]):.3f}" for p in POLICIES))
    print("U2 mean response, mean over nights (min): " + ", ".join(
        f"{p} {statistics.mean([r[p]['U2']['mean_response_s'] for r in rows if r[p].get('U2', {}).get('mean_response_s') is not None]) / 60:.1f}"
        for p in POLICIES))
    for urgency in ("U2", "U3"):
        print(f"{urgency} p90 response, median over nights (min): " + ", ".join(
            f"{p} {statistics.median([_p90(r[p][urgency]) for r in rows if urgency in r[p]]) / 60:.1f}"
            for p in POLICIES))
    print(f"optimised beats nearest on {beats}/{len(rows)} nights (U2 share higher, or equal with lower U2 p90)")
    print(f"optimised / clairvoyant U2 share: mean {statistics.mean(ratios):.3f}, worst night {min(ratios):.3f}")
    if misses:
        out = sum(m["kind"] == "out of reach" for m in late)
        print(f"late U2 calls (optimised): {len(late)}, of which {out} out of reach of every nurse when they came")
    print("decision ms p95 (optimised), median over nights: "
          f"{statistics.median([r['optimised']['decision_ms_p95'] for r in rows]):.0f}")
    return rows


def _better(a: dict, b: dict) -> bool:
    sa, sb = a["U2"]["within_target"], b["U2"]["within_target"]
    if sa != sb:
        return sa > sb
    return _p90(a["U2"]) < _p90(b["U2"])


def _p90(kpi: dict) -> float:
    """p90 response in seconds; a group with unserved calls has none (worse than any)."""
    return math.inf if kpi["p90_response_s"] is None else kpi["p90_response_s"]
