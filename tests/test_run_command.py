"""`nightcare run` (what `make run` calls): migrate, seed, print URLs and logins, serve."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dispatch.devtools.postgres import free_port
from dispatch.devtools.server import service_env
from dispatch.seed.demo import DEMO_PASSWORD


@pytest.mark.slow
def test_run_serves_the_seeded_demo_and_prints_logins(tmp_path: Path) -> None:
    port = free_port()
    env = service_env(f"sqlite:///{tmp_path / 'demo.db'}", NIGHTCARE_ENVIRONMENT="development")
    out = tmp_path / "run.log"
    with open(out, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "dispatch.cli", "run", "--port", str(port)], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert proc.poll() is None, out.read_text()
                time.sleep(0.2)
        printed = out.read_text()
        assert f"{base}/docs" in printed and f"password for all: {DEMO_PASSWORD}" in printed
        for username in ("operator", "coordinator", "nurse1", "partner-de-brink"):
            assert username in printed
        token = httpx.post(f"{base}/api/auth/token",
                           data={"username": "partner-de-brink", "password": DEMO_PASSWORD}).json()["access_token"]
        clients = httpx.get(f"{base}/api/clients", params={"limit": 500},
                            headers={"Authorization": f"Bearer {token}"}).json()
        assert len(clients) == 75 and len({c["organisation_id"] for c in clients}) == 1
        # Summaries out of the box: the organisation's demo record system is served by this same process.
        summary = httpx.get(f"{base}/api/clients/{clients[0]['id']}/summary",
                            headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
        assert summary["available"] is True and summary["source"] == "Thuiszorg De Brink", summary
        assert httpx.get(base).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
