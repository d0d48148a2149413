"""Publishing protocol versions: validated, immutable, diffable; calls keep their version."""
from __future__ import annotations

import copy

import pytest
import yaml
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session

import protocols
from tests.test_triage import SAFE, decide, new_call, run_triage
from tests.world import World


def v2_document() -> dict:
    doc = copy.deepcopy(next(d for d in protocols.shipped_documents() if d["protocol"] == "nightcare-regional-night"))
    doc["version"] = 2
    fall = next(c for c in doc["complaints"] if c["id"] == "fall")
    fall["outcomes"]["fall_defer"].update(urgency="U3", disposition="nurse_visit")  # clinicians: always look
    doc["complaints"].append({"id": "hiccups", "title": "Persistent hiccups", "start": "h1",
                              "nodes": {"h1": {"question": "More than 48 hours?",
                                               "answers": [{"id": "yes", "outcome": "advice_call_back"},
                                                           {"id": "no", "outcome": "advice_call_back"}]}}})
    return doc


def publish(world: World, document, who: str = "coordinator"):
    return world.client.post("/api/protocols", json={"document": document}, headers=world.h(who))


def test_shipped_protocol_is_published_at_start(world: World) -> None:
    versions = world.client.get("/api/protocols", headers=world.h("operator")).json()
    assert [(v["protocol_id"], v["version"]) for v in versions] == [("nightcare-regional-night", 1)]
    current = world.client.get("/api/protocols/current", headers=world.h("operator")).json()
    assert len(current["complaints"]) == 18 and "STARTING POINT" in current["note"]


def test_publish_diff_and_calls_keep_their_version(world: World) -> None:
    old_call = new_call(world, "pv-old")
    run_triage(world, old_call["id"], "fall", [*SAFE, "no", "no", "yes"])
    r = publish(world, yaml.safe_dump(v2_document()))  # YAML text is accepted as well as JSON
    assert r.status_code == 201 and r.json()["version"] == 2 and r.json()["published_by"] == "coordinator"

    again = publish(world, v2_document())
    assert again.status_code == 409 and again.json()["field"] == "version" and "publish v3" in again.json()["detail"]

    d = world.client.get("/api/protocols/nightcare-regional-night/diff", params={"from": 1, "to": 2},
                         headers=world.h("coordinator")).json()
    assert d["complaints_added"] == ["hiccups"] and d["complaints_removed"] == []
    fall = next(c for c in d["complaints_changed"] if c["id"] == "fall")
    change = fall["outcomes_changed"][0]
    assert change["id"] == "fall_defer" and (change["from"]["urgency"], change["to"]["urgency"]) == ("U4", "U3")

    # The call triaged under v1 finishes under v1; a new call uses v2.
    old = world.client.post(f"/api/calls/{old_call['id']}/triage/answers", json={"node": "fall_pain", "answer": "none"},
                            headers=world.h("operator")).json()
    assert old["protocol"]["version"] == 1 and old["step"]["urgency"] == "U4"
    assert decide(world, old_call["id"]).json()["decision"]["urgency"] == "U4"
    new = run_triage(world, new_call(world, "pv-new", "+31592222222")["id"], "fall", [*SAFE, "no", "no", "yes", "none"])
    assert new["protocol"]["version"] == 2 and new["step"]["urgency"] == "U3"
    v1 = world.client.get("/api/protocols/nightcare-regional-night/versions/1", headers=world.h("operator")).json()
    assert next(c for c in v1["document"]["complaints"] if c["id"] == "fall")["outcomes"]["fall_defer"]["urgency"] == "U4"


def test_invalid_protocol_is_refused_naming_the_node(world: World) -> None:
    doc = v2_document()
    fall = next(c for c in doc["complaints"] if c["id"] == "fall")
    fall["nodes"]["fall_head"]["answers"][0]["next"] = "fall_nowhere"
    r = publish(world, doc)
    assert r.status_code == 422 and r.json()["field"] == "document"
    assert r.json()["detail"] == "complaint 'fall' node 'fall_head' answer 'yes': unknown next node 'fall_nowhere'"
    garbage = publish(world, "complaints: [")
    assert garbage.status_code == 422 and "not valid YAML" in garbage.json()["detail"]


def test_only_coordinators_publish(world: World) -> None:
    assert publish(world, v2_document(), who="operator").status_code == 403
    assert publish(world, v2_document(), who="partner_a").status_code == 403
    assert world.client.get("/api/protocols", headers=world.h("partner_a")).status_code == 403


def test_published_versions_are_immutable_in_the_database(world: World, engine) -> None:
    for statement in ("UPDATE protocol_versions SET title = 'edited'", "DELETE FROM protocol_versions"):
        with Session(engine) as session, pytest.raises(DatabaseError, match="append-only"):
            session.exec(text(statement))
            session.commit()


def test_news2_recorded_on_a_visit(world: World) -> None:
    obs = {"respiration_rate": 22, "spo2": 95, "on_oxygen": False, "systolic_bp": 125, "pulse": 115,
           "consciousness": "alert", "temperature": 39.5}
    early = world.client.post(f"/api/visits/{world.visits['a1']}/observations", json=obs, headers=world.h("nurse1"))
    assert early.status_code == 409 and "on scene" in early.json()["detail"]  # she is not with the client yet
    world.client.post(f"/api/visits/{world.visits['a1']}/accept", headers=world.h("nurse1"))
    world.client.post(f"/api/visits/{world.visits['a1']}/progress", json={"state": "on_scene"},
                      headers=world.h("nurse1"))
    r = world.client.post(f"/api/visits/{world.visits['a1']}/observations", json=obs, headers=world.h("nurse1"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["news2_total"], body["news2_risk"]) == (2 + 1 + 2 + 2, "high")
    assert body["clinical_response"] == "Emergency response: call 112."
    listed = world.client.get(f"/api/visits/{world.visits['a1']}/observations", headers=world.h("partner_a")).json()
    assert [o["news2_total"] for o in listed] == [7]
    # Another nurse's visit, and nonsense values.
    assert world.client.post(f"/api/visits/{world.visits['a1']}/observations", json=obs,
                             headers=world.h("nurse2")).status_code == 404
    bad = world.client.post(f"/api/visits/{world.visits['a1']}/observations", json={**obs, "temperature": 52},
                            headers=world.h("nurse1"))
    assert bad.status_code == 422 and bad.json()["field"] == "temperature"
