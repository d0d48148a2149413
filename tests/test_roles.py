"""PostgreSQL roles: migrations run as the owner (NIGHTCARE_MIGRATION_DATABASE_URL), the service as a role
that `nightcare db grant` lets read and write rows and nothing else. (Every PostgreSQL test in the suite runs
the service as that role: see conftest.py.)"""
from __future__ import annotations

import io
import itertools
import os

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from dispatch import cli
from dispatch.db import make_engine
from dispatch.devtools.postgres import OWNER, SERVICE, Cluster
from dispatch.settings import Settings

_names = itertools.count()


@pytest.fixture
def empty_database(pg_cluster: Cluster | None) -> tuple[Cluster, str]:
    """A new database owned by OWNER, not migrated, with no grants."""
    if pg_cluster is None:
        pytest.skip("PostgreSQL disabled with NIGHTCARE_TEST_PG=off")
    name = f"roles_{os.getpid()}_{next(_names)}"
    pg_cluster.create_database(name)
    return pg_cluster, name


def _nightcare(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str,
               database_url: str, migration_url: str = "") -> tuple[int, str]:
    monkeypatch.setenv("NIGHTCARE_ENVIRONMENT", "test")
    monkeypatch.setenv("NIGHTCARE_DATABASE_URL", database_url)
    monkeypatch.setenv("NIGHTCARE_MIGRATION_DATABASE_URL", migration_url)
    try:
        cli.main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        print(exc.code)
    out = capsys.readouterr()
    return code, out.out + out.err


def _run(url: str, *statements: str) -> list:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.begin() as conn:
            return [conn.execute(text(s)).all() if s.lstrip().upper().startswith("SELECT") else conn.execute(text(s))
                    for s in statements]
    finally:
        engine.dispose()


def test_migrations_use_the_owners_url_when_one_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://service:s@db/nightcare")
    assert Settings().migration_url == "postgresql+psycopg://service:s@db/nightcare"
    monkeypatch.setenv("NIGHTCARE_MIGRATION_DATABASE_URL", "postgresql://owner:o@db/nightcare")
    assert Settings().migration_url == "postgresql+psycopg://owner:o@db/nightcare"
    assert Settings().database_url == "postgresql+psycopg://service:s@db/nightcare"


def test_the_owner_migrates_and_grants_and_the_service_role_reads_and_writes_rows_only(
        empty_database: tuple[Cluster, str], monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    cluster, name = empty_database
    service, owner = cluster.service_url(name), cluster.owner_url(name)
    env = {"database_url": service, "migration_url": owner}
    assert _nightcare(monkeypatch, capsys, "db", "upgrade", **env)[0] == 0
    with pytest.raises(DatabaseError, match="permission denied"):  # nothing before the grant
        _run(service, "SELECT count(*) FROM calls")

    code, out = _nightcare(monkeypatch, capsys, "db", "grant", SERVICE, **env)
    assert code == 0 and f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {SERVICE};" in out
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough passphrase for the night\n"))
    assert _nightcare(monkeypatch, capsys, "user", "add", "--role", "coordinator", "--username", "coord",
                      "--password-stdin", **env)[0] == 0
    assert _run(service, "SELECT username FROM users")[0] == [("coord",)]
    # A table a later migration creates (as the owner) is the service's to read and write too.
    _run(owner, "CREATE TABLE later (id serial PRIMARY KEY, note text)")
    _run(service, "INSERT INTO later (note) VALUES ('written by the service')", "UPDATE later SET note = 'changed'",
         "DELETE FROM later")
    for ddl in ("CREATE TABLE mine (id int)", "DROP TABLE later", "ALTER TABLE users ADD COLUMN extra int",
                "TRUNCATE later", "CREATE INDEX ix_mine ON users (role)"):
        with pytest.raises(DatabaseError, match=r"permission denied|must be owner"):
            _run(service, ddl)


def test_grant_refuses_a_role_that_could_switch_the_triggers_off(
        empty_database: tuple[Cluster, str], monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    cluster, name = empty_database
    env = {"database_url": cluster.service_url(name), "migration_url": cluster.owner_url(name)}
    for role, why in ((OWNER, "the owner of the tables"), (cluster.user, "is a superuser"),
                      ("nobody", "no role 'nobody'")):
        code, out = _nightcare(monkeypatch, capsys, "db", "grant", role, **env)
        assert code == 1 and why in out, out
    code, out = _nightcare(monkeypatch, capsys, "db", "grant", SERVICE, database_url="sqlite:///x.db")
    assert code == 1 and "SQLite has none" in out
