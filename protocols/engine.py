"""Walk a protocol: from the answers so far to the next question or to the outcome, with the trace of why.

Pure: the caller supplies the protocol, the entry complaint, the answers in order and the alarm signals.
Going back is giving fewer answers.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from protocols.model import DISPOSITIONS_FOR, SIGNALS, URGENCIES, Complaint, Node, Outcome, Protocol

# Alarm signals raise urgency one step each, but never beyond U2: a signal makes a visit more urgent;
# sending an ambulance is decided by the clinical answers (ABCD and the key questions).
SIGNAL_CEILING = "U2"


class AnswerError(ValueError):
    """An answer does not fit the protocol at that point; `index` is its position in the answers."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class TraceStep:
    node: str
    question: str
    answer: str
    label: str
    signal: str | None = None


@dataclass(frozen=True)
class Question:
    node: str
    question: str
    answers: tuple[tuple[str, str], ...]  # (id, label)
    abcd: bool
    trace: tuple[TraceStep, ...]


@dataclass(frozen=True)
class Result:
    """The outcome of a walk: the protocol's outcome, then raised by alarm signals."""

    outcome_id: str
    base_urgency: str
    urgency: str
    disposition: str
    skills: tuple[str, ...]
    service_minutes: int
    advice: str
    also_send_nurse: bool
    signals: tuple[str, ...]
    trace: tuple[TraceStep, ...]
    explanation: tuple[str, ...] = field(default=())


def walk(protocol: Protocol, complaint_id: str, answers: Sequence[tuple[str, str]],
         signals: Iterable[str] = ()) -> Question | Result:
    """Follow `answers` ((node id, answer id) in order) from the start; return the next question or the result."""
    complaint = protocol.complaints.get(complaint_id)
    if complaint is None:
        raise KeyError(f"no entry complaint '{complaint_id}' in {protocol.id} v{protocol.version}")
    unknown = sorted(set(signals) - set(SIGNALS))
    if unknown:
        raise ValueError(f"unknown alarm signal '{unknown[0]}' (known: {', '.join(SIGNALS)})")
    active = set(signals)
    trace: list[TraceStep] = []
    path = _Path(protocol, complaint)
    node, is_abcd = path.first()
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
                               signal=answer.signal))
        if answer.signal:
            active.add(answer.signal)
        if answer.outcome:
            if index != len(answers) - 1:
                raise AnswerError(f"answer {index + 2} comes after the outcome was reached", index + 1)
            return _result(protocol.outcome(complaint, answer.outcome), active, tuple(trace))
        node, is_abcd = path.after(node, answer, is_abcd)
    assert node is not None
    return Question(node=node.id, question=node.question, answers=tuple((a.id, a.label) for a in node.answers),
                    abcd=is_abcd, trace=tuple(trace))


class _Path:
    def __init__(self, protocol: Protocol, complaint: Complaint) -> None:
        self.abcd = () if complaint.skip_abcd else protocol.abcd
        self.complaint = complaint

    def first(self) -> tuple[Node, bool]:
        if self.abcd:
            return self.abcd[0], True
        return self.complaint.nodes[self.complaint.start], False

    def after(self, node: Node, answer, is_abcd: bool) -> tuple[Node, bool]:  # noqa: ANN001
        if is_abcd:
            position = self.abcd.index(node)
            if position + 1 < len(self.abcd):
                return self.abcd[position + 1], True
            return self.complaint.nodes[self.complaint.start], False
        return self.complaint.nodes[answer.next], False


def raise_urgency(urgency: str, steps: int) -> str:
    if steps <= 0 or URGENCIES.index(urgency) <= URGENCIES.index(SIGNAL_CEILING):
        return urgency
    return URGENCIES[max(URGENCIES.index(SIGNAL_CEILING), URGENCIES.index(urgency) - steps)]


def fit_disposition(disposition: str, urgency: str) -> str:
    """Keep the disposition if it fits the urgency, else the urgency's default."""
    allowed = DISPOSITIONS_FOR[urgency]
    return disposition if disposition in allowed else allowed[0]


def _result(outcome: Outcome, signals: set[str], trace: tuple[TraceStep, ...]) -> Result:
    ordered = tuple(s for s in SIGNALS if s in signals)
    urgency = raise_urgency(outcome.urgency, len(ordered))
    disposition = fit_disposition(outcome.disposition, urgency)
    explanation = [f"protocol outcome '{outcome.id}': {outcome.urgency} {outcome.disposition}"]
    if urgency != outcome.urgency:
        explanation.append(f"raised to {urgency} by alarm signals: {', '.join(ordered)}")
    elif ordered:
        explanation.append(f"alarm signals ({', '.join(ordered)}) do not raise beyond {SIGNAL_CEILING}"
                           if URGENCIES.index(outcome.urgency) > URGENCIES.index(SIGNAL_CEILING)
                           else f"alarm signals noted ({', '.join(ordered)}); already {outcome.urgency}")
    if disposition != outcome.disposition:
        explanation.append(f"disposition {outcome.disposition} → {disposition} to fit {urgency}")
    return Result(outcome_id=outcome.id, base_urgency=outcome.urgency, urgency=urgency, disposition=disposition,
                  skills=outcome.skills, service_minutes=outcome.service_minutes, advice=outcome.advice,
                  also_send_nurse=outcome.also_send_nurse, signals=ordered, trace=trace,
                  explanation=tuple(explanation))
