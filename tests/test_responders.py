"""Responders over the API: offers in the outbox, accept/decline/progress, key-safe reveals, escalation by SMS
(the real Twilio SDK with a recording HTTP client), and Twilio's webhooks with their signature check."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from adapters.twilio import TwilioSms
from dispatch.alerts.models import Alert
from dispatch.app import create_app
from dispatch.audit.models import AuditEntry
from dispatch.calls.models import Call
from dispatch.responders.escalation import due_at, tick
from dispatch.responders.models import OutboxMessage
from dispatch.visits.models import Visit, VisitDecline, VisitEvent
from tests.conftest import test_settings
from tests.test_assignment import replan
from tests.twilio_fake import ACCOUNT_SID, AUTH_TOKEN, RecordingTwilioHttp, sign
from tests.world import KEYSAFE_CODE, World, build_world

SMS_FROM = "+3197010000001"


@pytest.fixture
def twilio_http() -> RecordingTwilioHttp:
    return RecordingTwilioHttp()


@pytest.fixture
def settings(database_url: str):
    return test_settings(database_url, twilio_account_sid=ACCOUNT_SID, twilio_auth_token=AUTH_TOKEN,
                         twilio_from_number=SMS_FROM, operator_line="+31592300300", escalation_tick_s=60)


@pytest.fixture
def app(settings, engine, twilio_http):
    return create_app(settings, engine=engine,
                      sms=TwilioSms(ACCOUNT_SID, AUTH_TOKEN, SMS_FROM, http_client=twilio_http))


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


@pytest.fixture
def world(engine, settings, client) -> World:
    from tests.test_assignment import on_duty
    return on_duty.__wrapped__(build_world(engine, settings, client), engine)  # type: ignore[attr-defined]


def messages(engine, nurse_id: int) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.nurse_id == nurse_id)
                           .order_by(col(OutboxMessage.seq))))


def assign(world: World, visit: str, nurse: str):
    return world.client.post(f"/api/visits/{world.visits[visit]}/assign",
                             json={"nurse_id": world.nurses[nurse]}, headers=world.h("operator"))


def test_an_assignment_is_offered_to_the_nurse_and_withdrawn_from_the_previous_one(world: World, engine) -> None:
    assert assign(world, "b1", "n2").status_code == 200
    # (a background re-plan may offer her other work meanwhile: look at b1's offer)
    offered = [m for m in messages(engine, world.nurses["n2"])
               if m.kind == "job.offered" and m.payload["visit_id"] == world.visits["b1"]]
    assert len(offered) == 1
    assert offered[0].payload["address"].startswith("Kerkstraat 1")
    assert "code" not in str(offered[0].payload).lower().replace("postcode", "")
    assert assign(world, "b1", "n1").status_code == 200
    n2 = messages(engine, world.nurses["n2"])
    about_b1 = [m.kind for m in n2 if m.payload.get("visit_id") == world.visits["b1"]]
    assert about_b1[0] == "job.offered" and about_b1[-1] == "job.cancelled"  # (an ETA update may come between)
    assert [m.seq for m in n2] == list(range(1, len(n2) + 1))  # her own sequence, no gaps
    assert next(m.kind for m in messages(engine, world.nurses["n1"])
                if m.payload.get("visit_id") == world.visits["b1"]) == "job.offered"


def test_sequences_stay_gap_free_across_batches_rollbacks_and_transactions(world: World, engine) -> None:
    from dispatch.responders import outbox

    nurse = world.nurses["n2"]
    with Session(engine) as session:
        for i in range(3):  # one transaction, several messages (as a re-plan writes them)
            outbox.publish(session, nurse, "job.updated", {"visit_id": -1, "n": i})
        session.commit()
        outbox.publish(session, nurse, "job.updated", {"visit_id": -1, "n": 3})  # same session, next transaction
        session.rollback()  # nothing of it is sent, and its number is given out again
        outbox.publish(session, nurse, "job.updated", {"visit_id": -1, "n": 4})
        session.commit()
    everything = messages(engine, nurse)  # (background re-plans may write to her too, in between)
    assert [m.seq for m in everything] == list(range(1, len(everything) + 1))
    mine = [m for m in everything if "n" in m.payload]
    assert [m.payload["n"] for m in mine] == [0, 1, 2, 4]
    assert mine[1].seq - mine[0].seq == mine[2].seq - mine[1].seq == 1  # one batch, consecutive


def test_accept_progress_complete_and_the_call_follows(world: World, engine) -> None:
    from tests.test_assignment import acute_visit
    from tests.test_triage import SAFE
    job = acute_visit(world, "resp-1", [*SAFE, "no", "no", "no"])
    vid = job["visit_id"]
    r = world.client.post(f"/api/visits/{vid}/assign", json={"nurse_id": world.nurses["n1"]},
                          headers=world.h("operator"))
    assert r.status_code == 200
    assert world.client.post(f"/api/visits/{vid}/progress", json={"state": "on_scene"},
                             headers=world.h("nurse1")).status_code == 409  # not accepted yet
    assert world.client.post(f"/api/visits/{vid}/accept", headers=world.h("nurse2")).status_code == 404
    r = world.client.post(f"/api/visits/{vid}/accept", headers=world.h("nurse1"))
    assert r.status_code == 200 and r.json()["state"] == "accepted"
    replan(world)
    assert world.client.get(f"/api/visits/{vid}", headers=world.h("operator")).json()["nurse_id"] == world.nurses["n1"]
    items = world.client.get("/api/nightbag/items", headers=world.h("nurse1")).json()
    for state in ("en_route", "on_scene"):
        assert world.client.post(f"/api/visits/{vid}/progress", json={"state": state},
                                 headers=world.h("nurse1")).status_code == 200
    body = {"state": "completed", "handover_note": "Helped back to bed; no injury seen.",
            "materials": [{"item_id": 999999, "quantity": 1}]}
    r = world.client.post(f"/api/visits/{vid}/progress", json=body, headers=world.h("nurse1"))
    assert r.status_code == 422 and r.json()["field"] == "materials[0].item_id"
    if items:
        body["materials"] = [{"item_id": items[0]["id"], "quantity": 2}]
    else:
        body["materials"] = []
    assert world.client.post(f"/api/visits/{vid}/progress", json=body, headers=world.h("nurse1")).status_code == 200
    call = world.client.get(f"/api/calls/{job['call']['id']}", headers=world.h("operator")).json()
    assert call["state"] == "completed"
    assert [e["to_state"] for e in call["events"]][-4:] == ["accepted", "en_route", "on_scene", "completed"]


def test_a_declined_job_goes_to_another_nurse_and_never_back(world: World, engine) -> None:
    vid = world.visits["a1"]  # assigned to n1 in the world
    r = world.client.post(f"/api/visits/{vid}/decline", json={"reason": ""}, headers=world.h("nurse1"))
    assert r.status_code == 422 and r.json()["field"] == "reason"
    r = world.client.post(f"/api/visits/{vid}/decline", json={"reason": "still with a palliative client"},
                          headers=world.h("nurse1"))
    assert r.status_code == 200 and r.json()["state"] == "open"
    for _ in range(3):
        replan(world)
        assert world.client.get(f"/api/visits/{vid}", headers=world.h("operator")).json()["nurse_id"] \
            in (None, world.nurses["n2"])
    with Session(engine) as s:
        decline = s.exec(select(VisitDecline).where(VisitDecline.visit_id == vid)).one()
        assert decline.reason == "still with a palliative client" and decline.by == "nurse1"
    explanation = world.client.get(f"/api/visits/{vid}/explanation", headers=world.h("operator")).json()
    assert world.client.get(f"/api/visits/{vid}", headers=world.h("operator")).json()["nurse_id"] == world.nurses["n2"]
    by_nurse = {n["nurse_id"]: n for n in explanation["nurses"]}
    assert explanation["nurse_id"] == world.nurses["n2"]
    assert by_nurse[world.nurses["n1"]]["eta"] is None  # she declined: she cannot be given it


def _reveal(world: World, who: str, visit_id: int):
    return world.client.post(f"/api/visits/{visit_id}/keysafe", headers=world.h(who))


def test_the_key_safe_code_only_for_the_assigned_nurse_on_an_accepted_open_job(world: World, engine,
                                                                               caplog) -> None:
    caplog.set_level(logging.DEBUG)
    vid = world.visits["a1"]  # n1's job at a client with a key safe
    assert assign(world, "a1", "n1").status_code == 200
    refused_early = _reveal(world, "nurse1", vid)
    assert refused_early.status_code == 403 and "accept" in refused_early.json()["detail"]
    assert world.client.post(f"/api/visits/{vid}/accept", headers=world.h("nurse1")).status_code == 200
    other = _reveal(world, "nurse2", vid)
    assert other.status_code == 404 and KEYSAFE_CODE not in other.text
    assert _reveal(world, "operator", vid).status_code == 403  # operators never see codes
    shown = _reveal(world, "nurse1", vid)
    assert shown.status_code == 200 and shown.json()["code"] == KEYSAFE_CODE
    assert shown.headers["cache-control"] == "no-store"
    for state in ("en_route", "on_scene", "completed"):
        world.client.post(f"/api/visits/{vid}/progress", json={"state": state}, headers=world.h("nurse1"))
    after = _reveal(world, "nurse1", vid)
    assert after.status_code == 403
    with Session(engine) as s:
        entries = list(s.exec(select(AuditEntry).where(AuditEntry.data == "keysafe")))
        visit_entries = list(s.exec(select(AuditEntry).where(AuditEntry.action == "reveal")))
    assert [(e.username, e.outcome) for e in entries] == [("nurse1", "denied"), ("nurse1", "allowed"),
                                                          ("nurse1", "denied")]
    assert ("nurse2", "denied") in [(e.username, e.outcome) for e in visit_entries]
    # The code appears nowhere else: not in the visit, the client summary, the outbox, the audit, or any log line.
    client = world.client.get(f"/api/clients/{world.clients['a1']}", headers=world.h("partner_a"))
    visit = world.client.get(f"/api/visits/{vid}", headers=world.h("operator"))
    audit = world.client.get("/api/audit", headers=world.h("coordinator"))
    for text in (client.text, visit.text, audit.text, caplog.text,
                 str([m.payload for m in messages(engine, world.nurses["n1"])])):
        assert KEYSAFE_CODE not in text


def due(engine, visit_id: int, settings) -> datetime:
    """When the offer's deadline starts counting (its window is an hour off: 45 minutes before it)."""
    with Session(engine) as s:
        visit = s.get(Visit, visit_id)
        assert visit is not None and visit.offered_at is not None
        return due_at(visit, settings)


