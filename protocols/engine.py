"""Walk a protocol: from the answers so far to the next question or to the outcome, with the trace of why.

Pure: the caller supplies the protocol, the entry complaint, the answers in order, the alarm signals and what
the client's record says (wishes, risk flags). Going back is giving fewer answers.

What is read to the caller always belongs to the final outcome (advice.py composes it): a raise by signals or
the client's record, the operator's concern or an override changes what is said with what is done.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from protocols.advice import Advice, compose, fit_disposition, raise_urgency
from protocols.model import (
    RISK_FLAGS,
    SIGNALS,
    URGENCIES,
    WISHES,
    Answer,
    Complaint,
    Node,
    Outcome,
    Protocol,
)

__all__ = ["AnswerError", "Context", "Question", "Result", "TraceStep", "decide", "fit_disposition",
           "raise_urgency", "remaining_questions", "unguided", "walk"]
OPERATOR_DECISION = "operator_decision"  # the outcome id of a decision taken before the protocol reached one

SENIOR_REVIEW_UP_TO = "U2"  # a second call about an outcome this urgent or more is flagged for the senior nurse


class AnswerError(ValueError):
    """An answer does not fit the protocol at that point; `index` is its position in the answers."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class Context:
    """What the service knows beyond the answers: the client's record and the operator's concern."""

    wishes: frozenset[str] = frozenset()
    risks: frozenset[str] = frozenset()
    concern_to_112: bool = False  # the operator's concern raises the call to U1, with a reason kept by the service

    def __post_init__(self) -> None:
        unknown = sorted((self.wishes - set(WISHES)) | (self.risks - set(RISK_FLAGS)))
        if unknown:
            raise ValueError(f"unknown wish or risk flag '{unknown[0]}'")


@dataclass(frozen=True)
class TraceStep:
    node: str
    question: str
    answer: str
    label: str
    signal: str | None = None
    abcd: bool = False


@dataclass(frozen=True)
class Question:
    node: str
    question: str
    answers: tuple[tuple[str, str], ...]  # (id, label)
    abcd: bool
    trace: tuple[TraceStep, ...]
    remaining: int = 1  # the fewest questions still to answer before an outcome (this one included)
    findings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Result:
    """The outcome of a walk: the protocol's outcome, raised by alarm signals and the client's record, with the
    advice that belongs to it."""

    outcome_id: str
    base_urgency: str
    urgency: str
    disposition: str
    skills: tuple[str, ...]
    service_minutes: int
    advice: str  # the whole text read to the caller: message, steps, safety net
    also_send_nurse: bool  # a nurse goes as well (112 or GP post)
    signals: tuple[str, ...]
    trace: tuple[TraceStep, ...]
    explanation: tuple[str, ...] = field(default=())
    message: str = ""
    steps: tuple[str, ...] = ()
    safety_net: str = ""
    follow_up: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()  # senior_review
    findings: tuple[str, ...] = ()
    questions_asked: int = 0
    dont_know: int = 0

    @property
    def sends_nurse(self) -> bool:
        return self.disposition == "nurse_visit" or self.also_send_nurse


