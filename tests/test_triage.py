"""Triage on a call through the API, to each kind of outcome and its effect (both databases)."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.world import World

SAFE = ["yes", "yes", "yes"]  # ABCD


def run_triage(world: World, call_id: int, complaint: str, answers: list[str], who: str = "operator") -> dict:
    r = world.client.post(f"/api/calls/{call_id}/triage", json={"complaint": complaint}, headers=world.h(who))
    assert r.status_code == 201, r.text
    triage = r.json()
    for answer in answers:
        assert triage["step"]["type"] == "question", triage["step"]
        r = world.client.post(f"/api/calls/{call_id}/triage/answers",
                              json={"node": triage["step"]["node"], "answer": answer}, headers=world.h(who))
        assert r.status_code == 200, r.text
        triage = r.json()
    return triage


def decide(world: World, call_id: int, **body: object):
    return world.client.post(f"/api/calls/{call_id}/triage/decision", json=body, headers=world.h("operator"))


def new_call(world: World, ref: str, phone: str = "+31592111111") -> dict:
    return world.post_call(source_ref=ref, caller_phone=phone, text="called at night").json()


def states(world: World, call_id: int) -> list[str]:
    call = world.client.get(f"/api/calls/{call_id}", headers=world.h("operator")).json()
    return [e["to_state"] for e in call["events"]]


def test_nurse_visit_creates_an_open_visit_with_deadline(world: World) -> None:
    call = new_call(world, "t-visit")
    triage = run_triage(world, call["id"], "fall", [*SAFE, "no", "no", "no"])  # still on the floor
    assert triage["step"]["type"] == "outcome" and triage["step"]["urgency"] == "U2"
    assert triage["protocol"] == {**triage["protocol"], "id": "nightcare-regional-night", "version": 1}
    decided = decide(world, call["id"])
    assert decided.status_code == 200, decided.text
    decision = decided.json()["decision"]
    assert (decision["urgency"], decision["disposition"]) == ("U2", "nurse_visit")
    deadline = datetime.fromisoformat(decision["visit"]["deadline"])
    assert deadline - datetime.fromisoformat(call["received_at"]) == timedelta(minutes=30)
    assert states(world, call["id"]) == ["received", "triaging", "triaged", "queued"]
    visits = world.client.get("/api/visits", params={"state": "open"}, headers=world.h("operator")).json()
    acute = [v for v in visits if v["call_id"] == call["id"]]
    assert len(acute) == 1 and acute[0]["kind"] == "acute" and acute[0]["client_id"] == world.clients["a1"]
    assert acute[0]["service_minutes"] == 40


def test_defer_to_day_becomes_a_task_for_the_clients_own_organisation(world: World) -> None:
    call = new_call(world, "t-defer")
    run_triage(world, call["id"], "fall", [*SAFE, "no", "no", "yes", "none"])
    assert decide(world, call["id"]).json()["decision"]["disposition"] == "defer_to_day"
    assert states(world, call["id"])[-1] == "deferred_to_day"
    own = world.client.get("/api/day-tasks", headers=world.h("partner_a")).json()
    assert [t["call_id"] for t in own] == [call["id"]] and "Fall" in own[0]["summary"]
    assert own[0]["advice_given"].startswith("No night visit needed")
    assert world.client.get("/api/day-tasks", headers=world.h("partner_b")).json() == []
    done = world.client.post(f"/api/day-tasks/{own[0]['id']}/done", headers=world.h("partner_a"))
    assert done.status_code == 200 and done.json()["done_by"] == "partner_a"
    assert world.client.post(f"/api/day-tasks/{own[0]['id']}/done", headers=world.h("partner_b")).status_code == 404


def test_112_records_when_it_was_escalated(world: World) -> None:
    call = new_call(world, "t-112")
    run_triage(world, call["id"], "chest_pain", [*SAFE, "yes"])
    decision = decide(world, call["id"]).json()["decision"]
    assert (decision["urgency"], decision["disposition"], decision["visit"]) == ("U1", "call_112", None)
    events = world.client.get(f"/api/calls/{call['id']}", headers=world.h("operator")).json()["events"]
    escalation = [e for e in events if e["to_state"] == "escalated"]
    assert len(escalation) == 1 and escalation[0]["reason"] == "112 called" and escalation[0]["at"]


def test_unsafe_abcd_calls_112_and_also_sends_the_nurse(world: World) -> None:
    call = new_call(world, "t-abcd")
    triage = run_triage(world, call["id"], "fall", ["no"])
    assert triage["step"]["urgency"] == "U0" and triage["step"]["also_send_nurse"] is True
    decision = decide(world, call["id"]).json()["decision"]
    assert decision["visit"]["state"] == "open"
    assert states(world, call["id"]) == ["received", "triaging", "triaged", "escalated", "queued"]


def test_gp_post_and_advice_outcomes(world: World) -> None:
    gp = new_call(world, "t-gp")
    run_triage(world, gp["id"], "chest_pain", [*SAFE, "no", "no", "no"])
    assert decide(world, gp["id"]).json()["decision"]["disposition"] == "gp_post"
    events = world.client.get(f"/api/calls/{gp['id']}", headers=world.h("operator")).json()["events"]
    assert events[-1]["to_state"] == "escalated" and "GP out-of-hours" in events[-1]["reason"]

    advice = new_call(world, "t-advice", phone="+31592222222")
    run_triage(world, advice["id"], "shortness_of_breath", [*SAFE, "yes", "yes", "helping"])
    decided = decide(world, advice["id"]).json()
    assert decided["decision"]["disposition"] == "advice"
    call = world.client.get(f"/api/calls/{advice['id']}", headers=world.h("operator")).json()
    assert call["state"] == "advice" and call["allowed_transitions"] == []  # advice closes the call
    assert call["events"][-1]["reason"].startswith("advice given: Keep following the client's plan")


def test_lowering_urgency_needs_a_reason_and_is_recorded(world: World) -> None:
    call = new_call(world, "t-override")
    run_triage(world, call["id"], "fall", [*SAFE, "no", "no", "no"])  # U2
    refused = decide(world, call["id"], urgency="U3")
    assert refused.status_code == 422 and refused.json()["field"] == "reason"
    mismatch = decide(world, call["id"], urgency="U3", disposition="advice", reason="x")
    assert mismatch.status_code == 422 and mismatch.json()["field"] == "disposition"
    ok = decide(world, call["id"], urgency="U3", reason="daughter is with her and helps her up")
    decision = ok.json()["decision"]
    assert (decision["urgency"], decision["override_reason"]) == ("U3", "daughter is with her and helps her up")
    assert decision["visit"]["target_minutes"] == 120
    assert ok.json()["step"]["urgency"] == "U2"  # the computed outcome is kept beside the final one


def test_raising_urgency_needs_no_reason(world: World) -> None:
    call = new_call(world, "t-raise")
    run_triage(world, call["id"], "fall", [*SAFE, "no", "no", "yes", "none"])  # U4
    decided = decide(world, call["id"], urgency="U2")
    assert decided.status_code == 200 and decided.json()["decision"]["disposition"] == "nurse_visit"


def test_a_second_call_within_24h_raises_urgency(world: World) -> None:
    first = new_call(world, "t-first")
    run_triage(world, first["id"], "incontinence", [*SAFE, "no", "no"])
    decide(world, first["id"])
    second = new_call(world, "t-second")
    triage = run_triage(world, second["id"], "incontinence", [*SAFE, "no", "no"])
    assert triage["signals"] == ["second_call_24h"]
    assert (triage["step"]["base_urgency"], triage["step"]["urgency"]) == ("U4", "U3")
    # A call about another client is not a second call.
    other = run_triage(world, new_call(world, "t-other", phone="+31592222222")["id"], "incontinence",
                       [*SAFE, "no", "no"])
    assert other["signals"] == [] and other["step"]["urgency"] == "U4"


def test_operator_signals_raise_and_can_be_cleared(world: World) -> None:
    call = new_call(world, "t-signals")
    run_triage(world, call["id"], "medication", [*SAFE, "no", "no"])  # U5 advice
    r = world.client.put(f"/api/calls/{call['id']}/triage/signals",
                         json={"signals": ["operator_concern"]}, headers=world.h("operator"))
    # A worry about a client who was to get advice only is a reason to look tonight, never a deferral
    assert r.json()["step"]["urgency"] == "U3" and r.json()["step"]["disposition"] == "nurse_visit"
    assert "no visit" not in r.json()["step"]["advice"].lower()
    r = world.client.put(f"/api/calls/{call['id']}/triage/signals",
                         json={"signals": ["operator_concern", "rapid_deterioration"]}, headers=world.h("operator"))
    assert r.json()["step"]["urgency"] == "U2" and r.json()["step"]["disposition"] == "nurse_visit"
    r = world.client.put(f"/api/calls/{call['id']}/triage/signals", json={"signals": []}, headers=world.h("operator"))
    assert r.json()["step"]["urgency"] == "U5"
    bad = world.client.put(f"/api/calls/{call['id']}/triage/signals", json={"signals": ["hunch"]},
                           headers=world.h("operator"))
    assert bad.status_code == 422 and bad.json()["field"].startswith("signals")


def test_going_back_and_wrong_answers(world: World) -> None:
    call = new_call(world, "t-back")
    triage = run_triage(world, call["id"], "fall", [*SAFE, "no"])
    assert triage["step"]["node"] == "fall_head"
    back = world.client.post(f"/api/calls/{call['id']}/triage/back", headers=world.h("operator")).json()
    assert back["step"]["node"] == "fall_serious" and len(back["answers"]) == 3
    wrong_node = world.client.post(f"/api/calls/{call['id']}/triage/answers",
                                   json={"node": "fall_pain", "answer": "none"}, headers=world.h("operator"))
    # A question of the protocol, but not the current one: out of turn (409), not malformed.
    assert wrong_node.status_code == 409 and wrong_node.json()["field"] == "node"
    assert "the question now is 'fall_serious'" in wrong_node.json()["detail"]
    wrong_answer = world.client.post(f"/api/calls/{call['id']}/triage/answers",
                                     json={"node": "fall_serious", "answer": "maybe"}, headers=world.h("operator"))
    assert wrong_answer.status_code == 422 and wrong_answer.json()["field"] == "answer"
    early = decide(world, call["id"])
    assert early.status_code == 409 and early.json()["field"] == "answers" and early.json()["node"] == "fall_serious"


def test_a_visit_needs_an_identified_client(world: World) -> None:
    call = world.post_call(source_ref="t-anon", caller_phone="+31612999999").json()
    run_triage(world, call["id"], "fall", [*SAFE, "no", "no", "no"])
    r = decide(world, call["id"])
    assert r.status_code == 409 and r.json()["field"] == "client_id"
    world.client.post(f"/api/calls/{call['id']}/client", json={"client_id": world.clients["a2"]},
                      headers=world.h("operator"))
    assert decide(world, call["id"]).status_code == 200


def test_retriage_of_a_waiting_call_is_recorded_and_updates_the_visit(world: World) -> None:
    call = new_call(world, "t-retriage")
    run_triage(world, call["id"], "fall", [*SAFE, "no", "no", "no"])
    first = decide(world, call["id"]).json()["decision"]["visit"]
    run_triage(world, call["id"], "fall", [*SAFE, "no", "yes", "no"])  # head, no risk: U3
    second = decide(world, call["id"]).json()["decision"]["visit"]
    assert second["id"] == first["id"]
    moved = datetime.fromisoformat(second["deadline"]) - datetime.fromisoformat(first["deadline"])
    assert moved == timedelta(minutes=90)
    history = world.client.get(f"/api/calls/{call['id']}/triages", headers=world.h("operator")).json()
    assert [t["state"] for t in history] == ["superseded", "decided"]
    assert [t["decision"]["urgency"] for t in history] == ["U2", "U3"]
    # Re-triaged to advice: the waiting visit is cancelled.
    run_triage(world, call["id"], "medication", [*SAFE, "no", "no"])
    decide(world, call["id"])
    visit = world.client.get(f"/api/visits/{first['id']}", headers=world.h("operator")).json()
    assert visit["state"] == "cancelled"
    assert states(world, call["id"])[-3:] == ["triaging", "triaged", "advice"]


def test_triage_cannot_start_twice_or_on_a_closed_call(world: World) -> None:
    call = new_call(world, "t-twice")
    run_triage(world, call["id"], "fall", [])
    again = world.client.post(f"/api/calls/{call['id']}/triage", json={"complaint": "fall"},
                              headers=world.h("operator"))
    assert again.status_code == 409 and again.json()["field"] == "to"
    unknown = world.client.post(f"/api/calls/{new_call(world, 't-x')['id']}/triage", json={"complaint": "hiccups"},
                                headers=world.h("operator"))
    assert unknown.status_code == 422 and unknown.json()["field"] == "complaint"


@pytest.mark.parametrize("who,status", [("nurse1", 403), ("partner_a", 403), ("coordinator", 201)])
def test_triage_is_for_operators_and_coordinators(world: World, who: str, status: int) -> None:
    call = new_call(world, f"t-role-{who}")
    r = world.client.post(f"/api/calls/{call['id']}/triage", json={"complaint": "fall"}, headers=world.h(who))
    assert r.status_code == status