def test_escalation_sms_then_alert_and_replan(world: World, engine, app, twilio_http) -> None:
    settings = app.state.settings
    vid = world.visits["b1"]
    replan(world)  # the planner offers it to one of them; she does not accept
    with Session(engine) as s:
        nurse = s.get(Visit, vid).nurse_id
    assert nurse is not None
    offered_at = due(engine, vid, settings)
    assert tick(engine, settings, app.state.sms, now=offered_at + timedelta(seconds=30)).sms_sent == []
    result = tick(engine, settings, app.state.sms, now=offered_at + timedelta(seconds=61))
    assert vid in result.sms_sent
    sent = next(r for r in twilio_http.requests if f"job {vid} " in r["data"]["Body"])
    assert sent["uri"] == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    phone = {world.nurses["n1"]: "+31612340001", world.nurses["n2"]: "+31612340002"}[nurse]
    assert sent["data"]["To"] == phone and sent["data"]["From"] == SMS_FROM
    assert sent["auth"] == (ACCOUNT_SID, AUTH_TOKEN)
    body = sent["data"]["Body"]
    assert f"OK {vid}" in body
    for secret in ("1234", "Geertje", "Wolters", "Kerkstraat", "U2", "U3"):
        assert secret not in body  # no code, name, address or urgency in an SMS
    # Not sent twice.
    assert vid not in tick(engine, settings, app.state.sms, now=offered_at + timedelta(seconds=90)).sms_sent
    result = tick(engine, settings, app.state.sms, now=offered_at + timedelta(seconds=181))
    assert vid in result.released
    with Session(engine) as s:
        # Taken back from her (the re-plan that follows, in the background, may already have offered it on)
        moves = s.exec(select(VisitEvent).where(VisitEvent.visit_id == vid).order_by(col(VisitEvent.id))).all()
        released = [m for m in moves if m.from_state == "assigned" and m.to_state == "open"]
        assert released and released[-1].nurse_before == nurse and released[-1].nurse_id is None
        assert s.get(Visit, vid).nurse_id != nurse
        alert = s.exec(select(Alert).where(Alert.visit_id == vid)).one()
        assert alert.kind == "offer_unanswered" and "3 min" in alert.message
    # Her phone is told the job is no longer hers (a background re-plan may add a plan message after it).
    about = [m.kind for m in messages(engine, nurse) if m.payload.get("visit_id") == vid]
    assert about[-1] == "job.cancelled"
    replan(world)
    assert world.client.get(f"/api/visits/{vid}", headers=world.h("operator")).json()["nurse_id"] != nurse


