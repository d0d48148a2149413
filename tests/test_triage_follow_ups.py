"""What triage promises, the service keeps: signals that cannot be lost, the operator's concern reaching 112, a
decision before the protocol's outcome counted, the advice that belongs to what is done, a notification to the GP
post, the client's recorded wishes, and the senior nurse told of a second urgent call (both databases)."""
from __future__ import annotations

from tests.test_triage import SAFE, decide, new_call, run_triage, states
from tests.world import World


def _triage(world: World, call_id: int) -> dict:
    return world.client.get(f"/api/calls/{call_id}/triage", headers=world.h("operator")).json()


def _signals(world: World, call_id: int, signals: list[str], **extra: object) -> dict:
    r = world.client.put(f"/api/calls/{call_id}/triage/signals", json={"signals": signals, **extra},
                         headers=world.h("operator"))
    assert r.status_code == 200, r.text
    return r.json()


def test_a_second_call_is_found_when_the_client_is_named_after_triage_started_and_cannot_be_unticked(
        world: World) -> None:
    first = new_call(world, "fu-first")  # matched to a1 by her phone
    run_triage(world, first["id"], "fall", [*SAFE, "no", "no", "no"])
    assert decide(world, first["id"]).status_code == 200
    second = world.post_call(source_ref="fu-second", caller_phone="+31687654321", text="neighbour calls").json()
    assert second["client_id"] is None
    run_triage(world, second["id"], "fall", SAFE)
    assert "second_call_24h" not in _triage(world, second["id"])["signals"]
    r = world.client.post(f"/api/calls/{second['id']}/client", json={"client_id": world.clients["a1"]},
                          headers=world.h("operator"))
    assert r.status_code == 200, r.text
    assert "second_call_24h" in _triage(world, second["id"])["signals"]
    # An operator editing her own signals cannot drop the detected one.
    assert "second_call_24h" in _signals(world, second["id"], ["severe_pain_or_anxiety"])["signals"]
    assert "second_call_24h" in _signals(world, second["id"], [])["signals"]


def test_a_second_call_about_an_urgent_outcome_goes_to_the_senior_nurse(world: World) -> None:
    first = new_call(world, "fu-u2-first")
    run_triage(world, first["id"], "fall", [*SAFE, "no", "no", "no"])  # on the floor: U2
    assert decide(world, first["id"]).json()["decision"]["urgency"] == "U2"
    second = new_call(world, "fu-u2-second")
    outcome = run_triage(world, second["id"], "fall", [*SAFE, "no", "no", "no"])["step"]
    assert outcome["urgency"] == "U2" and outcome["flags"] == ["senior_review"]
    assert decide(world, second["id"]).status_code == 200
    alerts = world.client.get("/api/alerts", headers=world.h("operator")).json()
    assert any(a["kind"] == "senior_review" and a["call_id"] == second["id"] for a in alerts)


def test_the_operators_concern_sends_an_ambulance_and_a_nurse(world: World) -> None:
    call = new_call(world, "fu-concern")
    run_triage(world, call["id"], "medication", [*SAFE, "no", "no"])  # U5 advice
    step = _signals(world, call["id"], [], concern_to_112_reason="she sounds very different from usual")["step"]
    assert (step["urgency"], step["disposition"], step["also_send_nurse"]) == ("U1", "call_112", True)
    assert step["advice"].startswith("Call 112 now") and "no visit" not in step["advice"].lower()
    decision = decide(world, call["id"]).json()["decision"]
    assert (decision["urgency"], decision["disposition"]) == ("U1", "call_112")
    assert states(world, call["id"])[-2:] == ["escalated", "queued"] and decision["visit"] is not None
    # Taken back (an empty reason) before deciding, the protocol's outcome returns.
    again = new_call(world, "fu-concern-2", phone="+31592222222")
    run_triage(world, again["id"], "medication", [*SAFE, "no", "no"])
    _signals(world, again["id"], [], concern_to_112_reason="worried")
    assert _signals(world, again["id"], [], concern_to_112_reason="")["step"]["urgency"] == "U5"


def test_deciding_before_the_protocols_outcome_needs_a_reason_and_counts_what_was_skipped(world: World) -> None:
    call = new_call(world, "fu-early")
    run_triage(world, call["id"], "fall", SAFE)
    refused = decide(world, call["id"], urgency="U2")
    assert refused.status_code == 409 and refused.json()["field"] == "answers"
    r = decide(world, call["id"], urgency="U2", reason="she is on the floor and cannot get up, caller hangs up")
    assert r.status_code == 200, r.text
    decision = r.json()["decision"]
    assert (decision["urgency"], decision["disposition"]) == ("U2", "nurse_visit") and decision["visit"]
    assert decision["questions_asked"] == 3 and decision["questions_skipped"] == 1  # "serious injury?" ends it
    assert "nurse is coming" in decision["advice_given"]


def test_an_override_gets_the_advice_of_what_is_done(world: World) -> None:
    call = new_call(world, "fu-override")
    outcome = run_triage(world, call["id"], "fall", [*SAFE, "no", "no", "no"])["step"]
    assert "nurse" in outcome["advice"].lower()
    decision = decide(world, call["id"], urgency="U4", disposition="defer_to_day",
                      reason="her son is with her and will help her up").json()["decision"]
    told = decision["advice_given"]
    assert "own home-care team will come in the morning" in told and "Call us back" in told
    assert "nurse is coming" not in told.lower()
    tasks = world.client.get("/api/day-tasks", headers=world.h("coordinator")).json()
    assert any(t["call_id"] == call["id"] and t["advice_given"] == told for t in tasks)


def test_the_gp_post_is_notified_with_what_was_asked_and_said(world: World) -> None:
    call = new_call(world, "fu-gp")
    run_triage(world, call["id"], "fall", [*SAFE, "no", "no", "no"])
    decision = decide(world, call["id"], urgency="U3", disposition="gp_post",
                      reason="the GP post knows her; nurses are all on urgent calls").json()["decision"]
    assert states(world, call["id"])[-1] == "escalated"
    [note] = decision["gp_notifications"]
    assert "still on the floor" in note["text"] and "Told to the caller" in note["text"]
    assert "GP out-of-hours post" in decision["advice_given"] and "call 112" in decision["advice_given"]


def test_a_do_not_hospitalise_wish_turns_112_into_the_gp_post_and_a_nurse(world: World) -> None:
    r = world.client.patch(f"/api/clients/{world.clients['a1']}", json={"wishes": ["do_not_hospitalise"]},
                           headers=world.h("coordinator"))
    assert r.status_code == 200 and r.json()["wishes"] == ["do_not_hospitalise"]
    bad = world.client.patch(f"/api/clients/{world.clients['a1']}", json={"wishes": ["fly_home"]},
                             headers=world.h("coordinator"))
    assert bad.status_code == 422 and bad.json()["field"].startswith("wishes")
    call = new_call(world, "fu-dnh")
    step = run_triage(world, call["id"], "fall", ["yes", "no"])["step"]  # grey, pale, clammy: 112 unless...
    assert (step["urgency"], step["disposition"], step["also_send_nurse"]) == ("U2", "gp_post", True)
    assert "wish not to go to hospital" in step["advice"]
    decision = decide(world, call["id"]).json()["decision"]
    assert decision["visit"] is not None and decision["gp_notifications"]
    assert states(world, call["id"])[-2:] == ["escalated", "queued"]
