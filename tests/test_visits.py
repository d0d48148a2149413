"""The life of a visit through the API (both databases): one service makes every move, the call follows, the
nurse's phone and the board are told, and what a move grants (the key-safe code, the client record) ends with it."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from dispatch.alerts.models import Alert
from dispatch.audit.models import AuditEntry
from dispatch.responders.escalation import tick
from dispatch.responders.models import OutboxMessage
from dispatch.visits.models import Visit
from tests.test_assignment import acute_visit, on_duty, replan, visit, wait_for  # noqa: F401 - fixture
from tests.test_triage import SAFE, decide, new_call, run_triage
from tests.world import World

FALL_U2 = [*SAFE, "no", "no", "no"]


def _messages(engine, nurse_id: int, visit_id: int) -> list[str]:
    with Session(engine) as s:
        return [m.kind for m in s.exec(select(OutboxMessage).where(OutboxMessage.nurse_id == nurse_id)
                                       .order_by(col(OutboxMessage.seq))) if m.payload.get("visit_id") == visit_id]


def _assign(world: World, visit_id: int, nurse: str, **extra: object):
    return world.client.post(f"/api/visits/{visit_id}/assign", json={"nurse_id": world.nurses[nurse], **extra},
                             headers=world.h("operator"))


def _to(world: World, visit_id: int, state: str) -> None:
    """Bring n1's visit to `state` the way her phone would."""
    if state in ("accepted", "en_route", "on_scene"):
        assert world.client.post(f"/api/visits/{visit_id}/accept", headers=world.h("nurse1")).status_code == 200
    for step in ("en_route", "on_scene"):
        if state == step or (state == "on_scene" and step == "en_route"):
            r = world.client.post(f"/api/visits/{visit_id}/progress", json={"state": step}, headers=world.h("nurse1"))
            assert r.status_code == 200, r.text


@pytest.mark.parametrize("state", ["assigned", "accepted", "en_route", "on_scene"])
def test_a_cancelled_call_ends_its_visit_in_every_state_and_its_nurse_loses_access(
        on_duty: World, engine, state: str) -> None:  # noqa: F811
    world = on_duty
    made = acute_visit(world, f"cc-{state}", FALL_U2)
    vid, call_id = made["visit_id"], made["call"]["id"]
    assert _assign(world, vid, "n1").status_code == 200
    _to(world, vid, state)
    r = world.move(call_id, "cancelled", reason="daughter arrived, ambulance not needed")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    v = visit(world, vid)
    assert v["state"] == "cancelled" and v["allowed_actions"] == []
    assert v["events"][-1]["move"] == "cancel" and "daughter arrived" in v["events"][-1]["reason"]
    assert _messages(engine, world.nurses["n1"], vid)[-1] == "job.cancelled"  # her phone is told
    reveal = world.client.post(f"/api/visits/{vid}/keysafe", headers=world.h("nurse1"))
    assert reveal.status_code == 403 and "cancelled" in reveal.json()["detail"]
    record = world.client.get(f"/api/clients/{world.clients['a1']}", params={"call_id": call_id},
                              headers=world.h("nurse1"))
    assert record.status_code == 403
    with Session(engine) as s:
        denied = s.exec(select(AuditEntry).where(AuditEntry.username == "nurse1", AuditEntry.outcome == "denied",
                                                 AuditEntry.data == "keysafe")).all()
    assert len(denied) == 1  # the refusal is in the audit log


def test_the_code_needs_an_open_call_too(on_duty: World, engine) -> None:  # noqa: F811
    world = on_duty
    made = acute_visit(world, "cc-open", FALL_U2)
    vid = made["visit_id"]
    _assign(world, vid, "n1")
    _to(world, vid, "accepted")
    assert world.client.post(f"/api/visits/{vid}/keysafe", headers=world.h("nurse1")).status_code == 200
    # 112 took over while she was on her way: the call is completed, the visit ends, the code with it.
    assert world.move(made["call"]["id"], "escalated", reason="client collapsed").status_code == 200
    assert world.move(made["call"]["id"], "completed", reason="112 took over").status_code == 200
    assert visit(world, vid)["state"] == "cancelled"
    assert world.client.post(f"/api/visits/{vid}/keysafe", headers=world.h("nurse1")).status_code == 403