def test_a_failed_sms_alerts_the_operators(world: World, engine, app, twilio_http) -> None:
    twilio_http.fail = True
    assert assign(world, "b1", "n2").status_code == 200
    offered_at = due(engine, world.visits["b1"], app.state.settings)
    result = tick(engine, app.state.settings, app.state.sms, now=offered_at + timedelta(seconds=61))
    assert world.visits["b1"] in result.sms_failed
    with Session(engine) as s:
        alert = s.exec(select(Alert).where(Alert.kind == "sms_failed", Alert.visit_id == world.visits["b1"])).one()
        assert alert.nurse_id == world.nurses["n2"]


def test_twilio_unreachable_is_an_alert_not_a_traceback(world: World, engine, app, twilio_http, caplog) -> None:
    twilio_http.unreachable = True
    assert assign(world, "b1", "n2").status_code == 200
    offered_at = due(engine, world.visits["b1"], app.state.settings)
    for seconds in (61, 75, 90):  # ticks go on; the SMS is tried once
        result = tick(engine, app.state.settings, app.state.sms, now=offered_at + timedelta(seconds=seconds))
        assert result.sms_sent == []
    with Session(engine) as s:  # (a background re-plan may offer her other jobs too: look at b1's)
        alerts = s.exec(select(Alert).where(Alert.kind == "sms_failed", Alert.visit_id == world.visits["b1"])).all()
    assert len(alerts) == 1 and "could not be reached" in alerts[0].message
    assert "Traceback" not in caplog.text
    listed = world.client.get("/api/alerts", headers=world.h("operator")).json()
    assert any(a["kind"] == "sms_failed" and a["visit_id"] == world.visits["b1"] for a in listed)