def walk(protocol: Protocol, complaint_id: str, answers: Sequence[tuple[str, str]],
         signals: Iterable[str] = (), context: Context | None = None) -> Question | Result:
    """Follow `answers` ((node id, answer id) in order) from the start; return the next question or the result."""
    complaint = protocol.complaints.get(complaint_id)
    if complaint is None:
        raise KeyError(f"no entry complaint '{complaint_id}' in {protocol.id} v{protocol.version}")
    unknown = sorted(set(signals) - set(SIGNALS))
    if unknown:
        raise ValueError(f"unknown alarm signal '{unknown[0]}' (known: {', '.join(SIGNALS)})")
    active = set(signals)
    trace: list[TraceStep] = []
    findings: list[str] = []
    node, is_abcd = _first(protocol, complaint)
    for index, (node_id, answer_id) in enumerate(answers):
        if node is None:
            raise AnswerError(f"answer {index + 1} comes after the outcome was reached", index)
        if node_id != node.id:
            raise AnswerError(f"answer {index + 1} is for '{node_id}', but the question now is '{node.id}'", index)
        answer = node.answer(str(answer_id).lower())
        if answer is None:
            options = ", ".join(a.id for a in node.answers)
            raise AnswerError(f"'{answer_id}' is not an answer to '{node.id}' (answers: {options})", index)
        trace.append(TraceStep(node=node.id, question=node.question, answer=answer.id, label=answer.label,
                               signal=answer.signal, abcd=is_abcd))
        if answer.signal:
            active.add(answer.signal)
        if answer.finding and answer.finding not in findings:
            findings.append(answer.finding)
        if answer.outcome:
            if index != len(answers) - 1:
                raise AnswerError(f"answer {index + 2} comes after the outcome was reached", index + 1)
            return _result(protocol, complaint, protocol.outcome(complaint, answer.outcome), active,
                           tuple(trace), tuple(findings), is_abcd, context or Context())
        node, is_abcd = _after(protocol, complaint, answer, is_abcd)
    assert node is not None
    return Question(node=node.id, question=node.question, answers=tuple((a.id, a.label) for a in node.answers),
                    abcd=is_abcd, trace=tuple(trace), findings=tuple(findings),
                    remaining=remaining_questions(protocol, complaint, node.id, abcd=is_abcd))


def _first(protocol: Protocol, complaint: Complaint) -> tuple[Node, bool]:
    if protocol.abcd and not complaint.skip_abcd:
        assert protocol.abcd_start is not None
        return protocol.abcd[protocol.abcd_start], True
    return complaint.nodes[complaint.start], False


def _after(protocol: Protocol, complaint: Complaint, answer: Answer, is_abcd: bool) -> tuple[Node, bool]:
    if is_abcd and answer.next:
        return protocol.abcd[answer.next], True
    if is_abcd:  # continue: on to the complaint
        return complaint.nodes[complaint.start], False
    assert answer.next is not None
    return complaint.nodes[answer.next], False


def remaining_questions(protocol: Protocol, complaint: Complaint, node_id: str, *, abcd: bool) -> int:
    """The fewest questions from `node_id` (included) to an outcome: what deciding now would skip."""
    nodes = protocol.abcd if abcd else complaint.nodes
    best = None
    for a in nodes[node_id].answers:
        if a.outcome:
            return 1
        if a.next:
            rest = remaining_questions(protocol, complaint, a.next, abcd=abcd)
        else:  # continue from the ABCD to the complaint
            rest = remaining_questions(protocol, complaint, complaint.start, abcd=False)
        best = rest if best is None else min(best, rest)
    return 1 + (best or 0)


def _result(protocol: Protocol, complaint: Complaint, outcome: Outcome, signals: set[str],
            trace: tuple[TraceStep, ...], findings: tuple[str, ...], by_abcd: bool, context: Context) -> Result:
    explanation = [f"protocol outcome '{outcome.id}': {outcome.urgency} {outcome.disposition}"]
    risks = complaint.raised_by(context.risks)
    if risks:
        signals = signals | {"known_high_risk"}
        explanation.append(f"known high risk on the client's record: {', '.join(risks)}")
    ordered = tuple(s for s in SIGNALS if s in signals)
    urgency = raise_urgency(outcome.urgency, len(ordered))
    if urgency != outcome.urgency:
        explanation.append(f"raised to {urgency} by alarm signals: {', '.join(ordered)}")
    elif ordered:
        explanation.append(f"alarm signals noted ({', '.join(ordered)}); already {outcome.urgency}")
    disposition = fit_disposition(outcome.disposition, urgency)
    also_nurse = outcome.also_send_nurse
    if context.concern_to_112 and URGENCIES.index(urgency) > URGENCIES.index("U1"):
        urgency, disposition, also_nurse = "U1", "call_112", True
        explanation.append("raised to U1 (112) by the operator's concern")
    advice = compose(outcome, complaint, urgency=urgency, disposition=disposition, also_send_nurse=also_nurse,
                     findings=findings, by_abcd=by_abcd, wishes=context.wishes)
    explanation.extend(advice.explanation)
    flags = ("senior_review",) if ("second_call_24h" in signals and URGENCIES.index(advice.urgency)
                                   <= URGENCIES.index(SENIOR_REVIEW_UP_TO)) else ()
    return _with_advice(outcome, advice, ordered, trace, tuple(explanation), flags, findings)


