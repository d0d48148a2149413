"""Version 1 of the shipped regional night protocol (kept: calls triaged with it keep their record): from the
answers to the urgency and disposition, with the engine's current rules (signals never turn advice into a
deferral)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocols import DATA, load, parse
from protocols.engine import Question, Result, walk
from protocols.model import DISPOSITIONS_FOR, SIGNALS, URGENCIES

PROTOCOL = load(parse((DATA / "nightcare-regional-night.v1.yaml").read_text(encoding="utf-8")))
SECOND, PAIN, WORSE, CONCERN = SIGNALS[:4]  # second_call_24h, severe_pain_or_anxiety, rapid_deterioration, concern


def triage(complaint: str, answers: list[str], signals: tuple[str, ...] = (), abcd: list[str] | None = None) -> Result:
    """Answer question after question; ABCD is answered 'safe' unless given."""
    given_answers: list[tuple[str, str]] = []
    queue = list(abcd if abcd is not None else ([] if PROTOCOL.complaints[complaint].skip_abcd else ["yes"] * 3))
    queue += answers
    step = walk(PROTOCOL, complaint, given_answers, signals)
    while isinstance(step, Question):
        assert queue, f"{complaint}: protocol asks '{step.node}' but the case has no more answers"
        given_answers.append((step.node, queue.pop(0)))
        step = walk(PROTOCOL, complaint, given_answers, signals)
    assert not queue, f"{complaint}: outcome reached with answers left over: {queue}"
    return step


CASES = [
    # complaint, answers, signals, urgency, disposition, skills
    ("fall", ["yes"], (), "U1", "call_112", ()),
    ("fall", ["no", "yes", "yes"], (), "U2", "nurse_visit", ()),
    ("fall", ["no", "no", "no"], (), "U2", "nurse_visit", ()),
    ("fall", ["no", "no", "yes", "none"], (), "U4", "defer_to_day", ()),
    ("fall", ["no", "no", "yes", "none"], (SECOND,), "U3", "nurse_visit", ()),
    ("fall", ["no", "no", "yes", "severe"], (), "U2", "nurse_visit", ()),
    ("shortness_of_breath", ["no"], (), "U1", "call_112", ()),
    ("shortness_of_breath", ["yes", "no"], (), "U2", "nurse_visit", ()),
    ("shortness_of_breath", ["yes", "yes", "helping"], (), "U5", "advice", ()),
    ("shortness_of_breath", ["yes", "yes", "helping"], (WORSE,), "U3", "nurse_visit", ()),
    ("shortness_of_breath", ["yes", "yes", "not_used"], (), "U3", "nurse_visit", ()),
    ("chest_pain", ["yes"], (), "U1", "call_112", ()),
    ("chest_pain", ["no", "yes"], (), "U3", "nurse_visit", ()),
    ("chest_pain", ["no", "no", "yes"], (), "U4", "defer_to_day", ()),
    ("chest_pain", ["no", "no", "yes"], (CONCERN,), "U3", "nurse_visit", ()),
    ("chest_pain", ["no", "no", "no"], (), "U2", "gp_post", ()),
    ("pain", ["yes", "helped"], (), "U5", "advice", ()),
    ("pain", ["yes", "not_given"], (), "U5", "advice", ()),
    ("pain", ["yes", "not_helped"], (), "U2", "nurse_visit", ("palliative",)),
    ("pain", ["no", "severe"], (), "U2", "nurse_visit", ()),
    ("pain", ["no", "moderate", "no"], (), "U5", "advice", ()),
    ("pain", ["no", "mild"], (), "U4", "defer_to_day", ()),
    ("pain", ["no", "mild"], (SECOND, CONCERN), "U2", "nurse_visit", ()),
    ("catheter", ["yes"], (), "U2", "nurse_visit", ("catheter",)),
    ("catheter", ["no", "out"], (), "U3", "nurse_visit", ("catheter",)),
    ("catheter", ["no", "leaking", "yes"], (), "U4", "defer_to_day", ("catheter",)),
    ("catheter", ["no", "leaking", "no"], (), "U3", "nurse_visit", ("catheter",)),
    ("catheter", ["no", "bag"], (), "U5", "advice", ()),
    ("blood_sugar", ["low", "yes"], (), "U3", "nurse_visit", ("diabetes",)),
    ("blood_sugar", ["low", "no"], (), "U1", "call_112", ("diabetes",)),
    ("blood_sugar", ["high", "yes"], (), "U1", "call_112", ()),
    ("blood_sugar", ["high", "no"], (), "U3", "nurse_visit", ("diabetes",)),
    ("blood_sugar", ["not_measured"], (), "U2", "nurse_visit", ("diabetes",)),
    ("blood_sugar", ["normal"], (), "U5", "advice", ()),
    ("confusion", ["yes", "yes"], (), "U2", "nurse_visit", ()),
    ("confusion", ["yes", "no"], (), "U3", "nurse_visit", ()),
    ("confusion", ["no", "yes"], (), "U5", "advice", ()),
    ("confusion", ["no", "yes"], (SECOND,), "U3", "nurse_visit", ()),
    ("confusion", ["no", "no"], (), "U3", "nurse_visit", ()),
    ("fever", ["yes"], (), "U1", "call_112", ()),
    ("fever", ["no", "yes"], (), "U2", "nurse_visit", ()),
    ("fever", ["no", "no", "yes"], (), "U4", "defer_to_day", ()),
    ("fever", ["no", "no", "yes"], (WORSE,), "U3", "nurse_visit", ()),
    ("fever", ["no", "no", "no"], (), "U3", "nurse_visit", ()),
    ("bleeding", ["yes"], (), "U1", "call_112", ("wound",)),
    ("bleeding", ["no", "stopped", "no"], (), "U4", "defer_to_day", ("wound",)),
    ("bleeding", ["no", "stopped", "yes"], (), "U3", "nurse_visit", ("wound",)),
    ("bleeding", ["no", "soaked"], (), "U3", "nurse_visit", ("wound",)),
    ("bleeding", ["no", "loose"], (), "U4", "defer_to_day", ("wound",)),
    ("vomiting_diarrhoea", ["yes"], (), "U2", "gp_post", ()),
    ("vomiting_diarrhoea", ["no", "yes"], (), "U4", "defer_to_day", ()),
    ("vomiting_diarrhoea", ["no", "no", "yes"], (), "U2", "nurse_visit", ()),
    ("vomiting_diarrhoea", ["no", "no", "no"], (), "U3", "nurse_visit", ()),
    ("palliative", ["yes", "yes"], (), "U2", "nurse_visit", ("palliative", "pump")),
    ("palliative", ["yes", "no"], (), "U3", "nurse_visit", ("pump",)),
    ("palliative", ["no", "pain_restless"], (), "U2", "nurse_visit", ("palliative",)),
    ("palliative", ["no", "rattle_anxiety"], (), "U3", "nurse_visit", ("palliative",)),
    ("palliative", ["no", "question"], (), "U5", "advice", ("palliative",)),
    ("expected_death", ["no"], (), "U1", "call_112", ()),
    ("expected_death", ["yes", "yes"], (), "U3", "nurse_visit", ("palliative",)),
    ("expected_death", ["yes", "no"], (), "U4", "defer_to_day", ("palliative",)),
    ("alarm_no_speech", ["no"], (), "U2", "nurse_visit", ()),
    ("alarm_no_speech", ["yes", "yes"], (), "U5", "advice", ()),
    ("alarm_no_speech", ["yes", "yes"], (SECOND,), "U3", "nurse_visit", ()),
    ("alarm_no_speech", ["yes", "no", "yes"], (), "U2", "nurse_visit", ()),
    ("alarm_no_speech", ["yes", "no", "no"], (), "U3", "nurse_visit", ()),
    ("anxiety", ["yes"], (), "U2", "gp_post", ()),
    ("anxiety", ["no", "yes"], (), "U5", "advice", ()),
    ("anxiety", ["no", "no", "yes"], (), "U3", "nurse_visit", ()),  # U4 raised: remains very anxious
    ("anxiety", ["no", "no", "no"], (), "U2", "nurse_visit", ()),   # U3 raised
    ("incontinence", ["yes"], (), "U3", "nurse_visit", ()),
    ("incontinence", ["no", "yes"], (), "U5", "advice", ()),
    ("incontinence", ["no", "no"], (), "U4", "defer_to_day", ()),
    ("incontinence", ["no", "no"], (SECOND,), "U3", "nurse_visit", ()),
    ("medication", ["yes", "yes"], (), "U2", "gp_post", ()),
    ("medication", ["yes", "no"], (), "U4", "defer_to_day", ()),
    ("medication", ["no", "yes"], (), "U3", "nurse_visit", ()),
    ("medication", ["no", "no"], (), "U5", "advice", ()),
    ("stoma", ["yes"], (), "U2", "gp_post", ("stoma",)),
    ("stoma", ["no", "yes"], (), "U2", "gp_post", ("stoma",)),
    ("stoma", ["no", "no", "can_change"], (), "U5", "advice", ()),
    ("stoma", ["no", "no", "cannot_change"], (), "U3", "nurse_visit", ("stoma",)),
    ("stoma", ["no", "no", "other"], (), "U4", "defer_to_day", ("stoma",)),
    ("other", ["visit_soon"], (), "U2", "nurse_visit", ()),
    ("other", ["day_team"], (), "U4", "defer_to_day", ()),
    ("other", ["advice"], (CONCERN,), "U3", "nurse_visit", ()),
]


@pytest.mark.parametrize("complaint,answers,signals,urgency,disposition,skills", CASES,
                         ids=[f"{c[0]}-{'-'.join(c[1])}{'+' + '+'.join(c[2]) if c[2] else ''}" for c in CASES])
def test_case(complaint: str, answers: list[str], signals: tuple[str, ...], urgency: str, disposition: str,
              skills: tuple[str, ...]) -> None:
    result = triage(complaint, answers, signals)
    assert (result.urgency, result.disposition, result.skills) == (urgency, disposition, skills)
    assert result.advice  # something to read out


def test_every_required_complaint_has_at_least_three_cases() -> None:
    required = {"fall", "shortness_of_breath", "chest_pain", "pain", "catheter", "blood_sugar", "confusion", "fever",
                "bleeding", "vomiting_diarrhoea", "palliative", "expected_death", "alarm_no_speech", "anxiety",
                "incontinence", "medication", "stoma"}
    assert required <= set(PROTOCOL.complaints)
    counts = {c: sum(1 for case in CASES if case[0] == c) for c in PROTOCOL.complaints}
    assert all(n >= 3 for n in counts.values()), counts


@pytest.mark.parametrize("abcd,urgency", [(["no"], "U0"), (["yes", "no"], "U1"), (["yes", "yes", "no"], "U1")])
def test_unsafe_abcd_means_112_and_a_nurse(abcd: list[str], urgency: str) -> None:
    result = triage("fall", [], abcd=abcd)
    assert (result.urgency, result.disposition, result.also_send_nurse) == (urgency, "call_112", True)


def test_abcd_is_skipped_where_it_cannot_be_judged_by_phone() -> None:
    first = walk(PROTOCOL, "alarm_no_speech", [])
    assert isinstance(first, Question) and first.node == "al_callback" and not first.abcd
    assert walk(PROTOCOL, "fall", []).node == "abcd_breathing"


def test_trace_explains_the_outcome() -> None:
    result = triage("fall", ["no", "no", "yes", "none"], (SECOND,))
    assert [t.node for t in result.trace] == ["abcd_breathing", "abcd_circulation", "abcd_consciousness",
                                              "fall_serious", "fall_head", "fall_up", "fall_pain"]
    assert result.trace[-1].label == "No pain"
    assert result.base_urgency == "U4" and "raised to U3 by alarm signals: second_call_24h" in result.explanation


def test_the_protocol_is_labelled_as_a_starting_point() -> None:
    assert "STARTING POINT" in PROTOCOL.note and "clinicians" in PROTOCOL.note


MAX_STEPS = max(len(c.nodes) for c in PROTOCOL.complaints.values()) + len(PROTOCOL.abcd)


@settings(max_examples=400, deadline=None)
@given(complaint=st.sampled_from(sorted(PROTOCOL.complaints)), choices=st.lists(st.integers(0, 10), max_size=40),
       signals=st.sets(st.sampled_from(SIGNALS)))
def test_every_path_reaches_an_outcome_within_bounded_steps(complaint: str, choices: list[int],
                                                            signals: set[str]) -> None:
    answers: list[tuple[str, str]] = []
    step = walk(PROTOCOL, complaint, answers, signals)
    picks = iter(choices)
    while isinstance(step, Question):
        assert len(answers) < MAX_STEPS, f"{complaint}: no outcome after {MAX_STEPS} answers"
        options = [a for a, _ in step.answers]
        answers.append((step.node, options[next(picks, 0) % len(options)]))
        step = walk(PROTOCOL, complaint, answers, signals)
    assert step.urgency in URGENCIES and step.disposition in DISPOSITIONS_FOR[step.urgency]
    # Signals never lower urgency, and alone never push beyond U2.
    assert URGENCIES.index(step.urgency) <= URGENCIES.index(step.base_urgency)
    if step.urgency != step.base_urgency:
        assert URGENCIES.index(step.urgency) >= URGENCIES.index("U2")
