"""Protocol versions: drafted, signed off by two clinicians, published by a coordinator; immutable once published;
calls keep their version; a pinned version stays in use."""
from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, select

import protocols
from dispatch.app import create_app
from dispatch.auth.models import Role
from dispatch.auth.service import create_user
from dispatch.protocol_versions.models import ProtocolDraft, ProtocolVersion
from dispatch.protocol_versions.service import register_shipped
from tests.conftest import test_settings
from tests.test_triage import new_call
from tests.world import PASSWORD, World

PID = "nightcare-regional-night"
BASE = "/api/protocols"
SHIPPED = [d for d in protocols.shipped_documents() if d["protocol"] == PID]
NEWEST = SHIPPED[-1]["version"]
URGENT = ("U0", "U1", "U2")


def _outcomes(doc: dict, complaint: dict | None) -> dict[str, dict]:
    return {**(doc.get("outcomes") or {}), **((complaint or {}).get("outcomes") or {})}


def _make_format_2(doc: dict) -> None:
    """What a version 2 or later needs (a source per red flag, steps for 112, safety nets), where the newest
    shipped document does not have it yet (version 1)."""
    if not doc.get("sources"):
        doc["sources"] = {"nts": "Nederlandse Triage Standaard (test citation)"}
    source = next(iter(doc["sources"]))
    abcd = doc.get("abcd") or []
    graphs = [(None, abcd if isinstance(abcd, list) else list(abcd["nodes"].values()))]
    graphs += [(c, list(c["nodes"].values())) for c in doc["complaints"]]
    for complaint, nodes in graphs:
        outcomes = _outcomes(doc, complaint)
        for node in nodes:
            for a in node["answers"]:
                if a.get("outcome") and outcomes[a["outcome"]]["urgency"] in URGENT and not a.get("source"):
                    a["source"] = [source]
    for outcome in [*(doc.get("outcomes") or {}).values(),
                    *(o for c in doc["complaints"] for o in (c.get("outcomes") or {}).values())]:
        if outcome["urgency"] in ("U0", "U1") and not outcome.get("steps"):
            outcome["steps"] = ["Stay with her and keep the line open."]
        if outcome["disposition"] in ("advice", "defer_to_day", "gp_post") and not outcome.get("safety_net"):
            outcome["safety_net"] = "Call us back if she gets worse; call 112 if she stops responding."


def next_document(version: int = NEWEST + 1, advice: str = "Changed by the region's clinicians.") -> dict:
    """The newest shipped document with a bumped number, one outcome's advice changed and a complaint added."""
    doc = copy.deepcopy(SHIPPED[-1])
    doc["version"] = version
    _make_format_2(doc)
    first = doc["complaints"][0]
    next(iter(first["outcomes"].values()))["advice"] = advice
    doc["complaints"].append({
        "id": "hiccups", "title": "Persistent hiccups", "start": "h1",
        "nodes": {"h1": {"question": "Has she had the hiccups for more than two days?",
                         "answers": [{"id": "yes", "label": "Yes", "outcome": "hiccups_day"},
                                     {"id": "no", "label": "No", "outcome": "hiccups_advice"}]}},
        "outcomes": {
            "hiccups_day": {"urgency": "U4", "disposition": "defer_to_day",
                            "advice": "Her own team will look tomorrow.",
                            "safety_net": "Call us back if she cannot eat or drink."},
            "hiccups_advice": {"urgency": "U5", "disposition": "advice", "advice": "Sips of cold water may help.",
                               "safety_net": "Call us back if it goes on tomorrow."}}})
    return doc


@pytest.fixture
def settings(database_url: str):
    return test_settings(database_url, protocol_version=None)


@pytest.fixture
def team(world: World, engine, settings) -> World:
    """The world with two clinicians (operators) and a clinician among the nurses' logins."""
    with Session(engine) as session:
        for username, full_name, profession, role in (("clinician1", "Marieke Oosting", "nurse practitioner",
                                                       Role.operator),
                                                      ("clinician2", "Jeroen Lanting", "GP", Role.operator)):
            create_user(session, settings=settings, username=username, password=PASSWORD, role=role, clinician=True,
                        profession=profession, full_name=full_name)
        session.commit()
    for username in ("clinician1", "clinician2"):
        r = world.client.post("/api/auth/token", data={"username": username, "password": PASSWORD})
        world.tokens[username] = r.json()["access_token"]
    return world


