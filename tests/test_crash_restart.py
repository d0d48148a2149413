"""An acknowledged call survives a crash: SIGKILL the real server mid-burst and restart it."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from dispatch.devtools.server import nightcare, service_env, start_with_user

CALLS = 100
KILL_AFTER = 70


@pytest.mark.slow
def test_every_acknowledged_call_survives_sigkill_and_restart(tmp_path: Path) -> None:
    env = service_env(f"sqlite:///{tmp_path / 'nightcare.db'}")
    nightcare("db", "upgrade", env=env)
    server, headers = start_with_user(env, tmp_path / "server.log", username="op", password="burst-and-crash-test")
    try:
        acknowledged: dict[str, int] = {}
        lock = threading.Lock()
        killed = threading.Event()

        def post(i: int) -> None:
            ref = f"crash-{i:03d}"
            body = {"source": "alarm", "source_ref": ref, "caller_phone": f"+3159230{i:04d}", "text": f"alarm {i}"}
            try:
                r = httpx.post(f"{server.url}/api/calls", json=body, headers=headers, timeout=10)
            except httpx.TransportError:
                return  # not acknowledged: the server died under this request
            if r.status_code == 201:
                with lock:
                    acknowledged[ref] = r.json()["id"]
                    if len(acknowledged) >= KILL_AFTER and not killed.is_set():
                        killed.set()
                        server.kill()

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(post, range(CALLS)))
        assert killed.is_set() and len(acknowledged) >= KILL_AFTER

        server.start()
        for ref, call_id in acknowledged.items():
            r = httpx.get(f"{server.url}/api/calls/{call_id}", headers=headers)
            assert r.status_code == 200, f"acknowledged call {ref} lost"
            call = r.json()
            assert call["source_ref"] == ref and call["state"] == "received"
            assert [e["to_state"] for e in call["events"]] == ["received"]

        # The sources retry what was not acknowledged: nothing is duplicated, everything arrives.
        for i in range(CALLS):
            ref = f"crash-{i:03d}"
            r = httpx.post(f"{server.url}/api/calls", json={"source": "alarm", "source_ref": ref}, headers=headers)
            assert r.status_code == (200 if ref in acknowledged else r.status_code)
            if ref in acknowledged:
                assert r.json()["id"] == acknowledged[ref]
        listed = httpx.get(f"{server.url}/api/calls", params={"limit": 500}, headers=headers).json()
        assert sorted(c["source_ref"] for c in listed) == [f"crash-{i:03d}" for i in range(CALLS)]
    finally:
        server.stop()


@pytest.mark.slow
def test_a_burst_from_50_concurrent_sources_is_all_acknowledged(database_url: str, tmp_path: Path) -> None:
    """A calamity burst: no call gets a 5xx because threads or connections ran out."""
    server, headers = start_with_user(service_env(database_url), tmp_path / "server.log", username="op",
                                      password="burst-and-crash-test")
    try:
        with httpx.Client(headers=headers, timeout=60, limits=httpx.Limits(max_connections=50)) as http:
            def post(i: int) -> int:
                return http.post(f"{server.url}/api/calls",
                                 json={"source": "alarm", "source_ref": f"burst-{i}"}).status_code

            with ThreadPoolExecutor(max_workers=50) as pool:
                statuses = list(pool.map(post, range(250)))
        assert statuses.count(201) == 250, sorted(set(statuses))
        listed = httpx.get(f"{server.url}/api/calls", params={"limit": 500}, headers=headers).json()
        assert len(listed) == 250
    finally:
        server.stop()
