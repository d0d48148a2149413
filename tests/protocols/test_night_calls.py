"""Independent table test of the shipped regional night protocol, version 2 (issue 16).

`night_calls.yaml` holds realistic night calls. Their expectations were written from clinical guidance (NTS,
NHG, V&VN, Pallialine, ERC, NEWS2) and committed before the version-2 content existed; the answers were added
afterwards, each question answered from the call's story and facts only, the way an honest operator would.
A failing case is a finding about the protocol content (or, where the rationale says so, the engine) — not a
reason to change the expectation.

Schema of one call (a YAML list item)::

    id: hypo-confused-insulin        # unique
    complaint: blood_sugar           # the v2 entry complaint id
    story: ...                       # what the caller says, as the operator hears it
    facts: {...}                     # free-form, for the reader (and for answering the questions)
    client:                          # optional: what the client's record holds
      wishes: [do_not_hospitalise]   #   recorded wishes (protocols.model.WISHES)
      risks: [diabetes_insulin]      #   risk flags (protocols.model.RISK_FLAGS)
      concern_to_112: false          #   optional: the operator raises the call to 112 out of concern
    signals: [second_call_24h]       # optional alarm signals the operator would tick (protocols.model.SIGNALS)
    answers: {node_id: answer_id}    # the answer to every question the walk may ask, keyed by node id
    expect:
      urgency: [U1, U2]              # the acceptable range: every urgency from the most to the least urgent
                                     #   listed value, inclusive ([U2] means exactly U2)
      disposition: [nurse_visit]     # the acceptable dispositions
      also_send_nurse: true          # optional: whether a nurse must (true) or must not (false) go as well
      advice: [sugar]                # phrases that must ALL appear in the advice read to the caller
      advice_any: [[a, b], [c]]      # groups: at least ONE phrase of EACH group must appear
      not_advice: [resuscitat]       # phrases that must NOT appear
    rationale: ...                   # the guidance the expectation rests on

Phrases are matched as case-insensitive substrings of `Result.advice` — the whole text read to the caller
(message, numbered steps, safety net).

The walk: start with no answers; while the engine asks a question, look its node up in `answers` (a question
the table does not answer fails the case, naming the node and the question — the table must answer what the
protocol asks); the client's wishes and risks go in as the engine's `Context`, the signals as signals.

Run: `.venv/bin/python -m pytest tests/protocols/test_night_calls.py` from the clone.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from protocols import DEFAULT_PROTOCOL_ID, load, shipped_documents
from protocols.engine import Context, Question, Result, walk
from protocols.model import (
    DISPOSITIONS,
    DISPOSITIONS_FOR,
    RISK_FLAGS,
    SIGNALS,
    URGENCIES,
    WISHES,
)

TABLE = Path(__file__).with_name("night_calls.yaml")
VERSION = 2
MIN_CALLS = 80
MAX_QUESTIONS = 60  # a walk longer than this is a loop in the test, not a protocol

CALLS: list[dict] = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
CALL_KEYS = {"id", "complaint", "story", "facts", "client", "signals", "answers", "expect", "rationale"}
EXPECT_KEYS = {"urgency", "disposition", "also_send_nurse", "advice", "advice_any", "not_advice"}


def _v2():
    docs = [d for d in shipped_documents() if d.get("protocol") == DEFAULT_PROTOCOL_ID and d.get("version") == VERSION]
    return load(docs[0]) if docs else None


PROTOCOL = _v2()
needs_v2 = pytest.mark.skipif(PROTOCOL is None, reason=f"{DEFAULT_PROTOCOL_ID} v{VERSION} is not shipped yet")


def urgency_range(expected: list[str]) -> list[str]:
    """[U1, U3] -> [U1, U2, U3]: every urgency from the most to the least urgent listed value."""
    idx = [URGENCIES.index(u) for u in expected]
    return list(URGENCIES[min(idx):max(idx) + 1])


def run_call(call: dict) -> Result:
    """Walk the protocol for one call, answering each question from the call's `answers`."""
    assert PROTOCOL is not None
    client = call.get("client") or {}
    context = Context(wishes=frozenset(client.get("wishes") or ()), risks=frozenset(client.get("risks") or ()),
                      concern_to_112=bool(client.get("concern_to_112", False)))
    table_answers = {str(k): str(v) for k, v in (call.get("answers") or {}).items()}
    given: list[tuple[str, str]] = []
    for _ in range(MAX_QUESTIONS):
        step = walk(PROTOCOL, call["complaint"], given, signals=call.get("signals") or (), context=context)
        if isinstance(step, Result):
            return step
        assert isinstance(step, Question)
        if step.node not in table_answers:
            options = ", ".join(f"{aid} ({label})" for aid, label in step.answers)
            asked = " -> ".join(f"{t.node}={t.answer}" for t in step.trace) or "(first question)"
            pytest.fail(f"the table does not answer node '{step.node}': {step.question!r} "
                        f"[answers: {options}] after {asked}")
        given.append((step.node, table_answers[step.node]))
    pytest.fail(f"no outcome after {MAX_QUESTIONS} questions")


