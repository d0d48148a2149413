"""Least privilege (both databases): an unidentified call lets an operator search identities, not open records; a
client who did not consent is shown to night staff as identity, address and access only; reads of assignment
decisions (home coordinates) and pushes of addresses to phones are in the audit log."""
from __future__ import annotations

from sqlmodel import Session, col, select

from dispatch.audit.models import AuditEntry
from dispatch.clients.models import Client
from tests.test_assignment import acute_visit, on_duty, replan  # noqa: F401 - fixture
from tests.test_triage import SAFE
from tests.world import World


def _entries(engine, **where: object) -> list[AuditEntry]:
    with Session(engine) as s:
        stmt = select(AuditEntry)
        for key, value in where.items():
            stmt = stmt.where(getattr(AuditEntry, key) == value)
        return list(s.exec(stmt.order_by(col(AuditEntry.id))))


def test_an_unidentified_call_opens_no_record_only_an_identity_search(world: World, engine) -> None:
    call = world.post_call(source_ref="lp-1", caller_phone="+31592333333").json()  # shared line: not matched
    assert call["client_id"] is None
    record = world.client.get(f"/api/clients/{world.clients['a3']}", params={"call_id": call["id"]},
                              headers=world.h("operator"))
    assert record.status_code == 403 and record.json()["field"] == "call_id"
    found = world.client.get("/api/clients", params={"call_id": call["id"], "phone": "+31592333333"},
                             headers=world.h("operator")).json()
    assert {c["id"] for c in found} == {world.clients["a3"], world.clients["b2"]}
    assert set(found[0]) == {"id", "organisation_id", "given_name", "family_name", "date_of_birth", "street",
                             "house_number", "postcode", "city"}  # identity and address: no phones, notes, ids
    by_id = world.client.get("/api/clients", params={"call_id": call["id"], "external_id": "B-2"},
                             headers=world.h("operator")).json()
    assert [c["id"] for c in by_id] == [world.clients["b2"]]
    many = world.client.get("/api/clients", params={"call_id": call["id"], "limit": 500},
                            headers=world.h("operator")).json()
    assert len(many) <= 20
    searches = _entries(engine, username="operator", action="search")
    assert searches and all(e.data == "client.identity" and e.reason == f"identify client of call {call['id']}"
                            for e in searches)
    # Once identified, the call opens that client's record (and only that one).
    world.client.post(f"/api/calls/{call['id']}/client", json={"client_id": world.clients["b2"]},
                      headers=world.h("operator"))
    assert world.client.get(f"/api/clients/{world.clients['b2']}", params={"call_id": call["id"]},
                            headers=world.h("operator")).status_code == 200
    assert world.client.get(f"/api/clients/{world.clients['a3']}", params={"call_id": call["id"]},
                            headers=world.h("operator")).status_code == 403


def test_without_consent_night_staff_see_identity_address_and_access_only(world: World, engine) -> None:
    with Session(engine) as s:
        client = s.get(Client, world.clients["a1"])
        client.consent_night_team, client.access_notes = False, "Key safe left of the back door"
        s.add(client)
        s.commit()
    call = world.post_call(source_ref="lp-2", caller_phone="+31592111111").json()
    restricted = world.client.get(f"/api/clients/{world.clients['a1']}", params={"call_id": call["id"]},
                                  headers=world.h("operator")).json()
    assert restricted["restricted"] is True and restricted["phones"] == [] and restricted["external_ids"] == []
    assert restricted["access_notes"] == "Key safe left of the back door" and restricted["street"] == "Kerkstraat"
    assert _entries(engine, username="operator", action="read")[-1].data == "client.identity"
    glass = world.client.get(f"/api/clients/{world.clients['a1']}",
                             params={"break_glass_reason": "caller confused, need the family's number"},
                             headers=world.h("operator")).json()
    assert glass["restricted"] is False and glass["phones"] == ["+31592111111"]
    assert _entries(engine, username="operator", action="read")[-1].break_glass is True
    # The client's own organisation keeps the whole record.
    own = world.client.get(f"/api/clients/{world.clients['a1']}", headers=world.h("partner_a")).json()
    assert own["restricted"] is False and own["phones"] == ["+31592111111"]
    # Her own job gives the nurse identity, address and access, not more.
    world.client.post(f"/api/visits/{world.visits['a1']}/assign", json={"nurse_id": world.nurses["n1"]},
                      headers=world.h("operator"))
    nurse = world.client.get(f"/api/clients/{world.clients['a1']}", headers=world.h("nurse1")).json()
    assert nurse["restricted"] is True and nurse["phones"] == []


def test_decisions_hold_home_coordinates_their_reads_are_audited_and_limited(on_duty: World, engine) -> None:  # noqa: F811
    world = on_duty
    made = acute_visit(world, "lp-3", [*SAFE, "no", "no", "no"])
    decision = replan(world)
    for who in ("nurse1", "partner_a"):
        assert world.client.get(f"/api/assignment/decisions/{decision['id']}", headers=world.h(who)).status_code == 403
        assert world.client.get(f"/api/visits/{made['visit_id']}/explanation",
                                headers=world.h(who)).status_code == 403
    assert world.client.get(f"/api/assignment/decisions/{decision['id']}",
                            headers=world.h("operator")).status_code == 200
    read = _entries(engine, username="operator", data="assignment.decision")
    assert {e.client_id for e in read} >= {world.clients["a1"], world.clients["b1"]}
    assert all(e.reason == f"decision {decision['id']}" for e in read)
    world.client.get(f"/api/visits/{made['visit_id']}/explanation", headers=world.h("operator"))
    assert any(e.reason == f"explanation of visit {made['visit_id']}"
               for e in _entries(engine, username="operator", data="assignment.decision"))


def test_a_push_that_carries_an_address_is_recorded(on_duty: World, engine) -> None:  # noqa: F811
    world = on_duty
    r = world.client.post(f"/api/visits/{world.visits['b1']}/assign", json={"nurse_id": world.nurses["n2"]},
                          headers=world.h("operator"))
    assert r.status_code == 200
    pushes = [e for e in _entries(engine, action="push", client_id=world.clients["b1"])
              if f"visit {world.visits['b1']}: job.offered" in e.reason]
    assert pushes and pushes[-1].data == "visit.address" and pushes[-1].on_behalf_of == f"nurse {world.nurses['n2']}"
    # The client's organisation sees it in its access log.
    seen = world.client.get("/api/audit", params={"client_id": world.clients["b1"]}, headers=world.h("partner_b"))
    assert any(e["action"] == "push" for e in seen.json())