def submit(world: World, document: Any, who: str = "coordinator", **body: Any):
    return world.client.post(BASE, json={"document": document, **body}, headers=world.h(who))


def sign(world: World, who: str, version: int = NEWEST + 1, **body: Any):
    return world.client.post(f"{BASE}/{PID}/drafts/{version}/signoffs", json={"comment": f"read by {who}", **body},
                             headers=world.h(who))


def publish(world: World, version: int = NEWEST + 1, who: str = "coordinator"):
    return world.client.post(f"{BASE}/{PID}/drafts/{version}/publish", headers=world.h(who))


def draft(world: World, version: int = NEWEST + 1) -> dict:
    return world.client.get(f"{BASE}/{PID}/drafts/{version}", headers=world.h("operator")).json()


def test_shipped_versions_are_published_at_start_labelled_as_a_starting_point(world: World) -> None:
    versions = world.client.get(BASE, headers=world.h("operator")).json()
    assert [(v["protocol_id"], v["version"]) for v in versions] == [(PID, d["version"]) for d in SHIPPED]
    current = world.client.get(f"{BASE}/current", headers=world.h("operator")).json()
    assert current["version"] == NEWEST and current["pinned"] is False
    assert len(current["complaints"]) == len(SHIPPED[-1]["complaints"])
    governance = current["governance"]
    assert governance["shipped"] is True and governance["signed_off"] is False
    assert governance["statement"] == "shipped starting point, not signed off by the region's clinicians"


