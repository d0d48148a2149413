"""Tamper-evident records (both databases): append-only tables, the audit log's hash chain and
`nightcare audit verify`, and on PostgreSQL a service role that cannot switch the protection off."""
from __future__ import annotations

import os
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, col, select

from dispatch import cli, migrate
from dispatch.audit import chain
from dispatch.audit import service as audit
from dispatch.audit.models import AuditEntry
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.calls.models import Call
from dispatch.db import UTCDateTime, make_engine
from dispatch.triage import runs
from tests.test_triage import SAFE, decide, new_call, run_triage
from tests.world import World

APPEND_ONLY = ("audit_entries", "call_events", "triages")
CLERK = Principal(user_id=None, username="clerk", role=Role.coordinator, organisation_id=None, nurse_id=None)


def _entries(engine: Engine) -> list[AuditEntry]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEntry).order_by(col(AuditEntry.seq))))


def _reads(world: World, count: int) -> None:
    for _ in range(count):
        r = world.client.get(f"/api/clients/{world.clients['a1']}", headers=world.h("coordinator"))
        assert r.status_code == 200


def verify(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
           *args: str) -> tuple[int, str]:
    """`nightcare audit verify` against the database (as the service role on PostgreSQL): (exit code, output)."""
    monkeypatch.setenv("NIGHTCARE_DATABASE_URL", database_url)
    monkeypatch.setenv("NIGHTCARE_ENVIRONMENT", "test")
    try:
        cli.main(["audit", "verify", *args])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
        print(exc.code)
    out = capsys.readouterr()
    return code, out.out + out.err


def tamper(owner_url: str, table: str, *statements: str) -> None:
    """What the owner can do and the service cannot: switch the append-only trigger off and change rows.

    SQLite has no roles: anyone with the file drops the triggers through a raw connection."""
    if owner_url.startswith("sqlite"):
        raw = sqlite3.connect(owner_url.split("///", 1)[1])
        try:
            raw.execute(f"DROP TRIGGER {table}_no_update")
            raw.execute(f"DROP TRIGGER {table}_no_delete")
            for statement in statements:
                raw.execute(statement)
            raw.commit()
        finally:
            raw.close()
        return
    engine = make_engine(owner_url, pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
            for statement in statements:
                conn.execute(text(statement))
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))
    finally:
        engine.dispose()


def test_every_audit_entry_is_chained_onto_the_one_before(world: World, engine: Engine) -> None:
    _reads(world, 3)
    world.client.get("/api/calls", headers=world.h("operator"))
    entries = _entries(engine)
    assert len(entries) >= 3 and [e.seq for e in entries] == list(range(1, len(entries) + 1))
    prev = chain.GENESIS
    for entry in entries:
        assert entry.prev_hash == prev and entry.hash == chain.entry_hash(prev, entry)
        prev = entry.hash


def test_the_serialisation_is_fixed() -> None:
    from datetime import datetime

    entry = AuditEntry(seq=7, at=datetime(2026, 11, 22, 23, 5, 1, 20, tzinfo=UTC), user_id=None,
                       username="ëlla", role="operator", organisation_id=3, on_behalf_of="", client_id=None,
                       action="read", data="client.record", reason="call 12", break_glass=False, outcome="allowed",
                       source_address="10.0.0.1")
    assert chain.canonical(entry) == (
        '{"seq":7,"at":"2026-11-22T23:05:01.000020Z","user_id":null,"username":"ëlla","role":"operator",'
        '"organisation_id":3,"on_behalf_of":"","client_id":null,"action":"read","data":"client.record",'
        '"reason":"call 12","break_glass":false,"outcome":"allowed","source_address":"10.0.0.1"}').encode()
    assert chain.entry_hash(chain.GENESIS, entry) == chain.entry_hash("0" * 64, entry)
    assert chain.entry_hash(chain.GENESIS, entry) != chain.entry_hash("1" * 64, entry)


