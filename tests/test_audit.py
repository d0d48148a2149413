"""Every access to client data leaves an audit entry: who, role, organisation, when, which client, what, why,
from where."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

from dispatch.audit.models import AuditEntry
from tests.world import World


def _log(world: World, **params: object) -> list[dict]:
    r = world.client.get("/api/audit", params=params, headers=world.h("coordinator"))
    assert r.status_code == 200
    return r.json()


def test_reading_a_client_is_audited_with_every_field(world: World) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    r = world.client.get(f"/api/clients/{world.clients['a1']}", headers=world.h("partner_a"))
    assert r.status_code == 200
    entry = _log(world, client_id=world.clients["a1"], username="partner_a")[0]
    assert entry["action"] == "read" and entry["data"] == "client.record"
    assert entry["role"] == "partner" and entry["organisation_id"] == world.orgs["a"]
    assert entry["outcome"] == "allowed" and entry["reason"] and entry["source_address"]
    assert before <= datetime.fromisoformat(entry["at"]) <= datetime.now(UTC)


def test_operator_reads_a_client_for_a_call_and_the_call_is_the_reason(world: World) -> None:
    call = world.post_call(source_ref="aud-1", caller_phone="+31592111111").json()
    r = world.client.get(f"/api/clients/{world.clients['a1']}", params={"call_id": call["id"]},
                         headers=world.h("operator"))
    assert r.status_code == 200
    entry = _log(world, client_id=world.clients["a1"], username="operator")[0]
    assert entry["reason"] == f"call {call['id']}" and entry["break_glass"] is False


def test_break_glass_is_allowed_reasoned_and_flagged(world: World) -> None:
    short = world.client.get(f"/api/clients/{world.clients['b1']}", params={"break_glass_reason": "urgent"},
                             headers=world.h("operator"))
    assert short.status_code == 403 and short.json()["field"] == "break_glass_reason"
    reason = "GP post asks for medication list, caller unconscious"
    r = world.client.get(f"/api/clients/{world.clients['b1']}", params={"break_glass_reason": reason},
                         headers=world.h("operator"))
    assert r.status_code == 200
    entries = _log(world, client_id=world.clients["b1"], username="operator")
    assert entries[0]["break_glass"] is True and entries[0]["reason"] == reason
    assert entries[1]["outcome"] == "denied"  # the too-short attempt is on record too


def test_refused_access_is_audited_as_denied(world: World) -> None:
    r = world.client.get(f"/api/clients/{world.clients['a1']}", headers=world.h("partner_b"))
    assert r.status_code == 404
    denied = _log(world, client_id=world.clients["a1"], username="partner_b")
    assert len(denied) == 1 and denied[0]["outcome"] == "denied" and denied[0]["role"] == "partner"
    # Partner A can see that partner B tried to read its client; B sees nothing of A's client.
    seen_by_a = world.client.get("/api/audit", params={"client_id": world.clients["a1"]},
                                 headers=world.h("partner_a")).json()
    assert any(e["username"] == "partner_b" and e["outcome"] == "denied" for e in seen_by_a)
    assert world.client.get("/api/audit", params={"client_id": world.clients["a1"]},
                            headers=world.h("partner_b")).json() == []


def test_lists_audit_each_client_shown(world: World) -> None:
    world.post_call(source_ref="aud-2", caller_phone="+31592111111")
    world.post_call(source_ref="aud-3", caller_phone="+31592222222")
    world.client.get("/api/calls", headers=world.h("operator"))
    listed = {e["client_id"] for e in _log(world, username="operator") if e["action"] == "list"}
    assert listed == {world.clients["a1"], world.clients["b1"]}


def test_audit_log_is_append_only_in_the_database(world: World, engine) -> None:
    world.client.get(f"/api/clients/{world.clients['a1']}", headers=world.h("coordinator"))
    for statement in ("UPDATE audit_entries SET username = 'nobody'", "DELETE FROM audit_entries"):
        with Session(engine) as session, pytest.raises(DatabaseError, match="append-only"):
            session.connection().execute(text(statement))
            session.commit()
    with Session(engine) as session:
        assert session.exec(select(AuditEntry)).first().username != "nobody"


def test_operator_search_is_only_for_an_open_call(world: World) -> None:
    call = world.post_call(source_ref="aud-4").json()
    world.move(call["id"], "cancelled", reason="test call")
    r = world.client.get("/api/clients", params={"q": "bakker", "call_id": call["id"]}, headers=world.h("operator"))
    assert r.status_code == 403 and r.json()["field"] == "call_id"