def _with_advice(outcome: Outcome, advice: Advice, signals: tuple[str, ...], trace: tuple[TraceStep, ...],
                 explanation: tuple[str, ...], flags: tuple[str, ...], findings: tuple[str, ...]) -> Result:
    return Result(outcome_id=outcome.id, base_urgency=outcome.urgency, urgency=advice.urgency,
                  disposition=advice.disposition, skills=outcome.skills, service_minutes=outcome.service_minutes,
                  advice=advice.text, also_send_nurse=advice.also_send_nurse, signals=signals, trace=trace,
                  explanation=explanation, message=advice.message, steps=advice.steps, safety_net=advice.safety_net,
                  follow_up=advice.follow_up, flags=flags, findings=findings, questions_asked=len(trace),
                  dont_know=sum(1 for t in trace if t.answer == "dont_know"))


def decide(protocol: Protocol, complaint_id: str, result: Result, *, urgency: str, disposition: str,
           context: Context | None = None) -> Result:
    """The result as the operator decided it: an override of urgency or disposition gets the advice that belongs
    to it (the outcome's own steps kept, the message and safety net of what is now done)."""
    if urgency == result.urgency and disposition == result.disposition:
        return result
    complaint = protocol.complaints[complaint_id]
    outcome = protocol.outcome(complaint, result.outcome_id)
    by_abcd = bool(result.trace) and result.trace[-1].abcd
    also = result.also_send_nurse and disposition in ("call_112", "gp_post")
    if disposition == "call_112" and URGENCIES.index(result.urgency) > URGENCIES.index("U1"):
        also = True  # raised to 112 by hand: the nurse goes as well, as with the operator's concern
    advice = compose(outcome, complaint, urgency=urgency, disposition=disposition, also_send_nurse=also,
                     findings=result.findings, by_abcd=by_abcd, wishes=(context or Context()).wishes, apply_dnh=False)
    explanation = (*result.explanation, f"decided by the operator: {urgency} {disposition}")
    return _with_advice(outcome, advice, result.signals, result.trace, explanation, result.flags, result.findings)


def unguided(protocol: Protocol, complaint_id: str, question: Question, *, urgency: str, disposition: str,
             signals: Iterable[str] = (), context: Context | None = None) -> Result:
    """The operator decides before the protocol reached an outcome (with a reason, kept by the service): the
    advice of the decided disposition, with the complaint's own first aid."""
    complaint = protocol.complaints[complaint_id]
    first_aid = tuple(s for s in complaint.first_aid if s.unresponsive or "unresponsive" not in question.findings)
    outcome = Outcome(id=OPERATOR_DECISION, urgency=urgency, disposition=disposition, service_minutes=30,
                      steps=first_aid, also_send_nurse=disposition == "call_112")
    advice = compose(outcome, complaint, urgency=urgency, disposition=disposition,
                     also_send_nurse=outcome.also_send_nurse, findings=question.findings, by_abcd=False,
                     wishes=(context or Context()).wishes, apply_dnh=False)
    explanation = (f"decided by the operator before the protocol's outcome ({question.remaining} question(s) "
                   f"skipped): {urgency} {disposition}",)
    ordered = tuple(s for s in SIGNALS if s in set(signals))
    return _with_advice(outcome, advice, ordered, question.trace, explanation, (), question.findings)
