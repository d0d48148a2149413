"""A throwaway PostgreSQL cluster (tests and benchmarks), from Debian's server binaries."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def server_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The roles of a production set-up (docs/security.md): the owner runs migrations and owns the tables; the
# service connects as a role that may only read and write rows (`nightcare db grant`).
OWNER = "nightcare_owner"
SERVICE = "nightcare_service"


class Cluster:
    """initdb + pg_ctl in a temporary directory; as root, the server runs as the `postgres` user.

    `user` is the cluster's superuser (administration only); databases made with `create_database` belong to
    OWNER, and SERVICE is the role the service under test connects as (`owner_url`, `service_url`)."""

    def __init__(self, *, durable: bool = False) -> None:
        # Tests run without fsync (speed); benchmarks run durable, as production would.
        self.durable = durable
        bindir = server_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found: run the suite with `make test`, "
                               "which installs Debian's postgresql package")
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="nightcare-pg-"))
        self.port = free_port()
        self.user = "nightcare"
        self._as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            pwd.getpwnam("postgres")
            shutil.chown(self.root, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        data = self.root / "data"
        self._run(str(self.bindir / "initdb"), "-D", str(data), "-U", self.user, "-A", "trust",
                  "-E", "UTF8", "--no-sync", "--locale=C")
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=300"
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")
        self._admin(f"CREATE ROLE {OWNER} LOGIN", f"CREATE ROLE {SERVICE} LOGIN")

    def _admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> None:
        """A database owned by OWNER (a copy of `template`, its tables, grants and triggers included)."""
        self._admin(f"CREATE DATABASE {name} OWNER {OWNER}" + (f" TEMPLATE {template}" if template else ""))

    def url(self, database: str = "postgres", user: str | None = None) -> str:
        """The URL of `database` as `user` (default: the cluster's superuser)."""
        return f"postgresql+psycopg://{user or self.user}@127.0.0.1:{self.port}/{database}"

    def owner_url(self, database: str) -> str:
        return self.url(database, OWNER)

    def service_url(self, database: str) -> str:
        return self.url(database, SERVICE)
