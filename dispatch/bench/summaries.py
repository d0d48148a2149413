"""Summary-fetch benchmark: `nightcare bench summaries [--clients N]`.

Starts the real service (`nightcare serve`, SQLite, the demo region seeded) and fetches client summaries through
`GET /api/clients/{id}/summary` as the coordinator: each client once from her organisation's demo record system
(cold: sign-in, patient search, then `$summary` or the eight searches), then again from the night's encrypted cache
(warm). Prints p50/p95 per path. Figures, not a test: nothing here asserts a time."""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import httpx

from dispatch.devtools.server import ServerProcess, nightcare, service_env

SUMMARY_ORGS = ("de-brink", "midden-drenthe")  # adapters/fhir/demo_server.py; client n is at org (n-1) % 4
ORGS = ("de-brink", "drentsche-aa", "midden-drenthe", "vaart-en-wijk")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def run(*, clients: int = 120) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        env = service_env(f"sqlite:///{Path(tmp) / 'bench.db'}")
        nightcare("db", "upgrade", env=env)
        nightcare("seed", env=env)
        server = ServerProcess(env, Path(tmp) / "server.log")
        server.start()
        try:
            token = httpx.post(f"{server.url}/api/auth/token",
                               data={"username": "coordinator", "password": "nightcare-demo"}, timeout=30)
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            times: dict[str, list[float]] = {"cold, $summary": [], "cold, searches": [], "warm (cached)": []}
            unavailable = 0
            with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
                http.get("/api/clients/1/summary")  # first use: imports, connections (not counted)
                for rnd in ("cold", "warm"):
                    for n in range(2, clients + 2):
                        started = time.perf_counter()
                        r = http.get(f"/api/clients/{n}/summary")
                        took = (time.perf_counter() - started) * 1000
                        body = r.json()
                        if r.status_code != 200 or not body["available"]:
                            unavailable += 1
                            continue
                        if rnd == "warm":
                            times["warm (cached)"].append(took)
                        else:
                            org = ORGS[(n - 1) % len(ORGS)]
                            times["cold, $summary" if org in SUMMARY_ORGS else "cold, searches"].append(took)
            times["_unavailable"] = [float(unavailable)]
            return times
        finally:
            server.stop()


def print_table(times: dict[str, list[float]]) -> None:
    print(f"{'summary fetch (ms, through the API)':<38}{'n':>5}{'p50':>9}{'p95':>9}{'mean':>9}")
    for name, values in times.items():
        if name.startswith("_"):
            continue
        print(f"{name:<38}{len(values):>5}{_pct(values, 0.5):>9.1f}{_pct(values, 0.95):>9.1f}"
              f"{statistics.fmean(values) if values else float('nan'):>9.1f}")
    cold = times["cold, $summary"] + times["cold, searches"]
    print(f"{'cold, all':<38}{len(cold):>5}{_pct(cold, 0.5):>9.1f}{_pct(cold, 0.95):>9.1f}")
    print(f"unavailable answers: {int(times['_unavailable'][0])} (must be 0)")
