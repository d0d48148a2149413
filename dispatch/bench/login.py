"""Login-flood benchmark: does a flood of wrong passwords hurt call intake?

`nightcare bench login [--backend sqlite|postgresql|both] [--duration S] [--clients N]` starts the real
service (uvicorn in a subprocess, Argon2 at its production cost) on a fresh database and runs a steady
intake load (a call every `interval` seconds, spread over a few clients) twice for `duration` seconds:
alone, then while `clients` attackers send wrong-password logins as fast as the service answers, from
many distinct usernames, all from the loopback address (so the per-address budget is what stops them).
With `--distinct-addresses` the service trusts X-Forwarded-For and every attacker request claims its own
address, as a distributed attack would: then only the per-username budgets and the hashing slots bound
the Argon2 work. It prints what was sent, the 5xx (must be 0), 429 and 401 counts, dropped connections,
and intake latency percentiles with and without the flood.

Traffic goes only to the service on 127.0.0.1; every loop stops at its deadline. The attackers run in a
process of their own, so their client-side work does not slow down the intake clients' clock.
"""
from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from dispatch.devtools.postgres import Cluster
from dispatch.devtools.server import nightcare, service_env, start_with_user

USERNAME, PASSWORD = "bench-operator", "intake-load-runner"
# The flood's wrong guesses name a real user now and then, and otherwise a new username each time.
REAL_USER_EVERY = 10


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


async def _intake(url: str, headers: dict[str, str], *, clients: int, interval: float, duration: float,
                  tag: str) -> dict:
    """`clients` clients, each posting a call every clients × interval seconds (staggered): one call per
    `interval` in all."""
    latencies: list[float] = []
    counts = {"sent": 0, "ok": 0, "5xx": 0, "other": 0, "dropped": 0}
    numbers = itertools.count()
    period = clients * interval
    deadline = time.monotonic() + duration
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30,
                                 limits=httpx.Limits(max_connections=clients)) as http:

        async def client(k: int) -> None:
            await asyncio.sleep(k * interval)
            next_at = time.monotonic()
            while next_at < deadline:
                i = next(numbers)
                body = {"source": "alarm", "source_ref": f"{tag}-{i}", "caller_phone": f"+3159231{i % 10000:04d}",
                        "text": "personal alarm, no speech"}
                counts["sent"] += 1
                t0 = time.perf_counter()
                try:
                    r = await http.post("/api/calls", json=body)
                except httpx.TransportError:
                    counts["dropped"] += 1
                else:
                    latencies.append(time.perf_counter() - t0)
                    kind = "ok" if r.status_code == 201 else "5xx" if r.status_code >= 500 else "other"
                    counts[kind] += 1
                next_at += period
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))

        await asyncio.gather(*(client(k) for k in range(clients)))
    return {**counts, "p50_ms": 1000 * _percentile(latencies, 0.5), "p99_ms": 1000 * _percentile(latencies, 0.99),
            "max_ms": 1000 * max(latencies, default=float("nan"))}


async def _flood(url: str, *, clients: int, duration: float, distinct_addresses: bool) -> dict:
    counts = {"sent": 0, "401": 0, "429": 0, "busy": 0, "5xx": 0, "other": 0, "dropped": 0}
    guesses = itertools.count()
    deadline = time.monotonic() + duration
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=clients)) as http:

        async def attacker(k: int) -> None:
            while time.monotonic() < deadline:
                i = next(guesses)
                username = USERNAME if i % REAL_USER_EVERY == 0 else f"flood-{k}-{i}"
                headers = {"X-Forwarded-For": f"127.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"} \
                    if distinct_addresses else None
                counts["sent"] += 1
                try:
                    r = await http.post("/api/auth/token", data={"username": username, "password": f"guess-{i}"},
                                        headers=headers)
                except httpx.TransportError:
                    counts["dropped"] += 1
                    continue
                if r.status_code == 429 and "at once" in r.json()["detail"]:
                    kind = "busy"  # no hashing slot free in time (the others: a spent failed-login budget)
                else:
                    kind = str(r.status_code) if r.status_code in (401, 429) else \
                        "5xx" if r.status_code >= 500 else "other"
                counts[kind] += 1

        await asyncio.gather(*(attacker(k) for k in range(clients)))
    return counts


def _flood_process(url: str, clients: int, duration: float, distinct_addresses: bool, started, results) -> None:
    started.set()
    results.put(asyncio.run(_flood(url, clients=clients, duration=duration, distinct_addresses=distinct_addresses)))