def test_an_operator_cancels_a_visit_with_a_reason(on_duty: World, engine) -> None:  # noqa: F811
    world = on_duty
    made = acute_visit(world, "vc-1", FALL_U2)
    vid = made["visit_id"]
    _assign(world, vid, "n2")
    assert "cancel" in visit(world, vid)["allowed_actions"]
    no_reason = world.client.post(f"/api/visits/{vid}/cancel", json={"reason": ""}, headers=world.h("operator"))
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "reason"
    assert world.client.post(f"/api/visits/{vid}/cancel", json={"reason": "client called back: fine"},
                             headers=world.h("nurse2")).status_code == 403  # nurses decline, they do not cancel
    r = world.client.post(f"/api/visits/{vid}/cancel", json={"reason": "client called back: fine"},
                          headers=world.h("operator"))
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    call = world.client.get(f"/api/calls/{made['call']['id']}", headers=world.h("operator")).json()
    assert call["state"] == "cancelled" and "client called back: fine" in call["events"][-1]["reason"]
    assert _messages(engine, world.nurses["n2"], vid)[-1] == "job.cancelled"
    again = world.client.post(f"/api/visits/{vid}/cancel", json={"reason": "twice"}, headers=world.h("operator"))
    assert again.status_code == 409 and again.json()["allowed_actions"] == []


def test_an_operators_assignment_sticks_and_is_in_the_calls_history(on_duty: World) -> None:  # noqa: F811
    world = on_duty
    made = acute_visit(world, "st-1", FALL_U2)
    vid = made["visit_id"]
    old_style = _assign(world, vid, "n2", lock=False)
    assert old_style.status_code == 422 and old_style.json()["field"] == "lock"  # no silent "does not stick"
    world.client.post(f"/api/nurses/{world.nurses['n2']}/position", json={"lat": 52.86, "lon": 6.51},
                      headers=world.h("nurse2"))  # far away: the planner alone would not choose her
    r = _assign(world, vid, "n2")
    assert r.status_code == 200 and r.json()["locked"] is True and "unlock" in r.json()["allowed_actions"]
    for _ in range(2):
        replan(world)
        assert visit(world, vid)["nurse_id"] == world.nurses["n2"]
    _assign(world, vid, "n1")  # the operator changes her mind: a reassignment
    events = world.client.get(f"/api/calls/{made['call']['id']}", headers=world.h("operator")).json()["events"]
    hand = [e for e in events if "assigned by hand" in e["reason"]]
    assert len(hand) == 2 and f"was nurse {world.nurses['n2']}" in hand[-1]["reason"]
    assert hand[-1]["actor"] == "operator" and hand[-1]["from_state"] == hand[-1]["to_state"] == "assigned"
    unlocked = world.client.post(f"/api/visits/{vid}/unlock", json={}, headers=world.h("operator"))
    assert unlocked.status_code == 200 and unlocked.json()["locked"] is False


def test_an_unanswered_offer_goes_to_another_nurse_but_is_not_a_decline(on_duty: World, engine, app) -> None:  # noqa: F811
    world = on_duty
    made = acute_visit(world, "un-1", FALL_U2)
    vid = made["visit_id"]
    wait_for(lambda: visit(world, vid)["nurse_id"] is not None)  # offered by the planner (not by hand)
    with Session(engine) as s:
        offered = s.get(Visit, vid)
        first, offered_at = offered.nurse_id, offered.offered_at
    assert offered_at is not None and first is not None
    second = next(n for n in world.nurses.values() if n != first)
    result = tick(engine, app.state.settings, app.state.sms, now=offered_at + timedelta(minutes=10))
    assert vid in result.released
    replan(world)
    assert visit(world, vid)["nurse_id"] == second  # another nurse can take it: she gets it
    with Session(engine) as s:
        alert = s.exec(select(Alert).where(Alert.visit_id == vid)).one()
    assert "offered to another nurse" in alert.message
    # The second declines explicitly: the first did not decline, so the job may come back to her (not the second).
    login = "nurse1" if second == world.nurses["n1"] else "nurse2"
    r = world.client.post(f"/api/visits/{vid}/decline", json={"reason": "car won't start"}, headers=world.h(login))
    assert r.status_code == 200
    replan(world)
    assert visit(world, vid)["nurse_id"] == first


def test_when_only_she_can_take_it_an_unanswered_job_stays_offered_to_her(on_duty: World, engine, app) -> None:  # noqa: F811
    world = on_duty
    made = acute_visit(world, "un-2", [*SAFE, "yes", "not_helped"], complaint="pain")  # palliative: only n1
    vid = made["visit_id"]
    wait_for(lambda: visit(world, vid)["nurse_id"] == world.nurses["n1"])
    with Session(engine) as s:
        offered_at = s.get(Visit, vid).offered_at
    assert offered_at is not None
    for minutes in (10, 15):  # alerted once; no taking it from her phone and giving it straight back
        assert vid in tick(engine, app.state.settings, app.state.sms, now=offered_at + timedelta(minutes=minutes)).kept
    with Session(engine) as s:
        alert = s.exec(select(Alert).where(Alert.visit_id == vid)).one()
    assert "stays offered to her" in alert.message and alert.message.startswith("Anouk did not accept")
    listed = world.client.get("/api/alerts", headers=world.h("operator")).json()
    assert any(a["id"] == alert.id for a in listed)
    replan(world)
    assert visit(world, vid)["nurse_id"] == world.nurses["n1"]
    assert _messages(engine, world.nurses["n1"], vid).count("job.offered") == 1
    assert "job.cancelled" not in _messages(engine, world.nurses["n1"], vid)
    ack = world.client.post(f"/api/alerts/{alert.id}/acknowledge", headers=world.h("operator"))
    assert ack.status_code == 200 and ack.json()["resolved_by"] == "operator"
    assert world.client.post(f"/api/alerts/{alert.id}/acknowledge", headers=world.h("operator")).status_code == 409
    assert all(a["id"] != alert.id for a in world.client.get("/api/alerts", headers=world.h("operator")).json())