def test_a_refused_access_is_chained_after_the_rollback(world: World, engine: Engine, database_url: str,
                                                        monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    _reads(world, 1)
    assert world.client.get(f"/api/clients/{world.clients['a1']}", headers=world.h("partner_b")).status_code == 404
    _reads(world, 1)
    outcomes = [(e.username, e.outcome) for e in _entries(engine)][-3:]
    assert outcomes == [("coordinator", "allowed"), ("partner_b", "denied"), ("coordinator", "allowed")]
    assert verify(database_url, monkeypatch, capsys)[0] == 0


def test_entries_are_written_with_their_transaction_only(engine: Engine) -> None:
    with Session(engine) as s:
        audit.record(s, CLERK, action="read", data="client", client_ids=[None], reason="rolled back")
        s.rollback()
        s.commit()
        audit.record(s, CLERK, action="read", data="client", client_ids=[None], reason="kept")
        with s.begin_nested():  # a savepoint released does not write the entry yet ...
            pass
        assert s.exec(select(AuditEntry).where(AuditEntry.reason == "kept")).first() is None
        s.commit()  # ... its transaction's commit does
    assert [(e.seq, e.reason) for e in _entries(engine)] == [(1, "kept")]


def test_concurrent_writers_never_chain_onto_the_same_entry(engine: Engine, database_url: str,
                                                            monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    writers, each = 8, 6
    start = threading.Barrier(writers)
    failures: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(each):
                with Session(engine) as s:
                    audit.record(s, CLERK, action="read", data="client", client_ids=[None, n], reason=f"{n}.{i}")
                    s.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(1, writers + 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    code, out = verify(database_url, monkeypatch, capsys)
    assert code == 0 and f"intact: {writers * each * 2} entries" in out
    # The two entries of one transaction are next to each other in the chain.
    entries = _entries(engine)
    assert all(a.reason == b.reason for a, b in zip(entries[::2], entries[1::2], strict=True))


def test_verify_prints_the_size_and_last_hash_of_an_intact_log(world: World, engine: Engine, database_url: str,
                                                               monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    assert verify(database_url, monkeypatch, capsys) == (0, f"audit log intact: 0 entries, last hash {'0' * 64}\n")
    _reads(world, 4)
    last = _entries(engine)[-1]
    code, out = verify(database_url, monkeypatch, capsys)
    assert code == 0 and out == f"audit log intact: {last.seq} entries, last hash {last.hash}\n"
    code, out = verify(database_url, monkeypatch, capsys, "--anchor", f"{last.seq}:{last.hash}")
    assert code == 0 and f"the anchor at seq {last.seq} matches" in out


@pytest.mark.parametrize("how", ["changed", "rehashed", "deleted", "first_deleted"])
def test_tampering_by_the_owner_is_found_and_the_broken_link_named(
        how: str, world: World, engine: Engine, database_url: str, owner_database_url: str,
        monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    _reads(world, 5)
    entries = _entries(engine)
    target = entries[0] if how == "first_deleted" else entries[2]
    after = entries[1] if how == "first_deleted" else entries[3]
    if how == "changed":
        tamper(owner_database_url, "audit_entries",
               f"UPDATE audit_entries SET username = 'someone else' WHERE id = {target.id}")
        broken, problem = target, "its hash does not match its contents"
    elif how == "rehashed":  # changed, and its own hash recomputed: the next link no longer fits
        target.username = "someone else"
        rehashed = chain.entry_hash(target.prev_hash or "", target)
        tamper(owner_database_url, "audit_entries",
               f"UPDATE audit_entries SET username = 'someone else', hash = '{rehashed}' WHERE id = {target.id}")
        broken, problem = after, f"its prev_hash does not match the hash of seq {target.seq}"
    else:
        tamper(owner_database_url, "audit_entries", f"DELETE FROM audit_entries WHERE id = {target.id}")
        broken, problem = after, f"seq {target.seq} is missing before it"
    code, out = verify(database_url, monkeypatch, capsys)
    assert code == 1
    assert f"audit log broken at seq {broken.seq} (id {broken.id}): {problem}" in out, out


def test_verify_walks_the_log_a_page_at_a_time(engine: Engine, owner_database_url: str) -> None:
    with Session(engine) as s:
        audit.record(s, CLERK, action="read", data="client", client_ids=[None, *range(1, 7)])
        s.commit()
    with Session(engine) as s:
        walker = audit.verify(s, page_size=2)
    assert (walker.count, walker.last_seq, walker.broken) == (7, 7, None)
    fifth = _entries(engine)[4]
    tamper(owner_database_url, "audit_entries", f"UPDATE audit_entries SET reason = 'x' WHERE id = {fifth.id}")
    with Session(engine) as s:
        walker = audit.verify(s, page_size=2)
    assert fifth.id is not None and walker.broken is not None
    assert walker.count == 4 and walker.broken == chain.Break(5, fifth.id, walker.broken.problem)


def test_an_anchor_finds_entries_removed_from_the_end(world: World, engine: Engine, database_url: str,
                                                      owner_database_url: str, monkeypatch: pytest.MonkeyPatch,
                                                      capsys) -> None:
    _reads(world, 3)
    last = _entries(engine)[-1]
    tamper(owner_database_url, "audit_entries", f"DELETE FROM audit_entries WHERE id = {last.id}")
    assert verify(database_url, monkeypatch, capsys)[0] == 0  # the chain alone cannot tell
    code, out = verify(database_url, monkeypatch, capsys, "--anchor", f"{last.seq}:{last.hash}")
    assert code == 1 and f"anchor seq {last.seq} is past the end of the log" in out


def _one_of_each(world: World) -> None:
    """A call with events, a decided triage and audit entries."""
    call = new_call(world, "tamper-1")
    run_triage(world, call["id"], "fall", [*SAFE, "no", "no", "no"])
    assert decide(world, call["id"]).status_code == 200


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_append_only_tables_refuse_update_and_delete(table: str, world: World, engine: Engine) -> None:
    _one_of_each(world)
    with Session(engine) as s:
        before = s.connection().execute(text(f"SELECT count(*) FROM {table}")).one()[0]
    assert before > 0
    for statement in (f"UPDATE {table} SET id = id", f"DELETE FROM {table}"):
        with Session(engine) as s, pytest.raises(DatabaseError, match="append-only"):
            s.connection().execute(text(statement))
            s.commit()
    with Session(engine) as s:
        assert s.connection().execute(text(f"SELECT count(*) FROM {table}")).one()[0] == before


def test_the_service_role_cannot_switch_the_protection_off(world: World, engine: Engine, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no roles: whoever can write the file can drop its triggers")
    _one_of_each(world)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT current_user")).scalar() == "nightcare_service"
    attempts = [stmt for table in APPEND_ONLY for stmt in (
        f"DROP TRIGGER {table}_append_only ON {table}",
        f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only",
        f"ALTER TABLE {table} DISABLE TRIGGER ALL",
        f"DROP FUNCTION {table}_append_only() CASCADE",
        f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RETURN NULL; END $$",
        f"ALTER TABLE {table} RENAME TO {table}_old",
        f"TRUNCATE {table}",
        f"UPDATE {table} SET id = id",
        f"DELETE FROM {table}",
    )] + ["SET session_replication_role = replica", "CREATE TABLE shadow (id int)",
          "ALTER TABLE calls ADD COLUMN extra int"]
    for statement in attempts:
        with engine.connect() as conn, pytest.raises(DatabaseError,
                                                     match=r"must be owner|permission denied|append-only"):
            conn.execute(text(statement))
    with engine.connect() as conn:
        enabled = conn.execute(text("SELECT tgrelid::regclass::text, tgenabled FROM pg_trigger "
                                    "WHERE tgname LIKE '%append_only'")).all()
    assert {t for t, state in enabled if state == "O"} >= set(APPEND_ONLY)


def _insert(conn, table: str, **values: object) -> None:
    types = {"at": UTCDateTime(), "received_at": UTCDateTime(), "started_at": UTCDateTime(),
             "decided_at": UTCDateTime(), "answers": sa.JSON(), "signals": sa.JSON(), "computed": sa.JSON(),
             "break_glass": sa.Boolean()}
    conn.execute(sa.table(table, *(sa.column(k, types.get(k)) for k in values)).insert().values(**values))


def test_upgrading_a_database_in_use_chains_its_audit_log_and_keeps_every_triage_run(
        backend: str, tmp_path, pg_cluster, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    if backend == "sqlite":
        url = owner = f"sqlite:///{tmp_path / 'in-use.db'}"
    else:
        if pg_cluster is None:
            pytest.skip("PostgreSQL disabled with NIGHTCARE_TEST_PG=off")
        name = f"in_use_{os.getpid()}"
        pg_cluster.create_database(name)
        url, owner = pg_cluster.service_url(name), pg_cluster.owner_url(name)
    migrate.upgrade(owner, "0004")
    now = datetime.now(UTC)
    old = make_engine(owner, pool_size=1)
    with old.begin() as conn:
        for call_id in (1, 2):
            _insert(conn, "calls", source="phone", origin="", source_ref=f"old-{call_id}",
                    client_match="none", text="", state="triaging", received_at=now)
        run = {"protocol_id": "nightcare-regional-night", "protocol_version": 1, "complaint": "fall", "signals": [],
               "override_reason": "", "advice_given": "", "started_at": now, "started_by": "operator"}
        decision = {"computed": {"urgency": "U2"}, "final_urgency": "U2", "final_disposition": "nurse_visit",
                    "decided_at": now, "decided_by": "operator"}
        _insert(conn, "triages", id=1, call_id=1, answers=[["abcd_airway", "yes"]], state="superseded",
                **run, **decision)
        _insert(conn, "triages", id=2, call_id=1, answers=[["abcd_airway", "no"]], state="in_progress", **run)
        _insert(conn, "triages", id=3, call_id=2, answers=[], state="decided", **run, **decision)
        for i in range(7):  # ids out of time order: the chain follows the ids (the order of writing)
            _insert(conn, "audit_entries", at=now - timedelta(seconds=i), user_id=1, username="operator",
                    role="operator", organisation_id=None, on_behalf_of="", client_id=None, action="read",
                    data="call", reason=f"call {i}", break_glass=False, outcome="allowed", source_address="")
    old.dispose()

    migrate.upgrade(owner)
    if backend == "postgresql":
        migrate.grant(owner, "nightcare_service")
    engine = make_engine(url, pool_size=1)
    try:
        code, out = verify(url, monkeypatch, capsys)
        assert code == 0 and "intact: 7 entries" in out
        assert [(e.id, e.seq) for e in _entries(engine)] == [(i, i) for i in range(1, 8)]
        with Session(engine) as s:
            first, second = s.get(Call, 1), s.get(Call, 2)
            assert first is not None and second is not None
            history = runs.history(s, first)
            assert [(r.record.id, type(r.record).__name__, r.state) for r in history] == [
                (1, "Triage", "superseded"), (2, "TriageDraft", "in_progress")]
            assert [r.state for r in runs.history(s, second)] == ["decided"]
            fresh = runs.begin(s, second, protocol_id="p", protocol_version=1, complaint="fall", signals=[],
                               started_by="operator")
            assert fresh.record.id == 4  # after every run there was: a decided run keeps its draft's id
        with Session(engine) as s:  # and the new entries go on from the old ones
            audit.record(s, CLERK, action="read", data="client", client_ids=[None])
            s.commit()
        assert verify(url, monkeypatch, capsys) == (0, f"audit log intact: 8 entries, last hash "
                                                       f"{_entries(engine)[-1].hash}\n")
    finally:
        engine.dispose()
