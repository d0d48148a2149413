"""The morning handover: what a partner reads of its own clients' night (JSON, HTML, FHIR), audited; the push of the
FHIR Bundle to an organisation's endpoint, retried after a failure (httpx MockTransport, no network)."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dispatch.alerts.models import Alert
from dispatch.audit.models import AuditEntry
from dispatch.calls.models import Call
from dispatch.daytasks.models import DayTask
from dispatch.handover import html
from dispatch.handover.models import HandoverPush
from dispatch.handover.push import push_due
from dispatch.nightbag.models import BagItem, MaterialUse
from dispatch.settings import Settings
from dispatch.triage.models import GpNotification, Triage
from dispatch.visits.models import Observation, Visit, VisitEvent
from tests.world import World

REGION = ZoneInfo("Europe/Amsterdam")
NIGHT = "2026-11-09"
NOTE = "Slept after <b>paracetamol</b> & tea; check the <script>alert(1)</script> wound"
TOKEN = "handover-secret-token-123"


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=REGION)


def _night_of(session: Session, world: World, key: str, org: str, ref: str, at: str) -> dict[str, int]:
    """A call at `at` (local) for client `key`: triaged (with a question), a visit with moves, observations,
    materials and a note, a day task and a GP notification."""
    client_id, org_id = world.clients[key], world.orgs[org]
    t0 = local(at)
    call = Call(source="phone", source_ref=ref, client_id=client_id, organisation_id=org_id, text="fell out of bed",
                state="completed", received_at=t0)
    session.add(call)
    session.flush()
    assert call.id is not None
    trace = [{"node": "fall_injury", "question": "Is the client injured?", "answer": "minor",
              "label": "Minor injury", "signal": None, "abcd": False}]
    session.add(Triage(id=call.id * 10, call_id=call.id, protocol_id="nightcare-regional-night", protocol_version=1,
                       complaint="fall", answers=[["fall_injury", "minor"]], signals=[],
                       computed={"urgency": "U3", "disposition": "nurse_visit", "trace": trace},
                       final_urgency="U3", final_disposition="nurse_visit",
                       advice_given="Stay lying down until the nurse comes.\n1. Keep warm.\n2. Call 112 if she "
                                    "gets drowsy.\nCall us back if she gets worse.",
                       questions_asked=1, started_at=t0, started_by="operator", decided_at=t0 + timedelta(minutes=4),
                       decided_by="operator"))
    visit = Visit(kind="acute", client_id=client_id, organisation_id=org_id, call_id=call.id,
                  window_start=t0, window_end=t0 + timedelta(hours=2), nurse_id=world.nurses["n1"], state="completed",
                  urgency="U3", on_scene_at=t0 + timedelta(minutes=40), completed_at=t0 + timedelta(minutes=65),
                  handover_note=NOTE)
    session.add(visit)
    session.flush()
    assert visit.id is not None
    for minutes, move, to in ((5, "offer", "assigned"), (8, "accept", "accepted"), (20, "en_route", "en_route"),
                              (40, "on_scene", "on_scene"), (65, "complete", "completed")):
        session.add(VisitEvent(visit_id=visit.id, at=t0 + timedelta(minutes=minutes), actor="nurse1",
                               actor_role="nurse", move=move, to_state=to))
    session.add(Observation(visit_id=visit.id, recorded_at=t0 + timedelta(minutes=50), recorded_by="nurse1",
                            respiration_rate=18, spo2=96, on_oxygen=False, systolic_bp=125, pulse=88,
                            consciousness="alert", temperature=37.1, news2_total=0, news2_risk="low"))
    item = session.exec(select(BagItem).where(BagItem.name == "Gauze")).first() or BagItem(name="Gauze")
    session.add(item)
    session.flush()
    assert item.id is not None
    session.add(MaterialUse(visit_id=visit.id, item_id=item.id, quantity=2, recorded_by="nurse1",
                            at=t0 + timedelta(minutes=60)))
    session.add(DayTask(organisation_id=org_id, client_id=client_id, call_id=call.id, summary="Check the wound",
                        created_at=t0 + timedelta(minutes=66)))
    session.add(GpNotification(call_id=call.id, triage_id=call.id * 10, client_id=client_id,
                               text="Fall, minor injury, nurse sent", created_by="operator"))
    return {"call": call.id, "visit": visit.id}


@pytest.fixture
def night(world: World, engine: Engine) -> dict[str, dict[str, int]]:
    with Session(engine) as session:
        made = {"a1": _night_of(session, world, "a1", "a", "h-1", "2026-11-09T23:40:00"),
                "b1": _night_of(session, world, "b1", "b", "h-2", "2026-11-10T02:10:00")}
        # After 07:00 the next night's: not in this handover.
        session.add(Call(source="phone", source_ref="h-3", client_id=world.clients["a2"],
                         organisation_id=world.orgs["a"], received_at=local("2026-11-10T07:30:00")))
        session.commit()
    return made


@pytest.mark.parametrize("backend", ["sqlite"])
def test_partner_reads_its_own_handover_audited(world: World, night, engine: Engine) -> None:
    r = world.client.get("/api/handover", params={"night": NIGHT}, headers=world.h("partner_a"))
    assert r.status_code == 200, r.text
    [h] = r.json()["handovers"]
    assert h["organisation"]["code"] == "org-a" and h["final"] is True
    assert [c["client"]["id"] for c in h["clients"]] == [world.clients["a1"]]  # not a2's call after 07:00
    entry = h["clients"][0]
    triage = entry["calls"][0]["triages"][0]
    assert triage["questions"][0]["question"] == "Is the client injured?" and triage["final_urgency"] == "U3"
    assert triage["advice_given"].startswith("Stay lying down")
    visit = entry["visits"][0]
    assert visit["observations"][0]["news2_total"] == 0 and visit["materials"][0] == {
        "item": "Gauze", "quantity": 2, "recorded_by": "nurse1", "at": visit["materials"][0]["at"]}
    assert visit["handover_note"] == NOTE and [e["move"] for e in visit["events"]][-1] == "complete"
    assert entry["day_tasks"][0]["summary"] == "Check the wound"
    assert entry["calls"][0]["gp_notifications"][0]["text"].startswith("Fall")
    with Session(engine) as session:
        audited = session.exec(select(AuditEntry).where(AuditEntry.username == "partner_a",
                                                        AuditEntry.data == "handover")).all()
    assert [(a.client_id, a.action) for a in audited] == [(world.clients["a1"], "read")]
    assert audited[0].reason.startswith("morning handover")

    # Another organisation's handover: 404 in every form; the coordinator reads both.
    for path in ("/api/handover", "/api/handover.html", "/api/handover.fhir"):
        r = world.client.get(path, params={"night": NIGHT, "organisation": "org-b"}, headers=world.h("partner_a"))
        assert r.status_code == 404, (path, r.text)
    for who in ("operator", "nurse1"):
        assert world.client.get("/api/handover", params={"night": NIGHT}, headers=world.h(who)).status_code == 403
    r = world.client.get("/api/handover", params={"night": NIGHT}, headers=world.h("coordinator"))
    assert [h["organisation"]["code"] for h in r.json()["handovers"]] == ["org-a", "org-b"]


def test_advice_steps() -> None:
    """Advice is stored a line each (protocols/advice.py): message, numbered steps, safety net."""
    assert html.advice_steps("Help is coming.\n1. Stay warm.\n2. Call 112 if worse.\nCall back if she gets worse.") == (
        ["Help is coming."], ["Stay warm.", "Call 112 if worse."], ["Call back if she gets worse."])
    assert html.advice_steps("1. Sit.\n2. Wait.") == ([], ["Sit.", "Wait."], [])
    assert html.advice_steps("Drink 2. glasses of water.") == (["Drink 2. glasses of water."], [], [])
    assert html.advice_steps("Wait.\n2. Sit.") == (["Wait."], [], ["2. Sit."])  # not numbered from 1: no list


@pytest.mark.parametrize("backend", ["sqlite"])
def test_printable_page_and_fhir_document(world: World, night) -> None:
    r = world.client.get("/api/handover.html", params={"night": NIGHT}, headers=world.h("partner_b"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
    assert "<style>" in page and "http://" not in page and "https://" not in page and "src=" not in page
    assert "Wolters" in page and "Bakker" not in page
    assert "03:15" in page  # completed 02:10 + 65 min, shown in local 24-hour time
    # In words: one call (not "1 calls"), the outcome, the NEWS2 band, the advice's steps as a numbered list.
    assert "1 client, 1 call, 1 visit" in page, page
    assert "U3 · nurse visit" in page and "nurse_visit" not in page
    assert "<strong>0</strong> (low)" in page
    assert ("<p>Advice given: Stay lying down until the nurse comes.</p><ol><li>Keep warm.</li>"
            "<li>Call 112 if she gets drowsy.</li></ol><p>Call us back if she gets worse.</p>") in page
    # Its own strict policy allows its one stylesheet, by hash (the portal's pages allow the same hash).
    assert r.headers["content-security-policy"].startswith("default-src 'none'; style-src 'sha256-")
    assert html.STYLE_HASH in world.client.get("/partner/").headers["content-security-policy"]

    r = world.client.get("/api/handover.fhir", params={"night": NIGHT}, headers=world.h("partner_a"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(r.json())  # the library's own validation, again on the client's side
    assert bundle.type == "document"
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    assert kinds[0] == "Composition" and kinds.count("Composition") == 2  # the night's, and one per client
    assert {"Patient", "Observation", "Encounter", "Task", "Communication", "Organization"} <= set(kinds)
    codes = {c.code for e in bundle.entry if e.resource.get_resource_type() == "Observation"
             for c in e.resource.code.coding or []}
    assert {"9279-1", "59408-5", "8480-6", "8867-4", "8310-5", "1104051000000101"} <= codes
    assert bundle.entry
    client_doc = bundle.entry[0].resource.section[0].entry[0].reference
    comp = next(e.resource for e in bundle.entry if e.fullUrl == client_doc)
    assert [s.title for s in comp.section] == ["Calls and triage", "Observations", "Nursing actions",
                                               "Advice given", "Follow-up tasks for the day team"]
    assert "&lt;script&gt;" in comp.section[2].text.div
    # A coordinator names the organisation; without it the request is refused naming the field.
    r = world.client.get("/api/handover.fhir", params={"night": NIGHT}, headers=world.h("coordinator"))
    assert r.status_code == 422 and r.json()["field"] == "organisation"


def test_push_is_retried_after_a_failure(world: World, night, engine: Engine, settings: Settings,
                                         caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503 if len(seen) == 1 else 201, json={"resourceType": "Bundle"})

    # As an operator configures it: JSON in the environment.
    monkeypatch.setenv("NIGHTCARE_HANDOVER_ENDPOINTS",
                       json.dumps({"org-a": {"url": "https://fhir.org-a.example/Bundle", "token": TOKEN}}))
    configured = Settings(database_url=settings.database_url).handover_endpoints
    assert TOKEN not in repr(configured)
    pushing = settings.model_copy(update={"handover_endpoints": configured, "handover_push_backoff_s": 60.0})
    http = httpx.Client(transport=httpx.MockTransport(answer))
    at = local("2026-11-10T07:05:00")
    caplog.set_level(logging.DEBUG)

    first = push_due(engine, pushing, http, now=at)
    assert first.failed == ["org-a"] and first.pushed == []
    assert push_due(engine, pushing, http, now=at + timedelta(seconds=30)).failed == []  # backing off: not yet
    second = push_due(engine, pushing, http, now=at + timedelta(seconds=61))
    assert second.pushed == ["org-a"]
    assert push_due(engine, pushing, http, now=at + timedelta(minutes=5)).pushed == []  # once pushed, done

    assert len(seen) == 2 and seen[1].headers["authorization"] == f"Bearer {TOKEN}"
    assert seen[1].headers["content-type"] == "application/fhir+json"
    sent = Bundle.model_validate(json.loads(seen[1].content))
    assert sent.type == "document" and sent.entry and sent.entry[0].resource.title.endswith("Thuiszorg A")
    with Session(engine) as session:
        [row] = session.exec(select(HandoverPush)).all()
        alerts = session.exec(select(Alert).where(Alert.kind == "handover_push_failed")).all()
    assert (row.attempts, row.last_error, row.clients, str(row.night)) == (2, "", 1, NIGHT)
    assert row.pushed_at is not None
    assert len(alerts) == 1 and "HTTP 503" in alerts[0].message and TOKEN not in alerts[0].message
    assert TOKEN not in caplog.text and "HTTP 503" in caplog.text

    r = world.client.get("/api/handover/pushes", headers=world.h("partner_a"))
    assert [(p["organisation"], p["state"], p["attempts"]) for p in r.json()] == [("org-a", "pushed", 2)]
    assert world.client.get("/api/handover/pushes", headers=world.h("partner_b")).json() == []