def test_correcting_a_wrong_client_match_needs_a_reason_and_moves_the_waiting_visit(world: World) -> None:
    call = new_call(world, "id-1", phone="+31592333333")  # a shared line: not matched
    assert call["client_id"] is None
    first = world.client.post(f"/api/calls/{call['id']}/client", json={"client_id": world.clients["a3"]},
                              headers=world.h("operator"))
    assert first.status_code == 200 and first.json()["client_id"] == world.clients["a3"]
    run_triage(world, call["id"], "fall", FALL_U2)
    vid = decide(world, call["id"]).json()["decision"]["visit"]["id"]
    # It was his wife, of the other organisation, on the same line.
    silent = world.client.post(f"/api/calls/{call['id']}/client", json={"client_id": world.clients["b2"]},
                               headers=world.h("operator"))
    assert silent.status_code == 422 and silent.json()["field"] == "reason"
    fixed = world.client.post(f"/api/calls/{call['id']}/client",
                              json={"client_id": world.clients["b2"], "reason": "caller is his wife, Janna"},
                              headers=world.h("operator"))
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["client_id"] == world.clients["b2"] and fixed.json()["organisation_id"] == world.orgs["b"]
    assert "corrected" in fixed.json()["events"][-1]["reason"] and "Janna" in fixed.json()["events"][-1]["reason"]
    v = world.client.get(f"/api/visits/{vid}", headers=world.h("operator")).json()
    assert (v["client_id"], v["organisation_id"]) == (world.clients["b2"], world.orgs["b"])
    assert world.client.get(f"/api/visits/{vid}", headers=world.h("partner_a")).status_code == 404  # not A's now


def test_creating_or_changing_a_shift_replans(world: World, engine) -> None:
    now = datetime.now(UTC)
    r = world.client.post("/api/shifts", json={"nurse_id": world.nurses["n2"], "starts_at": now.isoformat(),
                                               "ends_at": (now + timedelta(hours=6)).isoformat()},
                          headers=world.h("coordinator"))
    assert r.status_code == 201
    shift_id = r.json()["id"]

    def triggered(text: str) -> bool:
        return any(text in t for d in world.client.get("/api/assignment/decisions", headers=world.h("operator")).json()
                   for t in d["triggers"])

    wait_for(lambda: triggered(f"shift {shift_id} of nurse {world.nurses['n2']} planned"))
    wait_for(lambda: visit(world, world.visits["b1"])["nurse_id"] == world.nurses["n2"])  # she takes work at once
    later = world.client.patch(f"/api/shifts/{shift_id}", json={"ends_at": (now + timedelta(hours=7)).isoformat()},
                               headers=world.h("coordinator"))
    assert later.status_code == 200
    wait_for(lambda: triggered(f"shift {shift_id} of nurse {world.nurses['n2']} changed"))
    wrong = world.client.patch(f"/api/shifts/{shift_id}", json={"ends_at": (now - timedelta(hours=1)).isoformat()},
                               headers=world.h("coordinator"))
    assert wrong.status_code == 422 and wrong.json()["field"] == "ends_at"


def test_the_explanation_with_nobody_on_duty_says_why(world: World) -> None:
    replan(world)  # nobody has a shift in this world
    r = world.client.get(f"/api/visits/{world.visits['b1']}/explanation", headers=world.h("operator"))
    assert r.status_code == 200, r.text
    assert r.json()["nurses"] == [] and "no nurse on duty" in r.json()["unassigned_reason"]


