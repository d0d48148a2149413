"""Live-channel benchmark: `nightcare bench live [--phones 200]`.

Starts the service (uvicorn subprocess, SQLite) with N nurses, each with a login and a phone on the live
channel (real websocket clients in this process). Then:
1. fan-out: one job assigned to every nurse (8 operators' requests in flight); latency = from sending the
   assignment to the phone receiving its `job.offered` (the HTTP request, commit and delivery included);
2. reconnect storm: every phone drops and reconnects at once, each with a backlog of 3 messages missed;
   time from reconnecting to holding the whole backlog, per phone, and for all of them.
"""
from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx
import websockets
from sqlmodel import Session
from websockets.asyncio.client import ClientConnection

import dispatch.models  # noqa: F401 - every table known to the ORM
from dispatch.auth.models import Role
from dispatch.auth.service import create_user
from dispatch.bench.intake import _percentile
from dispatch.clients.models import Client
from dispatch.db import make_engine
from dispatch.devtools.server import ServerProcess, nightcare, service_env
from dispatch.nurses.models import Nurse
from dispatch.organisations.models import Organisation
from dispatch.settings import Settings
from dispatch.timeutil import utcnow
from dispatch.visits.models import Visit

PASSWORD = "bench-password"


def _region(url: str, phones: int, jobs_per_nurse: int) -> list[tuple[int, list[int]]]:
    """N nurses with logins, and for each the visits the benchmark will assign to her."""
    settings = Settings(environment="test", database_url=url, password_memory_kib=8192, password_time_cost=1)
    engine = make_engine(url, pool_size=1)
    out = []
    with Session(engine) as s:
        org = Organisation(code="bench", name="Bench care")
        s.add(org)
        s.flush()
        assert org.id is not None
        client = Client(organisation_id=org.id, given_name="Bench", family_name="Client", street="Kerkstraat",
                        house_number="1", postcode="9401 AA", city="Assen", lat=52.99, lon=6.56)
        s.add(client)
        s.flush()
        assert client.id is not None
        start = utcnow() + timedelta(hours=1)
        for i in range(phones):
            nurse = Nurse(name=f"Nurse {i}", phone=f"+3161{i:07d}")
            s.add(nurse)
            s.flush()
            visits = [Visit(kind="planned", client_id=client.id, organisation_id=org.id, window_start=start,
                            window_end=start + timedelta(hours=1)) for _ in range(jobs_per_nurse)]
            s.add_all(visits)
            s.flush()
            create_user(s, settings=settings, username=f"n{i}", password=PASSWORD, role=Role.nurse, nurse_id=nurse.id)
            assert nurse.id is not None
            out.append((nurse.id, [v.id for v in visits if v.id is not None]))
        create_user(s, settings=settings, username="op", password=PASSWORD, role=Role.operator)
        s.commit()
    engine.dispose()
    return out


class _Phone:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.token, self.last_seq = url, token, 0
        self.ws: ClientConnection | None = None
        self.received: dict[int, float] = {}  # visit id -> when job.offered arrived
        self.got = asyncio.Event()
        self.expect = 0
        self.task: asyncio.Task | None = None

    async def connect(self) -> int:
        self.ws = ws = await websockets.connect(self.url, max_size=None)
        await ws.send(json.dumps({"type": "hello", "token": self.token, "last_seq": self.last_seq}))
        welcome = json.loads(await ws.recv())
        self.task = asyncio.create_task(self._read(ws))
        return int(welcome["last_seq"])

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] != "message":
                continue
            self.last_seq = frame["seq"]
            if frame["kind"] == "job.offered":
                self.received[frame["payload"]["visit_id"]] = time.perf_counter()
            await ws.send(json.dumps({"type": "ack", "seq": frame["seq"]}))
            if self.last_seq >= self.expect:
                self.got.set()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.task:
            self.task.cancel()


