"""When an offer that is not accepted is escalated, and what the operators are told.

The service's clock starts at 23:30 on a winter night (injected, whatever the wall clock says); each escalation
pass is run at a moment the test chooses. Both nurses of the test world are on duty around that night."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from dispatch.alerts.models import Alert
from dispatch.app import create_app
from dispatch.errors import Conflict
from dispatch.nurses.models import Shift
from dispatch.ports import NoSms
from dispatch.responders.escalation import ESCALATION, due_at, tick
from dispatch.responders.models import OutboxMessage
from dispatch.settings import Settings
from dispatch.timeutil import current_clock, use_clock
from dispatch.visits import service as visits
from dispatch.visits.lifecycle import Move
from dispatch.visits.models import Visit
from tests.conftest import test_settings
from tests.test_assignment import acute_visit, replan
from tests.test_triage import SAFE
from tests.world import World, build_world

NIGHT = datetime(2026, 1, 14, 22, 30, tzinfo=UTC)  # 23:30 in Amsterdam


class Texts:
    """An SMS provider that takes every message (what was sent, to whom)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, body: str) -> str:
        self.sent.append((to, body))
        return f"SM{len(self.sent)}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return test_settings(database_url, clock_start=NIGHT, escalation_tick_s=60, offer_lead_minutes=45)


@pytest.fixture
def app(settings: Settings, engine):
    previous = current_clock()
    yield create_app(settings, engine=engine)
    use_clock(previous)


@pytest.fixture
def world(engine, settings: Settings, client: TestClient) -> World:
    world = build_world(engine, settings, client)  # (its own two visits lie months after this night)
    with Session(engine) as s:
        for nurse_id in world.nurses.values():
            s.add(Shift(nurse_id=nurse_id, starts_at=NIGHT - timedelta(hours=1), ends_at=NIGHT + timedelta(hours=8)))
        s.commit()
    return world


def planned(world: World, engine, *, starts_in: timedelta) -> int:
    start = NIGHT + starts_in
    r = world.client.post("/api/visits", headers=world.h("partner_b"), json={
        "client_id": world.clients["b1"], "window_start": start.isoformat(),
        "window_end": (start + timedelta(minutes=90)).isoformat(), "service_minutes": 20})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def row(engine, visit_id: int) -> Visit:
    with Session(engine) as s:
        visit = s.get(Visit, visit_id)
        assert visit is not None
        return visit


def alerts(engine, **where: object) -> list[Alert]:
    with Session(engine) as s:
        stmt = select(Alert).order_by(col(Alert.id))
        for name, value in where.items():
            stmt = stmt.where(getattr(Alert, name) == value)
        return list(s.exec(stmt))


def name_of(world: World, nurse_id: int | None) -> str:
    return {world.nurses["n1"]: "Anouk", world.nurses["n2"]: "Sanne"}[nurse_id]  # type: ignore[index]


def test_a_planned_visit_offered_hours_ahead_waits_until_its_window_nears(world: World, engine, app) -> None:
    settings, texts = app.state.settings, Texts()
    vid = planned(world, engine, starts_in=timedelta(hours=3))  # window 02:30-04:00
    replan(world)
    offered = row(engine, vid)
    nurse = offered.nurse_id
    assert offered.state == "assigned" and nurse is not None and offered.offered_at is not None
    # Long past the usual 3 minutes, hours before the window: no SMS, no alert, still hers.
    for later in (timedelta(minutes=4), timedelta(minutes=30), timedelta(hours=2)):
        result = tick(engine, settings, texts, now=offered.offered_at + later)
        assert vid not in result.released + result.kept + result.sms_sent
    assert row(engine, vid).nurse_id == nurse and texts.sent == [] and alerts(engine, visit_id=vid) == []
    # The deadline counts from 45 minutes before the window (01:45): the SMS a minute later, then the operators.
    due = due_at(offered, settings)
    assert due == NIGHT + timedelta(hours=3) - timedelta(minutes=45)
    assert vid in tick(engine, settings, texts, now=due + timedelta(seconds=61)).sms_sent
    assert vid in tick(engine, settings, texts, now=due + timedelta(seconds=181)).released
    moved = row(engine, vid)
    assert moved.nurse_id != nurse and not moved.locked
    [alert] = alerts(engine, visit_id=vid)
    assert alert.kind == "offer_unanswered" and alert.nurse_id == nurse
    assert alert.message.startswith(f"{name_of(world, nurse)} did not accept the planned visit to Geertje Wolters")
    assert f"at 02:30–04:00 (visit {vid}) within 3 min" in alert.message and f"nurse {nurse}" not in alert.message
    # Her phone is told, and asking for the visit now is a plain refusal naming the field.
    nurse_login = "nurse1" if nurse == world.nurses["n1"] else "nurse2"
    r = world.client.get(f"/api/visits/{vid}", headers=world.h(nurse_login))
    assert r.status_code == 404 and r.json()["field"] == "visit_id"
    with Session(engine) as s:
        kinds = [m.kind for m in s.exec(select(OutboxMessage).where(OutboxMessage.nurse_id == nurse)
                                        .order_by(col(OutboxMessage.seq))) if m.payload.get("visit_id") == vid]
    assert kinds[-1] == "job.cancelled"
    # Her colleague does not answer either: it stays with the colleague (no round of the same silent phones).
    replan(world)
    second = row(engine, vid)
    assert second.nurse_id not in (None, nurse) and second.offered_at is not None
    for seconds in (181, 400):
        result = tick(engine, settings, texts, now=due_at(second, settings) + timedelta(seconds=seconds))
        assert vid in result.kept and vid not in result.released
    assert row(engine, vid).nurse_id == second.nurse_id
    assert [a.nurse_id for a in alerts(engine, visit_id=vid)] == [nurse, second.nurse_id]