def _run_backend(name: str, database_url: str, workdir: Path, *, duration: float, clients: int,
                 intake_clients: int, interval: float, distinct_addresses: bool) -> list[dict]:
    # Argon2 at the production cost (service_env makes it cheap for tests): the flood is about that cost.
    env = service_env(database_url, NIGHTCARE_PASSWORD_MEMORY_KIB="65536", NIGHTCARE_PASSWORD_TIME_COST="3",
                      NIGHTCARE_TRUST_FORWARDED_FOR="true" if distinct_addresses else "false")
    nightcare("db", "upgrade", env=env)
    server, headers = start_with_user(env, workdir / f"{name}.log", username=USERNAME, password=PASSWORD)
    rows = []
    try:
        asyncio.run(_intake(server.url, headers, clients=intake_clients, interval=interval, duration=2, tag="warm"))
        baseline = asyncio.run(_intake(server.url, headers, clients=intake_clients, interval=interval,
                                       duration=duration, tag="alone"))
        rows.append({"backend": name, "phase": "alone", "intake": baseline, "flood": None})
        ctx = multiprocessing.get_context("spawn")
        started, results = ctx.Event(), ctx.Queue()
        flood = ctx.Process(target=_flood_process,
                            args=(server.url, clients, duration, distinct_addresses, started, results))
        flood.start()
        try:
            if not started.wait(60):
                raise RuntimeError("the flood process did not start")
            during = asyncio.run(_intake(server.url, headers, clients=intake_clients, interval=interval,
                                         duration=duration, tag="flood"))
            counts = results.get(timeout=duration + 120)
        finally:
            flood.join(timeout=30)
            if flood.is_alive():
                flood.kill()
        rows.append({"backend": name, "phase": f"flood×{clients}", "intake": during, "flood": counts})
        return rows
    finally:
        server.stop()


def run(*, backends: list[str], duration: float, clients: int, intake_clients: int = 4, interval: float = 0.1,
        distinct_addresses: bool = False) -> list[dict]:
    rows: list[dict] = []
    options: dict[str, Any] = {"duration": duration, "clients": clients, "intake_clients": intake_clients,
                               "interval": interval, "distinct_addresses": distinct_addresses}
    with tempfile.TemporaryDirectory(prefix="nightcare-bench-") as tmp:
        workdir = Path(tmp)
        for backend in backends:
            if backend == "sqlite":
                rows += _run_backend("sqlite", f"sqlite:///{workdir / 'bench.db'}", workdir, **options)
            else:
                cluster = Cluster(durable=True)
                cluster.start()
                try:
                    cluster.create_database("bench")
                    rows += _run_backend("postgresql", cluster.url("bench"), workdir, **options)
                finally:
                    cluster.stop()
    return rows


def print_table(rows: list[dict], *, duration: float, interval: float, distinct_addresses: bool) -> None:
    source = "a distinct X-Forwarded-For address per request" if distinct_addresses else "127.0.0.1"
    print(f"intake: one call every {interval * 1000:.0f} ms for {duration:.0f} s; flood: wrong passwords from "
          f"{source}, many distinct usernames (every {REAL_USER_EVERY}th a real one); Argon2id 64 MiB, t=3")
    print(f"{'backend':<11} {'phase':<9} | {'calls':>5} {'5xx':>4} {'drop':>4} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'max ms':>7} | {'logins':>7} {'/s':>6} {'401':>5} {'429':>7} {'busy':>5} {'5xx':>4} {'other':>5} "
          f"{'drop':>4}")
    for row in rows:
        i, f = row["intake"], row["flood"]
        intake = (f"{i['sent']:>5} {i['5xx']:>4} {i['dropped']:>4} {i['p50_ms']:>7.1f} {i['p99_ms']:>7.1f} "
                  f"{i['max_ms']:>7.1f}")
        if i["other"]:
            intake += f" ({i['other']} other)"
        flood = (f"{f['sent']:>7} {f['sent'] / duration:>6.0f} {f['401']:>5} {f['429']:>7} {f['busy']:>5} "
                 f"{f['5xx']:>4} {f['other']:>5} {f['dropped']:>4}") if f else f"{'-':>7}"
        print(f"{row['backend']:<11} {row['phase']:<9} | {intake} | {flood}")
    print("429: a spent failed-login budget (username or address); busy: a 429 for want of a hashing slot")
    worst = [r for r in rows if r["intake"]["5xx"] or (r["flood"] and r["flood"]["5xx"])]
    print("5xx: none" if not worst else f"5xx seen in {len(worst)} run(s)")