def check(call: dict, result: Result) -> list[str]:
    """Every way the result falls short of the call's expectation (empty when it meets it)."""
    expect = call["expect"]
    problems = []
    allowed = urgency_range(expect["urgency"])
    if result.urgency not in allowed:
        problems.append(f"urgency {result.urgency} not in {allowed[0]}..{allowed[-1]}")
    if result.disposition not in expect["disposition"]:
        problems.append(f"disposition {result.disposition} not in {expect['disposition']}")
    if "also_send_nurse" in expect and result.also_send_nurse != expect["also_send_nurse"]:
        problems.append(f"also_send_nurse {result.also_send_nurse}, expected {expect['also_send_nurse']}")
    text = result.advice.lower()
    for phrase in expect.get("advice") or ():
        if str(phrase).lower() not in text:
            problems.append(f"advice lacks {phrase!r}")
    for group in expect.get("advice_any") or ():
        if not any(str(p).lower() in text for p in group):
            problems.append(f"advice lacks any of {list(group)}")
    for phrase in expect.get("not_advice") or ():
        if str(phrase).lower() in text:
            problems.append(f"advice contains forbidden {phrase!r}")
    return problems


# --- the table itself (needs no protocol) ---------------------------------------------------------------------

def test_table_is_big_enough_and_ids_unique() -> None:
    ids = [c["id"] for c in CALLS]
    assert len(ids) >= MIN_CALLS, f"{len(ids)} calls, at least {MIN_CALLS} wanted"
    assert len(set(ids)) == len(ids), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("call", CALLS, ids=[c["id"] for c in CALLS])
def test_table_entry_is_well_formed(call: dict) -> None:
    assert set(call) <= CALL_KEYS, sorted(set(call) - CALL_KEYS)
    assert {"id", "complaint", "story", "expect", "rationale"} <= set(call)
    expect = call["expect"]
    assert set(expect) <= EXPECT_KEYS, sorted(set(expect) - EXPECT_KEYS)
    assert expect["urgency"] and set(expect["urgency"]) <= set(URGENCIES)
    assert expect["disposition"] and set(expect["disposition"]) <= set(DISPOSITIONS)
    # every acceptable disposition fits at least one acceptable urgency, and the other way round
    allowed = urgency_range(expect["urgency"])
    for disposition in expect["disposition"]:
        assert any(disposition in DISPOSITIONS_FOR[u] for u in allowed), f"{disposition} fits none of {allowed}"
    for urgency in allowed:
        assert any(d in DISPOSITIONS_FOR[urgency] for d in expect["disposition"]), f"{urgency}: no disposition fits"
    for group in expect.get("advice_any") or ():
        assert isinstance(group, list) and group, "advice_any: a list of non-empty lists"
    client = call.get("client") or {}
    assert set(client.get("wishes") or ()) <= set(WISHES)
    assert set(client.get("risks") or ()) <= set(RISK_FLAGS)
    assert set(call.get("signals") or ()) <= set(SIGNALS)


# --- against the shipped v2 -----------------------------------------------------------------------------------

@needs_v2
def test_table_covers_every_entry_complaint_of_v2() -> None:
    assert PROTOCOL is not None
    shipped = set(PROTOCOL.complaints)
    covered = {c["complaint"] for c in CALLS}
    assert not shipped - covered, f"complaints without a call: {sorted(shipped - covered)}"
    assert not covered - shipped, f"calls for complaints v{VERSION} does not have: {sorted(covered - shipped)}"


@needs_v2
@pytest.mark.parametrize("call", CALLS, ids=[c["id"] for c in CALLS])
def test_night_call(call: dict) -> None:
    result = run_call(call)
    problems = check(call, result)
    if problems:
        path = " -> ".join(f"{t.node}={t.answer}" for t in result.trace)
        pytest.fail(
            f"{call['id']}: " + "; ".join(problems)
            + f"\n  got: {result.urgency} {result.disposition} (outcome '{result.outcome_id}', base "
              f"{result.base_urgency}, signals {list(result.signals)})"
            + f"\n  path: {path}\n  advice: {result.advice!r}\n  rationale: {' '.join(call['rationale'].split())}")