def test_draft_two_signoffs_publish_and_calls_keep_their_version(team: World) -> None:
    world = team
    complaint = SHIPPED[-1]["complaints"][0]["id"]
    old_call = new_call(world, "pv-old")
    started = world.client.post(f"/api/calls/{old_call['id']}/triage", json={"complaint": complaint},
                                headers=world.h("operator")).json()
    assert started["protocol"]["version"] == NEWEST

    r = submit(world, yaml.safe_dump(next_document()))  # YAML text is accepted as well as JSON
    assert r.status_code == 201, r.text
    submitted = r.json()
    assert (submitted["state"], submitted["version"], submitted["ready_to_publish"]) == ("draft", NEWEST + 1, False)
    assert submitted["drafted_by"]["name"] == "coordinator" and submitted["authors"] == ["coordinator"]
    assert len(submitted["drafted_by"]["date"]) == 10
    listed = world.client.get(f"{BASE}/drafts", headers=world.h("clinician1")).json()
    assert [(d["protocol_id"], d["version"]) for d in listed] == [(PID, NEWEST + 1)]
    again = submit(world, next_document())
    assert again.status_code == 409 and again.json()["field"] == "version"

    none = publish(world)
    assert none.status_code == 409 and none.json()["field"] == "signoffs"
    first = sign(world, "clinician1", sha256=submitted["sha256"])
    assert first.status_code == 201, first.text
    one = publish(world)
    assert one.status_code == 409 and one.json()["field"] == "signoffs" and "it has 1" in one.json()["detail"]
    twice = sign(world, "clinician1")
    assert twice.status_code == 409 and twice.json()["field"] == "user"
    assert publish(world).status_code == 409
    second = sign(world, "clinician2", comment="Checked against NHG guidance.")
    assert second.status_code == 201 and second.json()["ready_to_publish"] is True
    # Not before a coordinator publishes it: new triages still use the published version.
    assert world.client.get(f"{BASE}/current", headers=world.h("operator")).json()["version"] == NEWEST
    assert publish(world, who="clinician1").status_code == 403

    published = publish(world)
    assert published.status_code == 201, published.text
    governance = published.json()["governance"]
    assert governance["signed_off"] is True and governance["shipped"] is False
    assert governance["drafted_by"] == submitted["drafted_by"]
    assert [(r["name"], r["profession"], r["comment"]) for r in governance["reviewed_by"]] == [
        ("Marieke Oosting", "nurse practitioner", "read by clinician1"),
        ("Jeroen Lanting", "GP", "Checked against NHG guidance.")]
    assert all(len(r["date"]) == 10 for r in governance["reviewed_by"])
    assert governance["published_by"]["username"] == "coordinator" and governance["sha256"] == submitted["sha256"]
    stored = world.client.get(f"{BASE}/{PID}/versions/{NEWEST + 1}", headers=world.h("operator")).json()
    assert stored["governance"] == governance and stored["sha256"] == submitted["sha256"]
    assert draft(world)["state"] == "published"
    late = world.client.put(f"{BASE}/{PID}/drafts/{NEWEST + 1}", json={"document": next_document(advice="later")},
                            headers=world.h("coordinator"))
    assert late.status_code == 409 and late.json()["field"] == "version"
    assert sign(world, "clinician2").status_code == 409
    resubmit = submit(world, next_document())
    assert resubmit.status_code == 409 and f"use v{NEWEST + 2}" in resubmit.json()["detail"]

    d = world.client.get(f"{BASE}/{PID}/diff", params={"from": NEWEST, "to": NEWEST + 1},
                         headers=world.h("coordinator")).json()
    assert d["complaints_added"] == ["hiccups"] and d["complaints_removed"] == []
    changed = next(c for c in d["complaints_changed"] if c["id"] == SHIPPED[-1]["complaints"][0]["id"])
    assert any(o["to"]["advice"] == "Changed by the region's clinicians." for o in changed["outcomes_changed"])

    # The call triaged under the older version finishes under it; a new call uses the new one.
    step = world.client.get(f"/api/calls/{old_call['id']}/triage", headers=world.h("operator")).json()["step"]
    old = world.client.post(f"/api/calls/{old_call['id']}/triage/answers",
                            json={"node": step["node"], "answer": step["answers"][0]["id"]},
                            headers=world.h("operator"))
    assert old.status_code == 200 and old.json()["protocol"]["version"] == NEWEST
    new = world.client.post(f"/api/calls/{new_call(world, 'pv-new', '+31592222222')['id']}/triage",
                            json={"complaint": "hiccups"}, headers=world.h("operator"))
    assert new.status_code == 201 and new.json()["protocol"]["version"] == NEWEST + 1


def test_signoffs_refused_to_non_clinicians_drafters_and_stale_readers(team: World) -> None:
    world = team
    assert submit(world, next_document(), who="clinician1",
                  drafted_by={"name": "Anna de Vries", "profession": "triage nurse"}).status_code == 201
    by_drafter = sign(world, "clinician1")  # submitted it
    assert by_drafter.status_code == 403 and by_drafter.json()["field"] == "user"
    for who in ("operator", "coordinator"):  # not clinicians
        r = sign(world, who)
        assert r.status_code == 403 and r.json()["field"] == "clinician"
    stale = sign(world, "clinician2", sha256="0" * 64)
    assert stale.status_code == 409 and stale.json()["field"] == "sha256"
    assert sign(world, "clinician2").status_code == 201
    refused = publish(world)
    assert refused.status_code == 409 and refused.json()["field"] == "signoffs"
    d = draft(world)
    assert d["drafted_by"] == {"name": "Anna de Vries", "profession": "triage nurse", "date": d["drafted_by"]["date"]}
    # The clinician named as drafter may not review it either.
    world.client.put("/api/users/clinician2/clinician", json={"clinician": True, "full_name": "Anna de Vries"},
                     headers=world.h("coordinator"))
    assert submit(world, next_document(NEWEST + 2), drafted_by={"name": "anna  de vries"}).status_code == 201
    named = sign(world, "clinician2", version=NEWEST + 2)
    assert named.status_code == 403 and named.json()["field"] == "user"
    assert world.client.get(f"{BASE}/drafts", headers=world.h("partner_a")).status_code == 403
    missing = sign(world, "clinician2", version=NEWEST + 9)
    assert missing.status_code == 404 and missing.json()["field"] == "version"


