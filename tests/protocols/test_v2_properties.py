"""Properties of the shipped protocol version 2 over every path, every combination of alarm signals, the client's
wishes, the operator's concern and every override an operator may make: what is read to the caller never
contradicts what is done."""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

import pytest

from protocols import DATA, load, parse
from protocols.advice import DNR_STEP
from protocols.engine import Context, Question, Result, decide, walk
from protocols.model import DISPOSITIONS_FOR, DONT_KNOW, NO_VISIT_TONIGHT, URGENCIES, Protocol

V2 = load(parse((DATA / "nightcare-regional-night.v2.yaml").read_text(encoding="utf-8")))
SIGNAL_SETS = [s for n in range(4) for s in itertools.combinations(
    ("second_call_24h", "severe_pain_or_anxiety", "rapid_deterioration"), n)]
CONTEXTS = [Context(wishes=frozenset(w), concern_to_112=c) for w in
            ((), ("do_not_hospitalise",), ("do_not_resuscitate",), ("do_not_hospitalise", "do_not_resuscitate"))
            for c in (False, True)]
NO_VISIT_WORDS = re.compile(r"\bno (night )?visit\b|\bno nurse\b|\bnobody (will )?come", re.I)
RESUSCITATION = re.compile(r"resuscitat|compression|\bCPR\b|rescue breath", re.I)


def paths(protocol: Protocol, complaint: str) -> Iterator[list[tuple[str, str]]]:
    """Every sequence of answers from the first question to an outcome."""
    def extend(answers: list[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
        step = walk(protocol, complaint, answers)
        if isinstance(step, Result):
            yield answers
            return
        for answer_id, _ in step.answers:
            yield from extend([*answers, (step.node, answer_id)])
    yield from extend([])


ALL_PATHS = [(c, p) for c in V2.complaints for p in paths(V2, c)]


def check(result: Result, where: str) -> None:
    text = result.advice
    if result.sends_nurse:
        assert not NO_VISIT_WORDS.search(text), f"{where}: a nurse is sent but the caller hears: {text}"
    if result.disposition == "call_112":
        assert "112" in text, f"{where}: 112 without the 112 instruction: {text}"
    spoken = text.replace(DNR_STEP, "").replace("do-not-resuscitate", "")
    if RESUSCITATION.search(spoken):
        assert {"unresponsive", "not_breathing_normally"} <= set(result.findings), \
            f"{where}: resuscitation advised without establishing unresponsive and not breathing: {text}"
    if result.urgency in ("U0", "U1"):
        assert result.steps, f"{where}: {result.urgency} without pre-arrival steps"
    if result.disposition in NO_VISIT_TONIGHT and not result.sends_nurse:
        assert result.safety_net, f"{where}: no visit tonight and no safety net"


def test_version_2_has_at_least_30_entry_complaints_and_is_labelled_for_review() -> None:
    assert len(V2.complaints) >= 30
    assert "clinicians" in V2.note.lower()
    assert len(ALL_PATHS) > 300


@pytest.mark.parametrize("complaint", sorted(V2.complaints))
def test_the_advice_never_contradicts_what_is_done(complaint: str) -> None:
    for _, answers in (p for p in ALL_PATHS if p[0] == complaint):
        for signals, context in itertools.product(SIGNAL_SETS, CONTEXTS):
            result = walk(V2, complaint, answers, signals, context)
            assert isinstance(result, Result)
            where = f"{complaint} {answers} {signals} {context}"
            check(result, where)
            if signals or context.concern_to_112:
                continue
            for urgency in URGENCIES:  # every override the operator may make
                for disposition in DISPOSITIONS_FOR[urgency]:
                    check(decide(V2, complaint, result, urgency=urgency, disposition=disposition, context=context),
                          f"{where} decided {urgency} {disposition}")


def _reach(protocol: Protocol, complaint: str, answers: list[tuple[str, str]]) -> tuple[int, int]:
    """The most and the least urgent outcome reachable from here (as urgency indexes)."""
    found = [URGENCIES.index(r.urgency) for r in _outcomes(protocol, complaint, answers)]
    return min(found), max(found)


def _outcomes(protocol: Protocol, complaint: str, answers: list[tuple[str, str]]) -> Iterator[Result]:
    step = walk(protocol, complaint, answers)
    if isinstance(step, Result):
        yield step
        return
    for answer_id, _ in step.answers:
        yield from _outcomes(protocol, complaint, [*answers, (step.node, answer_id)])


@pytest.mark.parametrize("complaint", sorted(V2.complaints))
def test_dont_know_never_leads_to_less_urgency_than_a_known_answer(complaint: str) -> None:
    seen: set[str] = set()
    for _, answers in (p for p in ALL_PATHS if p[0] == complaint):
        for i in range(len(answers)):
            node = answers[i][0]
            if node in seen:
                continue
            seen.add(node)
            step = walk(V2, complaint, answers[:i])
            assert isinstance(step, Question)
            ids = [a for a, _ in step.answers]
            if DONT_KNOW not in ids:
                continue
            ranges = {a: _reach(V2, complaint, [*answers[:i], (node, a)]) for a in ids}
            most, least = ranges.pop(DONT_KNOW)
            # The safer branch: it can reach the most urgent outcome any known answer reaches, and it never ends
            # less urgent than the known answer(s) that reach it.
            safest = min(r[0] for r in ranges.values())
            assert most <= safest, f"{complaint}/{node}: don't know cannot reach what a known answer reaches"
            assert least <= min(r[1] for r in ranges.values() if r[0] == safest), \
                f"{complaint}/{node}: don't know can end less urgent than the safest known answer"
