"""The live channel against a running server, with real websocket clients: a job reaches its nurse, a phone
that was away gets exactly what it missed (also across a restart), a stalled phone delays nobody else, and
with PostgreSQL a socket on one worker gets events made by another."""
from __future__ import annotations

import asyncio
import hashlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import websockets
from sqlmodel import Session, select

from dispatch.auth.models import AuthToken, User
from dispatch.db import make_engine
from dispatch.devtools.server import ServerProcess, nightcare, service_env
from dispatch.responders.models import NurseChannel, OutboxMessage
from dispatch.seed.demo import DEMO_PASSWORD
from tests.live_client import Phone

pytestmark = pytest.mark.slow


def _login(url: str, username: str) -> str:
    r = httpx.post(f"{url}/api/auth/token", data={"username": username, "password": DEMO_PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


# An afternoon in the demo region: no nurse on duty, so the planner leaves the jobs these tests hand out alone,
# whatever the wall clock says (the nurse app's test runs at four hours of the night and day).
AFTERNOON = "2026-01-14T13:00:00+01:00"


class Region:
    """The demo region served by a real `nightcare serve`, on a clock started at `clock_start`."""

    def __init__(self, database_url: str, tmp_path: Path, *, workers: int = 1, clock_start: str = AFTERNOON,
                 **env: str) -> None:
        self.env = service_env(database_url, NIGHTCARE_LIVE_HEARTBEAT_S="2", NIGHTCARE_LIVE_TOKEN_CHECK_S="0.5",
                               NIGHTCARE_CLOCK_START=clock_start, **env)
        self.log = tmp_path / "server.log"
        nightcare("db", "upgrade", env=self.env)
        nightcare("seed", env=self.env)
        self.server = ServerProcess(self.env, self.log, workers=workers)
        self.server.start()
        self.url = self.server.url
        self.op = {"Authorization": f"Bearer {_login(self.url, 'operator')}"}
        self.nurse_ids = {u: self._nurse_id(u) for u in ("nurse1", "nurse2")}

    def _nurse_id(self, username: str) -> int:
        token = _login(self.url, username)
        me = httpx.get(f"{self.url}/api/nurses", headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
        return me[0]["id"]

    def token(self, username: str) -> str:
        return _login(self.url, username)

    def planned_visits(self) -> list[int]:
        visits = httpx.get(f"{self.url}/api/visits", params={"limit": 1000}, headers=self.op, timeout=30).json()
        return [v["id"] for v in visits
                if v["kind"] == "planned" and v["state"] in ("open", "assigned") and not v["skills"]]

    def assign(self, visit_id: int, username: str) -> None:
        with httpx.Client(timeout=30) as fresh:  # a new connection each time (another worker, perhaps)
            r = fresh.post(f"{self.url}/api/visits/{visit_id}/assign",
                           json={"nurse_id": self.nurse_ids[username]}, headers=self.op)
        assert r.status_code == 200, r.text

    def release(self, visit_id: int) -> None:
        r = httpx.post(f"{self.url}/api/visits/{visit_id}/release", json={"reason": "test"}, headers=self.op,
                       timeout=30)
        assert r.status_code == 200, r.text

    def stop(self) -> None:
        self.server.stop()


def _offered(visit_id: int):
    return lambda m: m["kind"] == "job.offered" and m["payload"]["visit_id"] == visit_id


async def test_a_job_reaches_its_nurse_and_a_returning_phone_gets_what_it_missed(tmp_path: Path) -> None:
    region = Region(f"sqlite:///{tmp_path / 'nightcare.db'}", tmp_path)
    try:
        visits = region.planned_visits()
        phone = Phone(region.url, region.token("nurse1"))
        welcome = await phone.connect(last_seq=0)
        await phone.drain(welcome["last_seq"])  # what the night already held for her
        started = time.monotonic()
        region.assign(visits[0], "nurse1")
        await phone.wait_for(_offered(visits[0]), timeout=5)
        assert time.monotonic() - started < 1.0  # the assignment request included
        await asyncio.sleep(0.5)  # let re-plans settle, then go away
        while True:
            try:
                await phone.next_message(timeout=0.5)
            except TimeoutError:
                break
        seen = phone.last_seq
        await phone.close()

        region.assign(visits[1], "nurse1")
        region.assign(visits[2], "nurse1")
        welcome = await phone.connect()  # last_seq: the last message she saw
        missed = await phone.drain(welcome["last_seq"])
        seqs = [m["seq"] for m in missed]
        assert seqs == sorted(seqs) and all(seen < q <= welcome["last_seq"] for q in seqs)  # in order, only new
        assert phone.last_seq == welcome["last_seq"]
        offered = [m["payload"]["visit_id"] for m in missed if m["kind"] == "job.offered"]
        assert visits[1] in offered and visits[2] in offered
        assert offered.index(visits[1]) < offered.index(visits[2])
        await phone.close()

        region.server.kill()  # a crash: nothing flushed, nothing said goodbye
        region.server.start()
        region.assign(visits[3], "nurse1")
        seen = phone.last_seq
        welcome = await phone.connect()
        missed = await phone.drain(welcome["last_seq"])
        assert all(m["seq"] > seen for m in missed) and phone.last_seq == welcome["last_seq"]
        assert visits[3] in [m["payload"]["visit_id"] for m in missed if m["kind"] == "job.offered"]
        # Heartbeats keep an idle connection alive and tell the phone the line is up.
        frame = json.loads(await asyncio.wait_for(phone.ws.recv(), 5))
        assert frame["type"] in ("heartbeat", "message")
        await phone.close()
    finally:
        region.stop()


async def test_a_phone_away_all_night_is_sent_only_what_it_still_needs(tmp_path: Path) -> None:
    region = Region(f"sqlite:///{tmp_path / 'nightcare.db'}", tmp_path)
    try:
        v1, v2, v3 = region.planned_visits()[:3]
        region.assign(v1, "nurse1")
        region.assign(v2, "nurse1")
        region.release(v1)  # back to the planner
        region.assign(v2, "nurse2")  # moved to her colleague
        region.assign(v3, "nurse1")
        phone = Phone(region.url, region.token("nurse1"))  # a new phone (or one back after hours)
        welcome = await phone.connect(last_seq=0)
        got = await phone.drain(welcome["last_seq"])
        offered = {m["payload"]["visit_id"] for m in got if m["kind"] in ("job.offered", "job.updated")}
        cancelled = {m["payload"]["visit_id"] for m in got if m["kind"] == "job.cancelled"}
        assert v3 in offered and v1 not in offered and v2 not in offered  # no address she no longer needs
        assert {v1, v2} <= cancelled
        assert sum(m["kind"] == "plan.changed" for m in got) <= 1  # her newest route only
        await phone.close()
    finally:
        region.stop()


async def _closed_within(ws, seconds: float) -> tuple[int, float]:
    started = time.monotonic()
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), seconds)
    return closed.value.rcvd.code, time.monotonic() - started


async def test_a_socket_ends_when_its_login_ends(tmp_path: Path) -> None:
    """Logout, a disabled user, an expired login: the open socket is closed within seconds (it would otherwise keep
    receiving job offers with addresses). Bad frames end it with 4400, and nothing of it is a traceback in the log."""
    url = f"sqlite:///{tmp_path / 'nightcare.db'}"
    region = Region(url, tmp_path)
    try:
        token = region.token("nurse1")
        phone = Phone(region.url, token)
        await phone.connect(last_seq=0)
        r = await asyncio.to_thread(httpx.post, f"{region.url}/api/auth/logout",
                                    headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert r.status_code == 204
        code, took = await _closed_within(phone.ws, 5)
        assert code == 4401 and took < 3

        engine = make_engine(url, pool_size=1)
        board_token = region.token("operator")
        board = await websockets.connect(region.url.replace("http://", "ws://") + "/ws/operators")
        await board.send(json.dumps({"type": "hello", "token": board_token}))
        assert json.loads(await board.recv())["type"] == "welcome"
        phone = Phone(region.url, region.token("nurse1"))
        await phone.connect(last_seq=0)
        with Session(engine) as s:  # the operator's login expires; the nurse's user is disabled
            token_row = s.exec(select(AuthToken).where(AuthToken.token_hash == hashlib.sha256(
                board_token.encode()).hexdigest())).one()
            token_row.expires_at = datetime(2000, 1, 1, tzinfo=UTC)  # long gone, on any clock
            nurse = s.exec(select(User).where(User.username == "nurse1")).one()
            nurse.active = False
            s.add_all([token_row, nurse])
            s.commit()
        engine.dispose()
        assert (await _closed_within(board, 5))[0] == 4401
        assert (await _closed_within(phone.ws, 5))[0] == 4401

        nurse2 = Phone(region.url, region.token("nurse2"))
        await nurse2.connect(last_seq=0)
        await nurse2.ws.send(b"\x00\x01binary")
        assert (await _closed_within(nurse2.ws, 5))[0] == 4400
        await nurse2.connect(last_seq=0)
        await nurse2.ws.send("[1, 2")
        assert (await _closed_within(nurse2.ws, 5))[0] == 4400
        await nurse2.connect(last_seq=0)
        nurse2.ws.transport.abort()  # a phone that drops off the network
        await asyncio.sleep(1)
        assert "Traceback" not in region.log.read_text()
    finally:
        region.stop()


async def test_bad_hello_wrong_role_and_other_nurses_jobs(tmp_path: Path) -> None:
    region = Region(f"sqlite:///{tmp_path / 'nightcare.db'}", tmp_path)
    try:
        url = region.url.replace("http://", "ws://")
        async with websockets.connect(f"{url}/ws/nurse") as ws:
            await ws.send(json.dumps({"type": "hello", "token": "not-a-token"}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await ws.recv()
            assert closed.value.rcvd.code == 4401
        async with websockets.connect(f"{url}/ws/nurse") as ws:
            await ws.send(json.dumps({"type": "hello", "token": _login(region.url, "operator")}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await ws.recv()
            assert closed.value.rcvd.code == 4403
        async with websockets.connect(f"{url}/ws/nurse") as ws:
            await ws.send("{not json")
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await ws.recv()
            assert closed.value.rcvd.code == 4400
        # nurse2 never receives nurse1's job.
        visit = region.planned_visits()[0]
        one, two = Phone(region.url, region.token("nurse1")), Phone(region.url, region.token("nurse2"))
        await two.drain((await two.connect(last_seq=0))["last_seq"])
        await one.drain((await one.connect(last_seq=0))["last_seq"])
        board = await websockets.connect(f"{url}/ws/operators")
        await board.send(json.dumps({"type": "hello", "token": _login(region.url, "operator")}))
        assert json.loads(await board.recv())["type"] == "welcome"
        region.assign(visit, "nurse1")
        await one.wait_for(_offered(visit))
        with pytest.raises(TimeoutError):
            await two.wait_for(_offered(visit), timeout=1.5)
        # The operators' board hears of calls as they come in.
        r = await asyncio.to_thread(httpx.post, f"{region.url}/api/calls", json={
            "source": "alarm", "source_ref": "live-1", "caller_phone": "+31592000001"}, headers=region.op)
        assert r.status_code == 201
        while True:
            event = json.loads(await asyncio.wait_for(board.recv(), 5))
            if event["type"] == "event" and event["kind"] == "call.changed" and event["call"]["id"] == r.json()["id"]:
                assert event["call"]["state"] == "received" and event["call"]["waiting_for_triage"] is True
                break
        await board.close()
        await one.close()
        await two.close()
    finally:
        region.stop()


async def test_a_stalled_phone_does_not_delay_the_others(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nightcare.db'}"
    region = Region(url, tmp_path)
    try:
        # nurse2's phone is on a dead connection with 20 MB waiting for it.
        engine = make_engine(url, pool_size=1)
        stalled_id = region.nurse_ids["nurse2"]
        with Session(engine) as s:
            channel = s.get(NurseChannel, stalled_id) or NurseChannel(nurse_id=stalled_id)
            for _ in range(300):
                channel.last_seq += 1
                s.add(OutboxMessage(nurse_id=stalled_id, seq=channel.last_seq, kind="plan.changed",
                                    payload={"padding": "x" * 65_000}))
            s.add(channel)
            s.commit()
        engine.dispose()
        stalled = Phone(region.url, region.token("nurse2"))
        await stalled.connect(last_seq=0, max_queue=1, max_size=None)  # and then never reads
        await asyncio.sleep(1.0)  # the server is now blocked writing to it

        phone = Phone(region.url, region.token("nurse1"))
        await phone.drain((await phone.connect(last_seq=0))["last_seq"])
        visit = region.planned_visits()[0]
        started = time.monotonic()
        region.assign(visit, "nurse1")
        await phone.wait_for(_offered(visit), timeout=5)
        assert time.monotonic() - started < 1.0
        await phone.close()
        stalled.ws.transport.abort()
    finally:
        region.stop()


async def test_postgresql_events_reach_sockets_on_every_worker(tmp_path: Path, database_url: str, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("cross-worker delivery is the PostgreSQL set-up")
    region = Region(database_url, tmp_path, workers=2)
    try:
        visits = region.planned_visits()[:8]
        phone = Phone(region.url, region.token("nurse1"))
        await phone.drain((await phone.connect(last_seq=0))["last_seq"])
        for visit in visits:  # each from a new connection: the two workers share them
            region.assign(visit, "nurse1")
        pending = set(visits)
        while pending:
            message = await phone.next_message(timeout=5)
            if message["kind"] == "job.offered":
                pending.discard(message["payload"]["visit_id"])
        await phone.close()
    finally:
        region.stop()