def test_a_changed_draft_voids_the_signoffs_given_before(team: World) -> None:
    world = team
    assert submit(world, next_document()).status_code == 201
    assert sign(world, "clinician1").status_code == 201 and sign(world, "clinician2").status_code == 201
    assert draft(world)["ready_to_publish"] is True
    changed = world.client.put(f"{BASE}/{PID}/drafts/{NEWEST + 1}", json={"document": next_document(advice="v2b")},
                               headers=world.h("coordinator"))
    assert changed.status_code == 200 and changed.json()["ready_to_publish"] is False
    assert [s["valid"] for s in changed.json()["signoffs"]] == [False, False]
    refused = publish(world)
    assert refused.status_code == 409 and "2 given for an earlier document no longer count" in refused.json()["detail"]
    assert sign(world, "clinician1", comment="read again").status_code == 201
    assert sign(world, "clinician2", comment="read again too").status_code == 201
    published = publish(world)
    assert published.status_code == 201
    assert [r["comment"] for r in published.json()["governance"]["reviewed_by"]] == ["read again", "read again too"]
    wrong = world.client.put(f"{BASE}/{PID}/drafts/{NEWEST + 1}", json={"document": next_document(NEWEST + 3)},
                             headers=world.h("coordinator"))
    assert wrong.status_code == 409  # published: the draft cannot change any more


def test_invalid_drafts_are_refused_naming_the_place(team: World) -> None:
    world = team
    doc = next_document()
    doc["complaints"][-1]["nodes"]["h1"]["answers"][0]["outcome"] = "hiccups_nowhere"
    r = submit(world, doc)
    assert r.status_code == 422 and r.json()["field"] == "document"
    assert r.json()["detail"] == "complaint 'hiccups' node 'h1' answer 'yes': unknown outcome 'hiccups_nowhere'"
    garbage = submit(world, "complaints: [")
    assert garbage.status_code == 422 and "not valid YAML" in garbage.json()["detail"]
    old = submit(world, next_document(NEWEST))
    assert old.status_code == 409 and old.json()["field"] == "version"
    assert submit(world, next_document()).status_code == 201
    other = world.client.put(f"{BASE}/{PID}/drafts/{NEWEST + 1}", json={"document": next_document(NEWEST + 2)},
                             headers=world.h("coordinator"))
    assert other.status_code == 422 and other.json()["field"] == "document.version"
    bad_date = submit(world, next_document(NEWEST + 2), drafted_by={"name": "A", "date": "31-12-2026"})
    assert bad_date.status_code == 422 and bad_date.json()["field"] == "drafted_by.date"


def test_who_drafts_and_who_publishes(team: World) -> None:
    world = team
    for who in ("operator", "partner_a", "nurse1"):
        r = submit(world, next_document(), who=who)
        assert r.status_code == 403, who
    assert submit(world, next_document(), who="clinician2").status_code == 201  # a clinician drafts
    assert sign(world, "clinician1").status_code == 201
    assert publish(world, who="operator").status_code == 403


def test_clinician_flag_set_by_coordinators(team: World) -> None:
    world = team
    url = "/api/users/operator/clinician"
    no_profession = world.client.put(url, json={"clinician": True}, headers=world.h("coordinator"))
    assert no_profession.status_code == 422 and no_profession.json()["field"] == "profession"
    assert world.client.put(url, json={"clinician": True, "profession": "GP"},
                            headers=world.h("operator")).status_code == 403
    ok = world.client.put(url, json={"clinician": True, "profession": "GP", "full_name": "Olga Perdok"},
                          headers=world.h("coordinator"))
    assert ok.status_code == 200 and ok.json()["clinician"] is True and ok.json()["profession"] == "GP"
    assert world.client.get("/api/me", headers=world.h("operator")).json()["clinician"] is True
    unknown = world.client.put("/api/users/nobody/clinician", json={"clinician": False},
                               headers=world.h("coordinator"))
    assert unknown.status_code == 404 and unknown.json()["field"] == "username"


