"""What the nurse's phone needs from the service (both databases): the job's brief (the client's wishes and risks,
the caller's answers and the advice given), scoped and audited like the client's record; NEWS2 that says when to
call 112; a night bag that remembers its calibration and expiry dates."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from dispatch.audit.models import AuditEntry
from dispatch.clients.models import Client
from dispatch.nurses.models import Shift
from tests.test_assignment import acute_visit, on_duty  # noqa: F401 - fixture
from tests.test_visits import FALL_U2, _assign, _to
from tests.world import World


def _set_client(engine, client_id: int, **values: object) -> None:
    with Session(engine) as s:
        client = s.get(Client, client_id)
        for key, value in values.items():
            setattr(client, key, value)
        s.add(client)
        s.commit()


def _audit(engine, username: str, data: str) -> list[AuditEntry]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.username == username, AuditEntry.data == data)))


def test_the_brief_shows_her_the_call_the_answers_the_advice_and_the_clients_wishes(on_duty: World, engine) -> None:  # noqa: F811
    world = on_duty
    made = acute_visit(world, "brief-1", FALL_U2)
    vid, call_id = made["visit_id"], made["call"]["id"]
    _set_client(engine, world.clients["a1"], wishes=["do_not_resuscitate"], risks=["anticoagulated"])
    assert _assign(world, vid, "n1").status_code == 200

    r = world.client.get(f"/api/visits/{vid}/brief", headers=world.h("nurse1"))
    assert r.status_code == 200, r.text
    brief = r.json()
    assert brief["wishes"] == ["do_not_resuscitate"] and brief["risks"] == ["anticoagulated"]
    assert not brief["restricted"]
    assert brief["call_text"] == "called at night"  # what the operator wrote down (tests/test_triage.py new_call)
    triage = brief["triage"]
    assert triage["call_id"] == call_id and triage["urgency"] == "U2"
    assert len(triage["answers"]) == len(FALL_U2)
    assert all(a["question"] and a["answer"] for a in triage["answers"])
    assert triage["advice"]["message"] and triage["advice"]["text"].startswith(triage["advice"]["message"])
    assert _audit(engine, "nurse1", "visit.brief")[-1].reason == f"visit {vid}"

    # Another nurse, a partner (even the client's own organisation) and an operator without the call get nothing.
    assert world.client.get(f"/api/visits/{vid}/brief", headers=world.h("nurse2")).status_code == 404
    assert [e.outcome for e in _audit(engine, "nurse2", "visit.brief")] == ["denied"]
    for partner in ("partner_a", "partner_b"):
        assert world.client.get(f"/api/visits/{vid}/brief", headers=world.h(partner)).status_code == 403
    assert world.client.get(f"/api/visits/{vid}/brief", headers=world.h("operator")).status_code == 200

    # Without the client's consent to share with the night team: no wishes or risks, still the triage.
    _set_client(engine, world.clients["a1"], consent_night_team=False)
    restricted = world.client.get(f"/api/visits/{vid}/brief", headers=world.h("nurse1")).json()
    assert restricted["restricted"] and restricted["wishes"] == [] and restricted["risks"] == []
    assert restricted["triage"]["call_id"] == call_id and restricted["call_text"] == "called at night"

    # Once the job is over, the brief is gone too (and the refusal is audited).
    _to(world, vid, "on_scene")
    assert world.client.post(f"/api/visits/{vid}/progress", json={"state": "completed"},
                             headers=world.h("nurse1")).status_code == 200
    closed = world.client.get(f"/api/visits/{vid}/brief", headers=world.h("nurse1"))
    assert closed.status_code == 403 and closed.json()["field"] == "visit_id"
    assert _audit(engine, "nurse1", "visit.brief")[-1].outcome == "denied"


def test_a_planned_visit_has_a_brief_without_triage(world: World, engine) -> None:
    vid = world.visits["a1"]
    brief = world.client.get(f"/api/visits/{vid}/brief", headers=world.h("nurse1")).json()
    assert brief["triage"] is None and brief["call_text"] is None and brief["client_id"] == world.clients["a1"]
    refused = world.client.get(f"/api/visits/{vid}/brief", headers=world.h("operator"))
    assert refused.status_code == 403 and refused.json()["field"] == "visit_id"
    assert world.client.get(f"/api/visits/{vid}/brief", headers=world.h("coordinator")).status_code == 200
    assert world.client.get("/api/visits/999999/brief", headers=world.h("nurse1")).status_code == 404


def test_news2_tells_her_when_to_call_112(on_duty: World) -> None:  # noqa: F811
    world = on_duty
    vid = acute_visit(world, "news-1", FALL_U2)["visit_id"]
    _assign(world, vid, "n1")
    before = world.client.post(f"/api/visits/{vid}/observations", headers=world.h("nurse1"), json={
        "respiration_rate": 18, "spo2": 96, "systolic_bp": 130, "pulse": 80, "consciousness": "alert",
        "temperature": 37.0})
    assert before.status_code == 409  # recorded on scene
    _to(world, vid, "on_scene")
    fine = {"respiration_rate": 16, "spo2": 97, "systolic_bp": 125, "pulse": 72, "consciousness": "alert",
            "temperature": 36.8}
    low = world.client.post(f"/api/visits/{vid}/observations", json=fine, headers=world.h("nurse1")).json()
    assert (low["news2_risk"], low["call_112"], low["urgent"]) == ("low", False, False)
    red = world.client.post(f"/api/visits/{vid}/observations", json={**fine, "consciousness": "confusion"},
                            headers=world.h("nurse1")).json()
    assert (red["news2_total"], red["news2_risk"], red["call_112"], red["urgent"]) == (3, "low_medium", False, True)
    high = world.client.post(f"/api/visits/{vid}/observations", headers=world.h("nurse1"), json={
        "respiration_rate": 26, "spo2": 90, "systolic_bp": 95, "pulse": 125, "consciousness": "voice",
        "temperature": 39.5}).json()
    assert high["news2_risk"] == "high" and high["call_112"] and "112" in high["clinical_response"]
    assert world.client.get(f"/api/visits/{vid}", headers=world.h("nurse1")).json()["observations"][-1]["call_112"]


def test_the_bag_remembers_calibration_and_expiry_dates(world: World, engine) -> None:
    coordinator, nurse = world.h("coordinator"), world.h("nurse1")
    thermometer = world.client.post("/api/nightbag/items", headers=coordinator,
                                    json={"name": "Thermometer", "kind": "device"}).json()
    gloves = world.client.post("/api/nightbag/items", headers=coordinator,
                               json={"name": "Gloves", "quantity": 10}).json()
    assert thermometer["calibration_due"] is None
    now = datetime.now(UTC)
    with Session(engine) as s:
        shifts = [Shift(nurse_id=world.nurses["n1"], starts_at=now + timedelta(days=d, hours=-1),
                        ends_at=now + timedelta(days=d, hours=7)) for d in (0, 1)]
        s.add_all(shifts)
        s.commit()
        shift_ids = [sh.id for sh in shifts]
    due, expires = now.date() + timedelta(days=200), now.date() + timedelta(days=90)
    first = world.client.post(f"/api/shifts/{shift_ids[0]}/start", headers=nurse, json={"items": [
        {"item_id": thermometer["id"], "quantity": 1, "calibration_due": due.isoformat()},
        {"item_id": gloves["id"], "quantity": 10, "expires_on": expires.isoformat()}]})
    assert first.status_code == 201 and first.json()["complete"], first.text
    items = {i["id"]: i for i in world.client.get("/api/nightbag/items", headers=nurse).json()}
    assert items[thermometer["id"]]["calibration_due"] == due.isoformat()
    assert items[gloves["id"]]["expires_on"] == expires.isoformat()
    # The next night she gives no dates: the remembered ones count, nothing is "calibration unknown".
    second = world.client.post(f"/api/shifts/{shift_ids[1]}/start", headers=nurse, json={"items": [
        {"item_id": thermometer["id"], "quantity": 1}, {"item_id": gloves["id"], "quantity": 10}]})
    assert second.json()["flags"] == []
    # A coordinator records the calibration round; a nurse may not; a material has no calibration date.
    later = (now.date() + timedelta(days=365)).isoformat()
    r = world.client.patch(f"/api/nightbag/items/{thermometer['id']}", json={"calibration_due": later},
                           headers=coordinator)
    assert r.status_code == 200 and r.json()["calibration_due"] == later and r.json()["name"] == "Thermometer"
    assert world.client.patch(f"/api/nightbag/items/{thermometer['id']}", json={"calibration_due": later},
                              headers=nurse).status_code == 403
    bad = world.client.patch(f"/api/nightbag/items/{gloves['id']}", json={"calibration_due": later},
                             headers=coordinator)
    assert bad.status_code == 422 and bad.json()["field"] == "calibration_due"
    forgotten = world.client.patch(f"/api/nightbag/items/{thermometer['id']}", json={"calibration_due": None},
                                   headers=coordinator).json()
    assert forgotten["calibration_due"] is None and forgotten["expires_on"] is None