def test_what_the_nurse_recorded_is_readable_by_the_operators_and_the_clients_organisation(
        on_duty: World) -> None:  # noqa: F811
    world = on_duty
    made = acute_visit(world, "rd-1", FALL_U2)
    vid = made["visit_id"]
    _assign(world, vid, "n1")
    _to(world, vid, "on_scene")
    obs = {"respiration_rate": 18, "spo2": 96, "systolic_bp": 130, "pulse": 80, "consciousness": "alert",
           "temperature": 37.0}
    assert world.client.post(f"/api/visits/{vid}/observations", json=obs, headers=world.h("nurse1")).status_code == 201
    item = world.client.get("/api/nightbag/items", headers=world.h("nurse1")).json()
    done = world.client.post(f"/api/visits/{vid}/progress", headers=world.h("nurse1"), json={
        "state": "completed", "handover_note": "Bruised hip, walking; please check in the morning.",
        "materials": [{"item_id": item[0]["id"], "quantity": 1}] if item else []})
    assert done.status_code == 200 and done.json()["allowed_actions"] == []
    for who in ("operator", "partner_a"):
        v = world.client.get(f"/api/visits/{vid}", headers=world.h(who)).json()
        assert v["handover_note"].startswith("Bruised hip") and v["observations"][0]["news2_total"] == 0
        assert len(v["materials"]) == (1 if item else 0)
        assert [e["move"] for e in v["events"]][-4:] == ["accept", "en_route", "on_scene", "complete"]
    assert world.client.get(f"/api/visits/{vid}", headers=world.h("partner_b")).status_code == 404


def test_a_gp_post_override_tells_the_caller_about_the_gp_post(world: World) -> None:
    call = new_call(world, "gp-ov")
    run_triage(world, call["id"], "fall", FALL_U2)  # U2, nurse visit
    decided = decide(world, call["id"], disposition="gp_post").json()["decision"]
    assert decided["disposition"] == "gp_post"
    assert "GP out-of-hours post" in decided["advice_given"] and "nurse" not in decided["advice_given"].lower()


def test_allowed_actions_follow_the_state_and_the_person(on_duty: World) -> None:  # noqa: F811
    world = on_duty
    vid = world.visits["a1"]
    _assign(world, vid, "n1")
    mine = world.client.get(f"/api/visits/{vid}", headers=world.h("nurse1")).json()
    assert mine["allowed_actions"] == ["accept", "decline"]
    assert mine["actions_after"]["accept"]["allowed_actions"] == ["decline", "en_route", "on_scene", "keysafe"]
    operator = world.client.get(f"/api/visits/{vid}", headers=world.h("operator")).json()
    assert set(operator["allowed_actions"]) == {"assign", "release", "unlock", "cancel"}
    partner = world.client.get(f"/api/visits/{vid}", headers=world.h("partner_a")).json()
    assert partner["allowed_actions"] == []
    early = world.client.post(f"/api/visits/{vid}/progress", json={"state": "on_scene"}, headers=world.h("nurse1"))
    assert early.status_code == 409 and early.json()["allowed_actions"] == ["accept", "decline"]


def test_a_manual_assignment_reaches_the_board(on_duty: World) -> None:  # noqa: F811
    from tests.test_board import board_socket

    world = on_duty
    with board_socket(world) as ws:
        assert _assign(world, world.visits["b1"], "n2").status_code == 200
        for _ in range(20):
            frame = ws.receive_json()
            if frame.get("kind") == "visit.changed" and frame["visit"]["id"] == world.visits["b1"]:
                break
        else:
            raise AssertionError("no visit.changed event for the manual assignment")
        visit = frame["visit"]  # the row the board draws: no fetch per event
        assert frame["action"] == "assign" and visit["nurse_id"] == world.nurses["n2"] and visit["locked"] is True
        assert visit["nurse"] == "Sanne" and visit["client"]["address"].startswith("Kerkstraat 1")



def test_a_planning_systems_ids_are_its_own(world: World) -> None:
    """external_ref is unique per organisation: no 409 that tells B that A uses an id, and nobody gets another
    organisation's visit back."""
    start = datetime.now(UTC) + timedelta(hours=2)
    window = {"window_start": start.isoformat(), "window_end": (start + timedelta(hours=1)).isoformat()}
    a = world.client.post("/api/visits", json={"client_id": world.clients["a1"], "external_ref": "ROUND-7", **window},
                          headers=world.h("partner_a"))
    b = world.client.post("/api/visits", json={"client_id": world.clients["b1"], "external_ref": "ROUND-7", **window},
                          headers=world.h("partner_b"))
    assert (a.status_code, b.status_code) == (201, 201) and a.json()["id"] != b.json()["id"]
    retry = world.client.post("/api/visits", json={"client_id": world.clients["a1"], "external_ref": "ROUND-7",
                                                  **window}, headers=world.h("partner_a"))
    assert retry.status_code == 200 and retry.json()["id"] == a.json()["id"]
    by_coordinator = world.client.post("/api/visits", json={"client_id": world.clients["b1"], "external_ref": "ROUND-7",
                                                           **window}, headers=world.h("coordinator"))
    assert by_coordinator.json()["id"] == b.json()["id"] and by_coordinator.json()["organisation_id"] == world.orgs["b"]
