"""Fixtures: real databases (SQLite file and a throwaway PostgreSQL cluster), the app, a small world."""
from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dispatch import migrate
from dispatch.app import create_app
from dispatch.db import make_engine
from dispatch.devtools.postgres import OWNER, SERVICE, Cluster
from dispatch.settings import Settings
from tests.world import World, build_world

BACKENDS = ["sqlite", "postgresql"]
TEMPLATE_DB = "nightcare_template"
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster | None]:
    if os.environ.get("NIGHTCARE_TEST_PG") == "off":
        yield None
        return
    cluster = Cluster()
    cluster.start()
    try:
        # As in production: the owner migrates and grants; the service under test connects as SERVICE, which
        # may only read and write rows. Each test's database is a copy of this one, grants included.
        cluster.create_database(TEMPLATE_DB)
        migrate.upgrade(cluster.owner_url(TEMPLATE_DB))
        migrate.grant(cluster.owner_url(TEMPLATE_DB), SERVICE)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def fresh_database_url(backend: str, *, tmp_path: Path, sqlite_template: Path, pg_cluster: Cluster | None) -> str:
    """A new, migrated, empty database on the given backend; on PostgreSQL, the service role's URL."""
    if backend == "sqlite":
        path = tmp_path / f"nightcare-{next(_counter)}.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    if pg_cluster is None:
        pytest.skip("PostgreSQL disabled with NIGHTCARE_TEST_PG=off")
    name = f"test_{os.getpid()}_{next(_counter)}"
    pg_cluster.create_database(name, template=TEMPLATE_DB)
    return pg_cluster.service_url(name)


def owner_url(database_url: str) -> str:
    """The same database as its owner, who may change the schema and drop triggers (SQLite has no roles)."""
    return database_url.replace(f"//{SERVICE}@", f"//{OWNER}@", 1)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path: Path, sqlite_template: Path, pg_cluster: Cluster | None) -> str:
    return fresh_database_url(backend, tmp_path=tmp_path, sqlite_template=sqlite_template, pg_cluster=pg_cluster)


@pytest.fixture
def owner_database_url(database_url: str) -> str:
    return owner_url(database_url)


def test_settings(database_url: str, **overrides: Any) -> Settings:
    overrides.setdefault("throttled_login_delay_s", 0)  # a throttled login is answered at once in tests
    # The API tests of triage's mechanics walk version 1's questions (kept: calls triaged with it finish with
    # it), pinned as a region may pin a version. Version 2's content is judged by tests/protocols (the table of
    # night calls, the properties over every path), tests/test_triage_v2.py and the console's browser tests.
    overrides.setdefault("protocol_version", 1)
    return Settings(environment="test", database_url=database_url, keysafe_key=Fernet.generate_key().decode(),
                    password_memory_kib=8192, password_time_cost=1,
                    # In-process apps (TestClient) serve no reachable demo record system: fail at once (refused)
                    # rather than resolving "testserver"; tests/test_records.py reads it over real HTTP.
                    **{"demo_fhir_base_url": "http://127.0.0.1:9", **overrides})


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@pytest.fixture
def settings(database_url: str) -> Settings:
    return test_settings(database_url)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url, pool_size=5)
    yield engine
    engine.dispose()


@pytest.fixture
def app(settings: Settings, engine: Engine):
    return create_app(settings, engine=engine)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def world(engine: Engine, settings: Settings, client: TestClient) -> World:
    return build_world(engine, settings, client)
