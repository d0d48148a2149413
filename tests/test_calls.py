"""Call intake and lifecycle through the API, on SQLite and PostgreSQL."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from sqlmodel import Session, func, select

from dispatch.calls.models import Call, CallEvent
from tests.world import SHARED_LINE, World


def test_intake_persists_call_with_received_event(world: World) -> None:
    r = world.post_call(source_ref="CA-1", caller_phone="0592 111111", text="fell next to the bed")
    assert r.status_code == 201
    call = r.json()
    assert call["state"] == "received"
    assert call["client_id"] == world.clients["a1"] and call["client_match"] == "phone"
    assert call["organisation_id"] == world.orgs["a"]
    assert call["caller_phone"] == "+31592111111"
    assert [(e["from_state"], e["to_state"], e["actor"]) for e in call["events"]] == [(None, "received", "operator")]
    fetched = world.client.get(f"/api/calls/{call['id']}", headers=world.h("coordinator")).json()
    assert fetched["text"] == "fell next to the bed" and fetched["events"] == call["events"]


def test_retry_with_same_source_ref_returns_the_same_call(world: World, engine) -> None:
    first = world.post_call(source="alarm", source_ref="ALARM-77", caller_phone="+31592222222")
    again = world.post_call(source="alarm", source_ref="ALARM-77", caller_phone="+31592222222")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Call).where(Call.source_ref == "ALARM-77")).one() == 1
        assert s.exec(select(func.count()).select_from(CallEvent)).one() == 1
    # The same ref from another source is another call.
    assert world.post_call(source="phone", source_ref="ALARM-77").status_code == 201


def test_concurrent_retries_create_one_call(world: World, engine) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: world.post_call(source="alarm", source_ref="BURST-1"), range(16)))
    assert sorted({r.status_code for r in responses}) in ([200, 201], [201])
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.status_code == 201 for r in responses) == 1
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Call)).one() == 1


def test_unknown_and_ambiguous_callers_stay_calls_without_client(world: World) -> None:
    unknown = world.post_call(source_ref="CA-2", caller_phone="+31612999999")
    assert unknown.status_code == 201 and unknown.json()["client_id"] is None
    assert unknown.json()["client_match"] == "none"
    anonymous = world.post_call(source_ref="CA-3", caller_phone="anonymous")
    assert anonymous.status_code == 201 and anonymous.json()["caller_phone"] == "anonymous"
    shared = world.post_call(source_ref="CA-4", caller_phone=SHARED_LINE)
    assert shared.status_code == 201
    assert shared.json()["client_id"] is None and shared.json()["client_match"] == "ambiguous"


def test_operator_identifies_an_ambiguous_caller(world: World) -> None:
    call = world.post_call(source_ref="CA-5", caller_phone=SHARED_LINE).json()
    found = world.client.get("/api/clients", params={"phone": SHARED_LINE, "call_id": call["id"]},
                             headers=world.h("operator"))
    assert found.status_code == 200
    assert {c["id"] for c in found.json()} == {world.clients["a3"], world.clients["b2"]}
    r = world.client.post(f"/api/calls/{call['id']}/client", json={"client_id": world.clients["b2"]},
                          headers=world.h("operator"))
    assert r.status_code == 200
    assert r.json()["client_id"] == world.clients["b2"] and r.json()["organisation_id"] == world.orgs["b"]


def test_partner_call_matched_by_external_id_within_its_organisation(world: World) -> None:
    r = world.post_call("partner_a", source="partner", source_ref="ECD-9", client_external_id="A-2")
    assert r.status_code == 201
    assert r.json()["client_id"] == world.clients["a2"] and r.json()["client_match"] == "external_id"
    # B's external id is not found through A's organisation, and A's shared line matches only A's client.
    other = world.post_call("partner_a", source="partner", source_ref="ECD-10", client_external_id="B-1")
    assert other.status_code == 201 and other.json()["client_id"] is None
    shared = world.post_call("partner_a", source="partner", source_ref="ECD-11", caller_phone=SHARED_LINE)
    assert shared.json()["client_id"] == world.clients["a3"]


def test_partner_refs_do_not_collide_across_organisations(world: World) -> None:
    a = world.post_call("partner_a", source="partner", source_ref="42", text="A's call")
    b = world.post_call("partner_b", source="partner", source_ref="42", text="B's call")
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"] and b.json()["text"] == "B's call"


def test_lifecycle_records_every_transition(world: World) -> None:
    call_id = world.post_call(source_ref="CA-6", caller_phone="+31592111111").json()["id"]
    path = ["triaging", "triaged", "escalated", "queued", "escalated", "completed"]  # 112 took over
    for state in path:
        r = world.move(call_id, state, reason=f"to {state}")
        assert r.status_code == 200, r.text
        assert r.json()["state"] == state
    events = world.client.get(f"/api/calls/{call_id}", headers=world.h("operator")).json()["events"]
    assert [e["to_state"] for e in events] == ["received", *path]
    assert [e["seq"] for e in events] == list(range(1, len(path) + 2))
    assert all(e["from_state"] == prev["to_state"] for prev, e in pairwise(events))
    assert [e["reason"] for e in events][1:] == [f"to {s}" for s in path]
    times = [datetime.fromisoformat(e["at"]) for e in events]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)


def test_the_states_that_follow_the_visit_are_not_set_by_hand(world: World) -> None:
    call_id = world.post_call(source_ref="CA-6b", caller_phone="+31592111111").json()["id"]
    for state in ("triaging", "triaged", "queued"):
        assert world.move(call_id, state).status_code == 200
    r = world.move(call_id, "assigned")
    assert r.status_code == 409 and r.json()["field"] == "to"
    assert "visit" in r.json()["detail"] and "assigned" not in r.json()["allowed"]
    assert world.client.get(f"/api/calls/{call_id}", headers=world.h("operator")).json()["state"] == "queued"


def test_illegal_transition_is_409_naming_allowed_ones(world: World) -> None:
    call_id = world.post_call(source_ref="CA-7").json()["id"]
    r = world.move(call_id, "completed")
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "conflict" and body["field"] == "to"
    assert body["allowed"] == ["triaging", "cancelled"]
    assert "triaging" in body["detail"] and "cancelled" in body["detail"]
    # Closed calls allow nothing.
    assert world.move(call_id, "cancelled", reason="caller hung up, called back: fine").status_code == 200
    closed = world.move(call_id, "triaging")
    assert closed.status_code == 409 and closed.json()["allowed"] == []
    assert world.client.get(f"/api/calls/{call_id}", headers=world.h("operator")).json()["state"] == "cancelled"


def test_cancel_needs_a_reason(world: World) -> None:
    call_id = world.post_call(source_ref="CA-8").json()["id"]
    r = world.move(call_id, "cancelled")
    assert r.status_code == 422 and r.json()["field"] == "reason"
    assert world.client.get(f"/api/calls/{call_id}", headers=world.h("operator")).json()["state"] == "received"


def test_list_filters_by_state_organisation_and_since(world: World) -> None:
    a = world.post_call(source_ref="L-1", caller_phone="+31592111111").json()
    b = world.post_call(source_ref="L-2", caller_phone="+31592222222").json()
    world.move(b["id"], "triaging")
    def get(**p: object) -> list[int]:
        return [c["id"] for c in world.client.get("/api/calls", params=p, headers=world.h("operator")).json()]
    assert get(state="triaging") == [b["id"]]
    assert set(get(state=["received", "triaging"])) == {a["id"], b["id"]}
    assert get(organisation_id=world.orgs["a"]) == [a["id"]]
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert get(since=future) == []
    assert set(get(open=True)) == {a["id"], b["id"]}


def test_manual_entry_without_ref_and_other_sources_need_one(world: World) -> None:
    manual = world.post_call(source="manual", text="neighbour reports light on all night")
    assert manual.status_code == 201 and manual.json()["source_ref"].startswith("manual-")
    missing = world.post_call(source="alarm")
    assert missing.status_code == 422 and missing.json()["field"] == "source_ref"
