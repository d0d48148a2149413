"""Format 2 in the engine, on a small protocol written for the test: the advice read to the caller belongs to the
final outcome; the client's wishes and risks and the operator's concern take part; first aid survives ABCD."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from protocols import ProtocolError, load
from protocols.engine import Context, Question, Result, decide, unguided, walk

DOC = {
    "protocol": "t", "version": 2,
    "sources": {"erc": "European Resuscitation Council Guidelines 2021", "nhg": "NHG-Standaard"},
    "abcd": {"start": "awake", "nodes": {
        "awake": {"question": "Does she answer when you speak to her or touch her shoulder?", "answers": [
            {"id": "yes", "continue": True},
            {"id": "no", "next": "breathing", "finding": "unresponsive"},
            {"id": "dont_know", "next": "breathing", "finding": "unresponsive"}]},
        "breathing": {"question": "Is she breathing normally?", "answers": [
            {"id": "yes", "outcome": "recovery", "finding": "breathing", "source": ["erc"]},
            {"id": "no", "outcome": "cpr", "finding": "not_breathing_normally", "source": ["erc"]}]},
    }},
    "outcomes": {
        "recovery": {"urgency": "U1", "disposition": "call_112", "also_send_nurse": True,
                     "advice": "Call 112 now; a nurse is coming as well.",
                     "steps": ["Turn her on her side in the recovery position.", "Unlock the door for the ambulance."]},
        "cpr": {"urgency": "U0", "disposition": "call_112", "also_send_nurse": True, "advice": "Call 112 now.",
                "steps": [{"text": "Start chest compressions: push hard and fast in the middle of the chest.",
                           "cpr": True}]},
    },
    "complaints": [{
        "id": "bleed", "title": "Bleeding", "start": "through", "risks": ["anticoagulated"],
        "first_aid": ["Press firmly on the wound with a clean cloth.",
                      {"text": "Keep her lying on her side.", "unresponsive": True}],
        "nodes": {
            "through": {"question": "Is blood coming through the dressing?", "answers": [
                {"id": "yes", "outcome": "soon", "source": ["nhg"]},
                {"id": "dont_know", "outcome": "soon", "source": ["nhg"]},
                {"id": "no", "next": "small"}]},
            "small": {"question": "Has it stopped?", "answers": [
                {"id": "yes", "outcome": "tips"}, {"id": "no", "outcome": "later"}]},
        },
        "outcomes": {
            "soon": {"urgency": "U2", "disposition": "nurse_visit", "advice": "A nurse is coming as soon as possible.",
                     "steps": ["Press firmly on the wound with a clean cloth for ten minutes."]},
            "later": {"urgency": "U3", "disposition": "nurse_visit", "advice": "A nurse is coming tonight."},
            "tips": {"urgency": "U5", "disposition": "advice", "advice": "No visit is needed tonight.",
                     "steps": ["Leave the dressing in place."], "follow_up": ["day_task"],
                     "safety_net": "Call back if it starts to bleed again; call 112 if it spurts."},
        },
    }],
}
P = load(DOC)


def run(answers: list[tuple[str, str]], signals: tuple[str, ...] = (), **context) -> Result:
    result = walk(P, "bleed", answers, signals, Context(**context))
    assert isinstance(result, Result)
    return result


STOPPED = [("awake", "yes"), ("through", "no"), ("small", "yes")]


def test_advice_is_message_steps_and_safety_net_in_reading_order() -> None:
    r = run(STOPPED)
    assert (r.urgency, r.disposition, r.follow_up) == ("U5", "advice", ("day_task",))
    assert r.advice.splitlines() == ["No visit is needed tonight.", "1. Leave the dressing in place.",
                                     "Call back if it starts to bleed again; call 112 if it spurts."]


def test_a_signal_turns_advice_into_a_visit_and_the_advice_follows() -> None:
    r = run(STOPPED, ("rapid_deterioration",))
    assert (r.urgency, r.disposition) == ("U3", "nurse_visit")
    assert "no visit" not in r.advice.lower() and "nurse is coming" in r.advice.lower()
    assert r.safety_net == ""  # someone comes: no "call back if" instead of a visit
    assert run(STOPPED, ("rapid_deterioration", "severe_pain_or_anxiety", "operator_concern")).urgency == "U2"


def test_a_risk_flag_the_complaint_names_raises_and_says_why() -> None:
    r = run([("awake", "yes"), ("through", "no"), ("small", "no")], risks=frozenset({"anticoagulated"}))
    assert r.urgency == "U2" and "known_high_risk" in r.signals
    assert any("anticoagulated" in line for line in r.explanation)
    assert run([("awake", "yes"), ("through", "no"), ("small", "no")], risks=frozenset({"copd"})).urgency == "U3"


def test_abcd_outcomes_keep_the_complaints_first_aid_that_holds_when_she_does_not_respond() -> None:
    r = run([("awake", "no"), ("breathing", "yes")])
    assert r.steps == ("Turn her on her side in the recovery position.", "Unlock the door for the ambulance.",
                       "Keep her lying on her side.")  # not "press on the wound": she is unresponsive
    assert r.findings == ("unresponsive", "breathing")


def test_a_do_not_resuscitate_wish_replaces_compressions() -> None:
    r = run([("awake", "no"), ("breathing", "no")], wishes=frozenset({"do_not_resuscitate"}))
    assert "compressions" not in r.advice and "do not start resuscitation" in r.advice
    assert "compressions" in run([("awake", "no"), ("breathing", "no")]).advice


def test_a_do_not_hospitalise_wish_turns_112_into_the_gp_post_and_a_nurse() -> None:
    r = run([("awake", "no"), ("breathing", "yes")], wishes=frozenset({"do_not_hospitalise"}))
    assert (r.urgency, r.disposition, r.sends_nurse) == ("U2", "gp_post", True)
    assert "112 now" not in r.advice and "ambulance" not in r.advice.lower()
    assert "gp_notification" in r.follow_up and "If she gets worse" in r.safety_net


def test_despite_dnh_keeps_112() -> None:
    doc: dict[str, Any] = copy.deepcopy(DOC)
    doc["outcomes"]["recovery"]["despite_dnh"] = True
    r = walk(load(doc), "bleed", [("awake", "no"), ("breathing", "yes")], (),
             Context(wishes=frozenset({"do_not_hospitalise"})))
    assert isinstance(r, Result) and r.disposition == "call_112"


def test_the_operators_concern_reaches_112_with_a_nurse() -> None:
    r = run(STOPPED, concern_to_112=True)
    assert (r.urgency, r.disposition, r.also_send_nurse) == ("U1", "call_112", True)
    assert r.advice.startswith("Call 112 now") and "No visit" not in r.advice


def test_a_second_call_about_an_urgent_outcome_is_flagged_for_the_senior_nurse() -> None:
    assert run([("awake", "yes"), ("through", "yes")], ("second_call_24h",)).flags == ("senior_review",)
    assert run([("awake", "yes"), ("through", "yes")]).flags == ()
    assert run(STOPPED, ("second_call_24h",)).flags == ()  # raised to U3 only


def test_an_override_gets_the_advice_of_what_is_done() -> None:
    r = run([("awake", "yes"), ("through", "yes")])
    down = decide(P, "bleed", r, urgency="U4", disposition="defer_to_day")
    assert down.message.startswith("Her own home-care team will come in the morning")
    assert "Press firmly" in down.advice and down.safety_net and "day_task" in down.follow_up
    gp = decide(P, "bleed", r, urgency="U3", disposition="gp_post")
    assert "GP out-of-hours post" in gp.message and "nurse is coming" not in gp.advice.lower()
    up = decide(P, "bleed", run(STOPPED), urgency="U1", disposition="call_112")
    assert up.also_send_nurse and "No visit" not in up.advice


def test_deciding_before_the_outcome_counts_what_was_skipped() -> None:
    q = walk(P, "bleed", [("awake", "yes"), ("through", "no")])
    assert isinstance(q, Question) and q.remaining == 1
    assert walk(P, "bleed", []).remaining == 2
    r = unguided(P, "bleed", q, urgency="U2", disposition="nurse_visit")
    assert r.outcome_id == "operator_decision" and "Press firmly on the wound" in r.advice


def test_dont_know_answers_are_counted() -> None:
    assert run([("awake", "yes"), ("through", "dont_know")]).dont_know == 1


@pytest.mark.parametrize("change,message", [
    (lambda d: d["complaints"][0]["nodes"]["through"]["answers"][0].pop("source"),
     "complaint 'bleed' node 'through' answer 'yes': leads to U2 and must name the source"),
    (lambda d: d["complaints"][0]["nodes"]["through"]["answers"][0].update(source=["nts"]),
     "complaint 'bleed' node 'through' answer 'yes': unknown source 'nts'"),
    (lambda d: d["outcomes"]["cpr"].pop("steps"), "protocol outcome 'cpr': a U0 outcome needs pre-arrival steps"),
    (lambda d: d["complaints"][0]["outcomes"]["tips"].pop("safety_net"),
     "complaint 'bleed' outcome 'tips': an outcome without a visit tonight needs a safety net"),
    (lambda d: d["complaints"][0]["nodes"]["small"]["answers"][0].update(outcome=None, **{"continue": True}),
     "complaint 'bleed' node 'small' answer 'yes': continue is for ABCD questions"),
    (lambda d: d["abcd"]["nodes"]["awake"]["answers"][1].update(finding="sleepy"),
     "abcd node 'awake' answer 'no': unknown finding 'sleepy'"),
    (lambda d: d["complaints"][0].update(risks=["bad_luck"]), "complaint 'bleed' risks: unknown 'bad_luck'"),
    (lambda d: d["complaints"][0]["outcomes"]["tips"].update(follow_up=["letter"]),
     "complaint 'bleed' outcome 'tips' follow_up: unknown 'letter'"),
])
def test_format_2_is_checked_and_the_place_named(change, message: str) -> None:
    doc = copy.deepcopy(DOC)
    change(doc)
    with pytest.raises(ProtocolError) as excinfo:
        load(doc)
    assert str(excinfo.value).startswith(message)


def test_unknown_wishes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown wish or risk flag 'fly'"):
        Context(wishes=frozenset({"fly"}))