def test_an_urgent_calls_visit_is_escalated_at_once(world: World, engine, app) -> None:
    settings, texts = app.state.settings, Texts()
    made = acute_visit(world, "esc-1", [*SAFE, "no", "no", "no"])  # U2
    vid = made["visit_id"]
    replan(world)
    offered = row(engine, vid)
    assert offered.state == "assigned" and offered.offered_at is not None
    assert due_at(offered, settings) == offered.offered_at
    assert vid in tick(engine, settings, texts, now=offered.offered_at + timedelta(seconds=61)).sms_sent
    assert vid in tick(engine, settings, texts, now=offered.offered_at + timedelta(seconds=181)).released
    [alert] = alerts(engine, visit_id=vid)
    assert alert.call_id == made["call"]["id"]
    assert "the U2 visit to Aaltje Bakker in " in alert.message
    assert f"for call {made['call']['id']} (visit {vid})" in alert.message


def test_a_hand_assignment_stays_with_her_and_is_alerted_once(world: World, engine, app) -> None:
    settings, texts = app.state.settings, Texts()
    vid = planned(world, engine, starts_in=timedelta(minutes=30))  # due now
    sanne = world.nurses["n2"]
    r = world.client.post(f"/api/visits/{vid}/assign", json={"nurse_id": sanne}, headers=world.h("operator"))
    assert r.status_code == 200 and r.json()["locked"] is True
    offered_at = row(engine, vid).offered_at
    assert offered_at is not None
    assert vid in tick(engine, settings, texts, now=offered_at + timedelta(seconds=61)).sms_sent  # she is nudged
    for later in (181, 300, 600):
        result = tick(engine, settings, texts, now=offered_at + timedelta(seconds=later))
        assert vid in result.kept and vid not in result.released
    [alert] = alerts(engine, visit_id=vid)
    assert alert.kind == "offer_unanswered" and alert.nurse_id == sanne
    assert alert.message.startswith("Sanne did not accept the planned visit to Geertje Wolters")
    assert "stays with her until an operator" in alert.message
    # Acknowledged, it does not come back for the same offer.
    assert world.client.post(f"/api/alerts/{alert.id}/acknowledge", headers=world.h("operator")).status_code == 200
    tick(engine, settings, texts, now=offered_at + timedelta(minutes=20))
    assert len(alerts(engine, visit_id=vid)) == 1
    # Neither a re-plan nor the escalation itself can take it from her.
    replan(world)
    kept = row(engine, vid)
    assert (kept.nurse_id, kept.state, kept.locked) == (sanne, "assigned", True)
    with Session(engine) as s:
        visit = s.get(Visit, vid)
        assert visit is not None
        with pytest.raises(Conflict):
            visits.move(s, ESCALATION, visit, Move.unanswered, reason="not accepted")
    with Session(engine) as s:
        told = [m.kind for m in s.exec(select(OutboxMessage).where(OutboxMessage.nurse_id == sanne))
                if m.payload.get("visit_id") == vid]
    assert "job.cancelled" not in told
    # She can still decline it, which does take it from her.
    r = world.client.post(f"/api/visits/{vid}/decline", json={"reason": "stuck at another client"},
                          headers=world.h("nurse2"))
    assert r.status_code == 200 and r.json()["state"] == "open"


def test_no_sms_provider_is_one_alert_not_one_per_offer(world: World, engine, app) -> None:
    settings = app.state.settings
    first = planned(world, engine, starts_in=timedelta(minutes=20))
    second = planned(world, engine, starts_in=timedelta(minutes=40))
    for vid, nurse in ((first, "n1"), (second, "n2")):
        r = world.client.post(f"/api/visits/{vid}/assign", json={"nurse_id": world.nurses[nurse]},
                              headers=world.h("operator"))
        assert r.status_code == 200
    offers = [row(engine, vid).offered_at for vid in (first, second)]
    offered_at = max(at for at in offers if at is not None)
    for later in (61, 90, 120):
        tick(engine, settings, NoSms(), now=offered_at + timedelta(seconds=later))
    [alert] = alerts(engine, kind="sms_not_configured")
    assert "no SMS provider is configured" in alert.message
    assert alerts(engine, kind="sms_failed") == []
    assert row(engine, first).sms_at is not None and row(engine, second).sms_at is not None  # tried once each
