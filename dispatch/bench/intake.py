"""Intake throughput benchmark: calls per second persisted through the real HTTP service.

`nightcare bench intake [--backend sqlite|postgresql|both] [--calls N]` starts the service (uvicorn
in a subprocess) on a fresh database, posts calls from 1 and from 50 concurrent clients, and prints
calls/s and latency percentiles. Every call counted got its 201, i.e. was committed (with its call event
and its hash-chained audit entry). PostgreSQL is set up as in production: the owner migrates and grants,
the service connects as a role that may only read and write rows.
"""
from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from dispatch.devtools.postgres import SERVICE, Cluster
from dispatch.devtools.server import nightcare, service_env, start_with_user


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _burst(url: str, headers: dict[str, str], *, calls: int, concurrency: int, tag: str) -> dict[str, float]:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(calls):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits,
                                 timeout=60) as client:

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                body = {"source": "alarm", "source_ref": f"{tag}-{i}", "caller_phone": f"+3159231{i % 10000:04d}",
                        "text": "personal alarm, no speech"}
                t0 = time.perf_counter()
                r = await client.post("/api/calls", json=body)
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 201:
                    raise RuntimeError(f"call {i}: {r.status_code} {r.text}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"calls": calls, "concurrency": concurrency, "calls_per_s": calls / elapsed,
            "p50_ms": 1000 * statistics.median(latencies), "p95_ms": 1000 * _percentile(latencies, 0.95),
            "p99_ms": 1000 * _percentile(latencies, 0.99)}


def _run_backend(name: str, database_url: str, workdir: Path, calls: int, workers: int,
                 owner_url: str = "") -> list[dict]:
    env = service_env(database_url, NIGHTCARE_MIGRATION_DATABASE_URL=owner_url)
    nightcare("db", "upgrade", env=env)
    if owner_url:
        nightcare("db", "grant", SERVICE, env=env)
    server, headers = start_with_user(env, workdir / f"{name}.log", username="bench", password="intake-load-runner",
                                      workers=workers)
    try:
        results = []
        for concurrency, n in ((1, max(50, calls // 4)), (50, calls)):
            asyncio.run(_burst(server.url, headers, calls=20, concurrency=concurrency, tag=f"warm-{concurrency}"))
            result = asyncio.run(_burst(server.url, headers, calls=n, concurrency=concurrency, tag=f"c{concurrency}"))
            results.append({"backend": name, "workers": workers, **result})
        return results
    finally:
        server.stop()


def run(*, backends: list[str], calls: int, workers: int) -> list[dict]:
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="nightcare-bench-") as tmp:
        workdir = Path(tmp)
        for backend in backends:
            if backend == "sqlite":
                results += _run_backend("sqlite", f"sqlite:///{workdir / 'bench.db'}", workdir, calls, 1)
            else:
                cluster = Cluster(durable=True)
                cluster.start()
                try:
                    cluster.create_database("bench")
                    results += _run_backend("postgresql", cluster.service_url("bench"), workdir, calls, workers,
                                            owner_url=cluster.owner_url("bench"))
                finally:
                    cluster.stop()
    return results


def print_table(results: list[dict]) -> None:
    print(f"{'backend':<11} {'workers':>7} {'clients':>7} {'calls':>6} {'calls/s':>8} {'p50 ms':>7} "
          f"{'p95 ms':>7} {'p99 ms':>7}")
    for r in results:
        print(f"{r['backend']:<11} {r['workers']:>7} {r['concurrency']:>7} {r['calls']:>6} {r['calls_per_s']:>8.1f} "
              f"{r['p50_ms']:>7.1f} {r['p95_ms']:>7.1f} {r['p99_ms']:>7.1f}")