async def test_twilio_webhooks_do_not_block_the_event_loop(app, engine, monkeypatch) -> None:
    """The database work of a webhook runs in the threadpool: a slow one does not hold up other requests."""
    import threading

    import httpx

    from adapters import twilio_webhooks

    real = twilio_webhooks.calls.create_call

    entered, release = threading.Event(), threading.Event()

    def slow_create_call(*args, **kwargs):  # held until the health check has been answered
        entered.set()
        release.wait(timeout=10)
        return real(*args, **kwargs)

    monkeypatch.setattr(twilio_webhooks.calls, "create_call", slow_create_call)
    params = {"CallSid": "CA" + "2" * 32, "From": "+31592111111", "CallStatus": "ringing"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        voice = asyncio.create_task(client.post("/twilio/voice", data=params, headers={
            "X-Twilio-Signature": sign("http://testserver/twilio/voice", params)}))
        await asyncio.to_thread(entered.wait, 30)
        health = await client.get("/healthz")
        # Answered while the webhook's database work is still held: had that work run on the event loop, the
        # health check would only have been served after it (when the webhook's answer was already done).
        assert health.status_code == 200 and not voice.done()
        release.set()
        assert (await voice).status_code == 200


async def test_twilio_is_under_the_request_limiter() -> None:
    import asyncio as aio

    from dispatch.concurrency import RequestLimiter

    gate = aio.Event()

    async def slow_app(scope, receive, send) -> None:
        await gate.wait()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limiter = RequestLimiter(slow_app, limit=1, wait_s=0.1, prefixes=("/api", "/twilio"))
    sent: list[dict] = []

    async def send(message) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    first = aio.create_task(limiter({"type": "http", "path": "/twilio/voice"}, receive, send))
    await aio.sleep(0.01)
    await limiter({"type": "http", "path": "/twilio/sms"}, receive, send)  # the one slot is taken
    assert sent[0]["status"] == 503
    gate.set()
    await first


def _twilio_post(world: World, path: str, params: dict[str, str], *, signature: str | None = None):
    url = f"http://testserver{path}"
    return world.client.post(path, data=params,
                             headers={"X-Twilio-Signature": signature if signature is not None else sign(url, params)})


def test_voice_webhook_checks_the_signature_and_takes_the_call_once(world: World, engine, caplog) -> None:
    caplog.set_level(logging.WARNING)
    params = {"CallSid": "CA" + "1" * 32, "From": "+31592111111", "To": "+31592300000", "CallStatus": "ringing"}
    forged = _twilio_post(world, "/twilio/voice", params, signature="bm90IGEgc2lnbmF0dXJl")
    assert forged.status_code == 403 and forged.json()["field"] == "X-Twilio-Signature"
    assert "invalid signature" in caplog.text
    tampered = dict(params, From="+31592222222")
    assert world.client.post("/twilio/voice", data=tampered,
                             headers={"X-Twilio-Signature": sign("http://testserver/twilio/voice", params)}
                             ).status_code == 403
    with Session(engine) as s:
        assert s.exec(select(Call)).all() == []
    first = _twilio_post(world, "/twilio/voice", params)
    again = _twilio_post(world, "/twilio/voice", params)
    assert first.status_code == again.status_code == 200
    assert first.headers["content-type"].startswith("application/xml")
    assert "<Dial" in first.text and "<Number>+31592300300</Number>" in first.text
    with Session(engine) as s:
        calls = s.exec(select(Call)).all()
        assert len(calls) == 1
        assert calls[0].client_id == world.clients["a1"] and calls[0].source_ref == params["CallSid"]
    status = _twilio_post(world, "/twilio/voice/status", {"CallSid": params["CallSid"], "CallStatus": "completed"})
    assert status.status_code == 204
    with Session(engine) as s:
        assert s.exec(select(Call)).one().phone_status == "completed"


def _sms(n: int) -> str:
    return f"SM{n:032x}"


def test_sms_keyword_accepts_the_job(world: World, engine) -> None:
    assert assign(world, "b1", "n2").status_code == 200
    vid = world.visits["b1"]
    wrong = _twilio_post(world, "/twilio/sms", {"MessageSid": _sms(1), "From": "+31612340002", "Body": "hello"})
    assert "reply OK" in wrong.text
    stranger = _twilio_post(world, "/twilio/sms", {"MessageSid": _sms(2), "From": "+31600000000", "Body": f"OK {vid}"})
    assert "<Message>" not in stranger.text
    r = _twilio_post(world, "/twilio/sms", {"MessageSid": _sms(3), "From": "+31612340002", "Body": f"ok {vid}"})
    assert r.status_code == 200 and f"job {vid} accepted" in r.text
    with Session(engine) as s:
        assert s.get(Visit, vid).state == "accepted"
    call_events = world.client.get(f"/api/visits/{vid}", headers=world.h("operator")).json()["events"]
    assert call_events[-1]["move"] == "accept" and call_events[-1]["actor"] == f"sms:nurse-{world.nurses['n2']}"
    unsigned = world.client.post("/twilio/sms", data={"MessageSid": _sms(4), "From": "+31612340002", "Body": "OK"})
    assert unsigned.status_code == 403
    no_sid = _twilio_post(world, "/twilio/sms", {"From": "+31612340002", "Body": "OK"})
    assert no_sid.status_code == 403 and no_sid.json()["field"] == "MessageSid"


def test_a_replayed_sms_reply_is_acted_on_once(world: World, engine) -> None:
    """A signed "OK" captured and sent again must not accept a job offered later."""
    assert assign(world, "b1", "n2").status_code == 200
    first = {"MessageSid": _sms(10), "From": "+31612340002", "Body": "OK"}
    assert "accepted" in _twilio_post(world, "/twilio/sms", first).text
    # Later that night another job is offered to her ...
    r = world.client.post(f"/api/visits/{world.visits['a1']}/assign", json={"nurse_id": world.nurses["n2"]},
                          headers=world.h("operator"))
    assert r.status_code == 200 and r.json()["state"] == "assigned"
    replayed = _twilio_post(world, "/twilio/sms", first)  # ... and the old signed request comes again
    assert replayed.status_code == 200 and "<Message>" not in replayed.text
    with Session(engine) as s:
        assert s.get(Visit, world.visits["a1"]).state == "assigned"  # not accepted by the replay


def test_rotating_the_key_safe_key_keeps_every_code(tmp_path) -> None:
    from cryptography.fernet import Fernet

    from dispatch.clients.models import Client
    from dispatch.db import make_engine
    from dispatch.devtools.server import nightcare, service_env
    from dispatch.keysafes.crypto import KeysafeCipher
    from dispatch.settings import Settings

    url = f"sqlite:///{tmp_path / 'rotate.db'}"
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    env = service_env(url, NIGHTCARE_KEYSAFE_KEY=old)
    nightcare("db", "upgrade", env=env)
    nightcare("seed", env=env)
    engine = make_engine(url, pool_size=1)
    with Session(engine) as s:
        before = {c.id: KeysafeCipher(Settings(environment="test", keysafe_key=old)).decrypt(c.keysafe_code_encrypted)
                  for c in s.exec(select(Client)) if c.keysafe_code_encrypted}
    assert before
    nightcare("keys", "rotate",
              env={**env, "NIGHTCARE_KEYSAFE_KEY": new, "NIGHTCARE_KEYSAFE_PREVIOUS_KEYS": f'["{old}"]'})
    only_new = KeysafeCipher(Settings(environment="test", keysafe_key=new))
    with Session(engine) as s:
        after = {c.id: only_new.decrypt(c.keysafe_code_encrypted) for c in s.exec(select(Client))
                 if c.keysafe_code_encrypted}
    engine.dispose()
    assert after == before


def test_the_outbox_is_pruned_after_the_night(world: World, engine, app) -> None:
    from dispatch.responders import outbox
    from dispatch.responders.escalation import prune_outbox

    nurse = world.nurses["n2"]
    with Session(engine) as s:
        outbox.publish(s, nurse, "job.updated", {"visit_id": -1, "night": "last"})
        s.commit()
    with Session(engine) as s:
        written = s.exec(select(OutboxMessage).where(OutboxMessage.nurse_id == nurse)).all()[-1].created_at
    keep = app.state.settings.outbox_keep_hours
    assert prune_outbox(engine, app.state.settings, now=written + timedelta(hours=keep) - timedelta(minutes=1)) == 0
    removed = prune_outbox(engine, app.state.settings, now=written + timedelta(hours=keep, minutes=1))
    assert removed >= 1
    with Session(engine) as s:
        assert all(m.payload.get("night") != "last" for m in s.exec(select(OutboxMessage)))
