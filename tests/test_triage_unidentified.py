"""112 cannot wait for a name: a caller nobody has identified yet is escalated at once, and what needs the client
(the nurse, a task for her own team) is done when she is named, once (both databases)."""
from __future__ import annotations

from tests.test_triage import SAFE, decide, run_triage, states
from tests.world import World

FRACTURE = [*SAFE, "yes"]  # a fall with a serious injury: U1, 112 and a nurse as well


def _stranger(world: World, ref: str) -> int:
    """A neighbour calling from a number no client has."""
    call = world.post_call(source_ref=ref, caller_phone="+31612999999", text="neighbour: she fell, leg turned out")
    assert call.status_code == 201 and call.json()["client_id"] is None
    return int(call.json()["id"])


def _alerts(world: World, call_id: int) -> list[dict]:
    listed = world.client.get("/api/alerts", headers=world.h("operator")).json()
    return [a for a in listed if a["call_id"] == call_id and a["kind"] == "client_unidentified"]


def _visits(world: World, call_id: int) -> list[dict]:
    listed = world.client.get("/api/visits", headers=world.h("operator")).json()
    return [v for v in listed if v["call_id"] == call_id]


def _identify(world: World, call_id: int, client: str, reason: str = "") -> None:
    r = world.client.post(f"/api/calls/{call_id}/client", json={"client_id": world.clients[client], "reason": reason},
                          headers=world.h("operator"))
    assert r.status_code == 200, r.text


def test_112_for_an_unidentified_caller_is_recorded_and_the_nurse_follows_her_name_once(world: World) -> None:
    call_id = _stranger(world, "u-112")
    assert run_triage(world, call_id, "fall", FRACTURE)["step"]["urgency"] == "U1"
    r = decide(world, call_id)
    assert r.status_code == 200, r.text
    decision = r.json()["decision"]
    assert (decision["urgency"], decision["disposition"], decision["visit"]) == ("U1", "call_112", None)
    assert decision["waiting_for_client"] == ["send the nurse"]
    assert states(world, call_id)[-2:] == ["triaged", "escalated"]
    [alert] = _alerts(world, call_id)
    assert alert["message"] == f"112 called for call {call_id}; identify the client to send the nurse"
    assert _visits(world, call_id) == []

    _identify(world, call_id, "a2")
    [visit] = _visits(world, call_id)
    assert (visit["state"], visit["client_id"], visit["urgency"]) == ("open", world.clients["a2"], "U1")
    assert states(world, call_id)[-1] == "queued" and _alerts(world, call_id) == []
    after = world.client.get(f"/api/calls/{call_id}/triage", headers=world.h("operator")).json()["decision"]
    assert after["waiting_for_client"] == [] and after["visit"]["id"] == visit["id"]

    _identify(world, call_id, "a2")  # named again: nothing more
    _identify(world, call_id, "a1", reason="the neighbour gave the wrong house number")  # corrected: it moves
    assert [(v["id"], v["client_id"]) for v in _visits(world, call_id)] == [(visit["id"], world.clients["a1"])]
    events = world.client.get(f"/api/calls/{call_id}", headers=world.h("operator")).json()["events"]
    assert [e["to_state"] for e in events if e["from_state"] != e["to_state"]].count("queued") == 1


def test_the_operators_concern_reaches_112_for_an_unidentified_caller(world: World) -> None:
    call_id = _stranger(world, "u-concern")
    run_triage(world, call_id, "medication", [*SAFE, "no", "no"])  # advice, but she sounds wrong
    r = world.client.put(f"/api/calls/{call_id}/triage/signals",
                         json={"signals": [], "concern_to_112_reason": "she slurs and then stops answering"},
                         headers=world.h("operator"))
    assert r.json()["step"]["disposition"] == "call_112"
    decided = decide(world, call_id)
    assert decided.status_code == 200, decided.text
    assert states(world, call_id)[-1] == "escalated" and len(_alerts(world, call_id)) == 1


def test_the_gp_post_with_a_nurse_is_called_at_once_and_the_nurse_waits_for_the_name(world: World) -> None:
    call_id = _stranger(world, "u-gp")
    run_triage(world, call_id, "fall", FRACTURE)
    r = decide(world, call_id, urgency="U2", disposition="gp_post", reason="the GP post is already on its way")
    assert r.status_code == 200, r.text
    assert r.json()["decision"]["waiting_for_client"] == ["send the nurse"]
    events = world.client.get(f"/api/calls/{call_id}", headers=world.h("operator")).json()["events"]
    assert events[-1]["to_state"] == "escalated" and events[-1]["reason"] == "handed to the GP out-of-hours post"
    [alert] = _alerts(world, call_id)
    assert alert["message"].startswith(f"the GP post is called for call {call_id}")
    _identify(world, call_id, "b1")
    assert [v["client_id"] for v in _visits(world, call_id)] == [world.clients["b1"]]


def test_a_nurse_visit_for_an_unidentified_caller_is_still_refused(world: World) -> None:
    call_id = _stranger(world, "u-visit")
    run_triage(world, call_id, "fall", [*SAFE, "no", "no", "no"])  # on the floor: U2, a nurse visit
    r = decide(world, call_id)
    assert r.status_code == 409 and r.json()["field"] == "client_id"
    assert "identify the client" in r.json()["detail"]
    assert states(world, call_id)[-1] == "triaging" and _alerts(world, call_id) == []