def test_a_pinned_version_stays_in_use(team: World, engine, database_url: str) -> None:
    world = team
    assert submit(world, next_document()).status_code == 201
    assert sign(world, "clinician1").status_code == 201 and sign(world, "clinician2").status_code == 201
    assert publish(world).status_code == 201
    with TestClient(create_app(test_settings(database_url, protocol_version=NEWEST), engine=engine)) as pinned:
        current = pinned.get(f"{BASE}/current", headers=world.h("operator")).json()
        assert (current["version"], current["pinned"]) == (NEWEST, True)
        call = world.post_call(source_ref="pv-pinned", caller_phone="+31592111111").json()
        complaint = SHIPPED[-1]["complaints"][0]["id"]
        r = pinned.post(f"/api/calls/{call['id']}/triage", json={"complaint": complaint}, headers=world.h("operator"))
        assert r.status_code == 201 and r.json()["protocol"]["version"] == NEWEST
    with TestClient(create_app(test_settings(database_url, protocol_version=NEWEST + 5), engine=engine)) as wrong:
        call = world.post_call(source_ref="pv-wrong-pin", caller_phone="+31592222222").json()
        r = wrong.post(f"/api/calls/{call['id']}/triage", json={"complaint": "hiccups"}, headers=world.h("operator"))
        assert r.status_code == 409 and r.json()["field"] == "protocol_version"
    # Unpinned (the world's own app): the newest published.
    assert world.client.get(f"{BASE}/current", headers=world.h("operator")).json()["version"] == NEWEST + 1


def test_in_production_shipped_versions_wait_for_signoffs(engine, settings) -> None:
    production = settings.model_copy(update={"environment": "production"})
    register_shipped(engine, production)
    register_shipped(engine, production)  # again: nothing twice
    with Session(engine) as session:
        assert session.exec(select(ProtocolVersion)).all() == []
        drafts = session.exec(select(ProtocolDraft)).all()
    assert [(d.protocol_id, d.version, d.state) for d in drafts] == [(PID, s["version"], "draft") for s in SHIPPED]
    assert drafts[0].drafted_by["name"] == "nightcare project (shipped default)" and drafts[0].authors == []


def test_published_versions_and_signoffs_are_immutable_in_the_database(team: World, engine) -> None:
    assert submit(team, next_document()).status_code == 201
    assert sign(team, "clinician1").status_code == 201
    for statement in ("UPDATE protocol_versions SET title = 'edited'", "DELETE FROM protocol_versions",
                      "UPDATE protocol_signoffs SET comment = 'edited'", "DELETE FROM protocol_signoffs"):
        with Session(engine) as session, pytest.raises(DatabaseError, match="append-only"):
            session.connection().execute(text(statement))
            session.commit()


def test_books_are_html_for_readers(team: World) -> None:
    world = team
    r = world.client.get(f"{BASE}/{PID}/versions/{NEWEST}/book", headers=world.h("operator"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "style-src 'sha256-" in r.headers["content-security-policy"]
    assert "not signed off by the region" in r.text and SHIPPED[-1]["title"] in r.text
    assert submit(world, next_document()).status_code == 201
    book = world.client.get(f"{BASE}/{PID}/drafts/{NEWEST + 1}/book", headers=world.h("clinician1"))
    assert book.status_code == 200 and "draft: 0 of 2" in book.text and "Persistent hiccups" in book.text
    changes = world.client.get(f"{BASE}/{PID}/diff/book", params={"from": NEWEST, "to": NEWEST + 1},
                               headers=world.h("clinician2"))
    assert changes.status_code == 200
    assert "Entry complaints added" in changes.text and "Persistent hiccups" in changes.text
    assert world.client.get(f"{BASE}/{PID}/versions/{NEWEST}/book", headers=world.h("partner_a")).status_code == 403
    missing = world.client.get(f"{BASE}/{PID}/diff/book", params={"from": NEWEST, "to": NEWEST + 7},
                               headers=world.h("operator"))
    assert missing.status_code == 404 and missing.json()["field"] == "version"


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