async def _measure(base: str, region: list[tuple[int, list[int]]], op: dict[str, str]) -> dict:
    ws_url = base.replace("http://", "ws://") + "/ws/nurse"
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        tokens = []
        for i in range(len(region)):
            r = await http.post("/api/auth/token", data={"username": f"n{i}", "password": PASSWORD})
            tokens.append(r.json()["access_token"])
        phones = [_Phone(ws_url, t) for t in tokens]
        await asyncio.gather(*(p.connect() for p in phones))

        sent: dict[int, float] = {}
        queue = list(enumerate(region))

        async def operator() -> None:
            while queue:
                _, (nurse_id, visits) = queue.pop(0)
                sent[visits[0]] = time.perf_counter()
                r = await http.post(f"/api/visits/{visits[0]}/assign", json={"nurse_id": nurse_id, "lock": True},
                                    headers=op)
                if r.status_code != 200:
                    raise RuntimeError(r.text)

        started = time.perf_counter()
        await asyncio.gather(*(operator() for _ in range(8)))
        deadline = time.perf_counter() + 60
        # Each phone's own reader task fills `received`; the benchmark polls them (no event to wait on).
        while (any(v[0] not in p.received for p, (_, v) in zip(phones, region, strict=True))  # noqa: ASYNC110
               and time.perf_counter() < deadline):
            await asyncio.sleep(0.01)
        fan_elapsed = time.perf_counter() - started
        latencies = [phones[i].received[v[0]] - sent[v[0]] for i, (_, v) in enumerate(region)
                     if v[0] in phones[i].received]

        # Reconnect storm: all phones away, 3 jobs each meanwhile, then all back at once.
        await asyncio.gather(*(p.close() for p in phones))
        for nurse_id, visits in region:
            for vid in visits[1:4]:
                r = await http.post(f"/api/visits/{vid}/assign", json={"nurse_id": nurse_id, "lock": True}, headers=op)
                if r.status_code != 200:
                    raise RuntimeError(r.text)
        storm_start = time.perf_counter()
        caught_up: list[float] = []

        async def back(p: _Phone) -> None:
            p.got.clear()
            p.expect = await p.connect()
            if p.last_seq < p.expect:
                await asyncio.wait_for(p.got.wait(), 60)
            caught_up.append(time.perf_counter() - storm_start)

        await asyncio.gather(*(back(p) for p in phones))
        storm_elapsed = time.perf_counter() - storm_start
        await asyncio.gather(*(p.close() for p in phones))
    return {"phones": len(region), "delivered": len(latencies),
            "p50_ms": 1000 * statistics.median(latencies), "p99_ms": 1000 * _percentile(latencies, 0.99),
            "max_ms": 1000 * max(latencies), "fan_out_s": fan_elapsed,
            "storm_p50_ms": 1000 * statistics.median(caught_up), "storm_p99_ms": 1000 * _percentile(caught_up, 0.99),
            "storm_all_s": storm_elapsed}


def run(*, phones: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="nightcare-bench-live-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'live.db'}"
        env = service_env(url)
        nightcare("db", "upgrade", env=env)
        region = _region(url, phones, jobs_per_nurse=4)
        server = ServerProcess(env, Path(tmp) / "server.log")
        server.start()
        try:
            token = httpx.post(f"{server.url}/api/auth/token", data={"username": "op", "password": PASSWORD},
                               timeout=30).json()["access_token"]
            result = asyncio.run(_measure(server.url, region, {"Authorization": f"Bearer {token}"}))
        finally:
            server.stop()
    print(f"{result['phones']} phones connected; one job to each (8 assignment requests in flight):")
    print(f"  delivered {result['delivered']}/{result['phones']} in {result['fan_out_s']:.2f} s; assignment → phone "
          f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, max {result['max_ms']:.0f} ms")
    print(f"reconnect storm: {result['phones']} phones back at once, 3 missed messages each: caught up "
          f"p50 {result['storm_p50_ms']:.0f} ms, p99 {result['storm_p99_ms']:.0f} ms, "
          f"all in {result['storm_all_s']:.2f} s")
    return result
