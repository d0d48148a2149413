"""Run the real service (`nightcare serve`, uvicorn) in a subprocess for end-to-end tests."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from dispatch.devtools.postgres import free_port


def nightcare(*args: str, env: dict[str, str], input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dispatch.cli", *args], env=env, check=True,
                          capture_output=True, text=True, input=input)


class ServerProcess:
    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 1) -> None:
        self.env = env
        self.workers = workers
        self.port = free_port()
        self.log = log
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> None:  # a loaded 2-core machine starts several workers slowly
        log = open(self.log, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen([sys.executable, "-m", "dispatch.cli", "serve", "--port", str(self.port),
                                      "--workers", str(self.workers)],
                                     env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not become healthy")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flush — a crash."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def service_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NIGHTCARE_")}
    env.update({"NIGHTCARE_DATABASE_URL": database_url, "NIGHTCARE_ENVIRONMENT": "test",
                "NIGHTCARE_PASSWORD_MEMORY_KIB": "8192", "NIGHTCARE_PASSWORD_TIME_COST": "1", **extra})
    return env


def start_with_user(env: dict[str, str], log: Path, *, username: str, password: str, role: str = "operator",
                    workers: int = 1) -> tuple[ServerProcess, dict[str, str]]:
    """Create a user, start the service and log in: (server, authorization headers)."""
    nightcare("user", "add", "--role", role, "--username", username, "--password-stdin", env=env, input=password + "\n")
    server = ServerProcess(env, log, workers=workers)
    server.start()
    token = httpx.post(f"{server.url}/api/auth/token", data={"username": username, "password": password},
                       timeout=30).json()["access_token"]
    return server, {"Authorization": f"Bearer {token}"}
