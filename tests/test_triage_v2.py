"""The shipped protocol version 2 through the API, as a region that has not pinned a version uses it: what the
caller is told, what the service does with the outcome, and the client's record taking part (both databases)."""
from __future__ import annotations

import pytest

from dispatch.settings import Settings
from tests.conftest import test_settings
from tests.test_triage import decide, new_call, states
from tests.world import World

AS_USUAL = {"abcd_awake": "yes", "abcd_sentence": "yes", "abcd_colour": "no", "abcd_alert": "no"}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return test_settings(database_url, protocol_version=None)


def walk(world: World, call_id: int, complaint: str, answers: dict[str, str]) -> dict:
    """Answer what the protocol asks from `answers` (keyed by question), as an operator hearing the caller."""
    r = world.client.post(f"/api/calls/{call_id}/triage", json={"complaint": complaint}, headers=world.h("operator"))
    assert r.status_code == 201, r.text
    triage = r.json()
    assert triage["protocol"]["version"] == 2
    while triage["step"]["type"] == "question":
        node = triage["step"]["node"]
        assert node in answers, f"the protocol asks {node}: {triage['step']['question']}"
        r = world.client.post(f"/api/calls/{call_id}/triage/answers", json={"node": node, "answer": answers[node]},
                              headers=world.h("operator"))
        assert r.status_code == 200, r.text
        triage = r.json()
    return triage


def test_a_low_sugar_on_insulin_gets_sugar_a_recheck_and_an_urgent_nurse(world: World) -> None:
    call = new_call(world, "v2-hypo")
    step = walk(world, call["id"], "blood_sugar", {
        "bs_awake": "yes", "bs_breath": "yes", "bs_stroke": "no", "bs_value": "low", "bs_swallow": "yes",
        "bs_confused": "no", "bs_medicine": "insulin"})["step"]
    assert (step["urgency"], step["disposition"]) == ("U2", "nurse_visit")
    told = " ".join(step["steps"]).lower()
    assert "sugar" in told and "15 minutes" in told and "nothing to eat" not in told
    decision = decide(world, call["id"]).json()["decision"]
    assert decision["visit"] is not None and states(world, call["id"])[-1] == "queued"
    assert decision["questions_asked"] == 7 and decision["questions_skipped"] == 0


def test_fever_with_new_confusion_involves_the_gp_post_and_sends_a_nurse(world: World) -> None:
    call = new_call(world, "v2-fever")
    step = walk(world, call["id"], "fever", {**AS_USUAL, "abcd_alert": "new_confusion", "fev_red": "no",
                                             "fev_confused": "yes"})["step"]
    assert (step["urgency"], step["disposition"], step["also_send_nurse"]) == ("U2", "gp_post", True)
    decision = decide(world, call["id"]).json()["decision"]
    assert states(world, call["id"])[-2:] == ["escalated", "queued"] and decision["visit"] is not None
    [note] = decision["gp_notifications"]
    assert "confused" in note["text"].lower() and "Told to the caller" in note["text"]


def test_a_risk_on_her_record_raises_the_urgency_and_stays_raised(world: World) -> None:
    r = world.client.patch(f"/api/clients/{world.clients['a1']}", json={"risks": ["chemotherapy"]},
                           headers=world.h("coordinator"))
    assert r.status_code == 200, r.text
    call = new_call(world, "v2-risk")
    triage = walk(world, call["id"], "fever", {**AS_USUAL, "fev_red": "no", "fev_confused": "no",
                                               "fev_defences": "no", "fev_temp": "normal", "fev_coping": "yes"})
    step = triage["step"]
    assert (step["base_urgency"], step["urgency"], step["disposition"]) == ("U4", "U3", "nurse_visit")
    assert "known_high_risk" in triage["signals"] and any("chemotherapy" in e for e in step["explanation"])
    assert "no night visit" not in step["advice"].lower()
    kept = world.client.put(f"/api/calls/{call['id']}/triage/signals", json={"signals": []},
                            headers=world.h("operator")).json()
    assert kept["step"]["urgency"] == "U3"


def test_a_do_not_resuscitate_wish_is_read_instead_of_compressions(world: World) -> None:
    r = world.client.patch(f"/api/clients/{world.clients['a1']}", json={"wishes": ["do_not_resuscitate"]},
                           headers=world.h("coordinator"))
    assert r.status_code == 200, r.text
    call = new_call(world, "v2-dnr")
    step = walk(world, call["id"], "fall", {"abcd_awake": "no", "abcd_breathing_unresp": "no"})["step"]
    assert step["disposition"] == "call_112" and "compressions" not in step["advice"].lower()
    assert "do not start resuscitation" in step["advice"]
    other = world.post_call(source_ref="v2-cpr", caller_phone="+31687654321", text="neighbour").json()
    step = walk(world, other["id"], "fall", {"abcd_awake": "no", "abcd_breathing_unresp": "no"})["step"]
    assert "compressions" in step["advice"].lower()  # without the wish (an unknown client): resuscitation coached
