"""The protocol document: loading and validation. A protocol is data; this module checks it is sound.

Document shape (YAML or JSON, one file per version)::

    protocol: nightcare-regional-night      # id
    version: 1
    title: ...
    note: ...                               # e.g. "starting point, to be reviewed by clinicians"
    abcd: [node, ...]                       # safety questions asked first, in order
    outcomes: {id: outcome}                 # shared outcomes
    complaints:
      - id: fall
        title: Fall
        skip_abcd: false                    # true where ABCD cannot be judged by phone
        start: node id
        nodes: {id: {question, answers: [{id, label, next | outcome, signal?}]}}
        outcomes: {id: outcome}

An outcome: {urgency: U0..U5, disposition, skills: [], service_minutes, advice, also_send_nurse}.
An answer leads to a next node (`next`) or an outcome (`outcome`); in the ABCD list, an answer with
neither continues with the next ABCD question, and after the last, with the complaint.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

URGENCIES = ("U0", "U1", "U2", "U3", "U4", "U5")
DISPOSITIONS = ("call_112", "gp_post", "nurse_visit", "defer_to_day", "advice")
# Which dispositions fit which urgency; the first is the default when a raise crosses a boundary.
DISPOSITIONS_FOR = {
    "U0": ("call_112",),
    "U1": ("call_112",),
    "U2": ("nurse_visit", "gp_post"),
    "U3": ("nurse_visit", "gp_post"),
    "U4": ("defer_to_day", "gp_post"),
    "U5": ("advice",),
}
# What the caller is told when the operator's decision lands on another disposition than the protocol's outcome
# (the outcome's own advice belongs to its own disposition, and must not contradict what is done).
DISPOSITION_ADVICE = {
    "call_112": "An ambulance is on its way (112). Stay with the client, keep the front door open and the lights "
                "on, and call 112 again if anything changes.",
    "gp_post": "The GP out-of-hours post (huisartsenpost) takes over and will call you back. If the client gets "
               "worse before they call (difficulty breathing, not responding, severe pain), call 112.",
    "nurse_visit": "A night nurse is coming to the client tonight. Call us back if anything changes before she "
                   "arrives; call 112 if the client has difficulty breathing or stops responding.",
    "defer_to_day": "No night visit is needed: the client's own home-care team will come in the morning. Call us "
                    "back at any time tonight if anything changes; call 112 if the client has difficulty breathing "
                    "or stops responding.",
    "advice": "Call us back at any time tonight if it does not get better or anything changes; call 112 if the "
              "client has difficulty breathing or stops responding.",
}
SIGNALS = ("second_call_24h", "severe_pain_or_anxiety", "rapid_deterioration", "operator_concern")


class ProtocolError(ValueError):
    """A protocol document is not sound; the message names the place."""


@dataclass(frozen=True)
class Outcome:
    id: str
    urgency: str
    disposition: str
    skills: tuple[str, ...] = ()
    service_minutes: int = 20
    advice: str = ""
    also_send_nurse: bool = False


@dataclass(frozen=True)
class Answer:
    id: str
    label: str
    next: str | None = None
    outcome: str | None = None
    signal: str | None = None


@dataclass(frozen=True)
class Node:
    id: str
    question: str
    answers: tuple[Answer, ...]

    def answer(self, answer_id: str) -> Answer | None:
        return next((a for a in self.answers if a.id == answer_id), None)


@dataclass(frozen=True)
class Complaint:
    id: str
    title: str
    start: str
    nodes: dict[str, Node]
    outcomes: dict[str, Outcome]
    skip_abcd: bool = False


@dataclass(frozen=True)
class Protocol:
    id: str
    version: int
    title: str
    note: str
    abcd: tuple[Node, ...]
    outcomes: dict[str, Outcome]
    complaints: dict[str, Complaint] = field(default_factory=dict)

    def outcome(self, complaint: Complaint, outcome_id: str) -> Outcome:
        return complaint.outcomes.get(outcome_id) or self.outcomes[outcome_id]


def _require(doc: dict, key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in doc:
        raise ProtocolError(f"{where}: missing '{key}'")
    value = doc[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise ProtocolError(f"{where}: '{key}' must be {getattr(kind, '__name__', kind)}")
    return value


def _outcome(oid: str, raw: Any, where: str) -> Outcome:
    where = f"{where} outcome '{oid}'"
    if not isinstance(raw, dict):
        raise ProtocolError(f"{where}: must be a mapping")
    urgency = _require(raw, "urgency", where, str)
    disposition = _require(raw, "disposition", where, str)
    if urgency not in URGENCIES:
        raise ProtocolError(f"{where}: urgency '{urgency}' is not one of {', '.join(URGENCIES)}")
    if disposition not in DISPOSITIONS_FOR[urgency]:
        raise ProtocolError(f"{where}: disposition '{disposition}' does not fit urgency {urgency} "
                            f"(allowed: {', '.join(DISPOSITIONS_FOR[urgency])})")
    skills = raw.get("skills", [])
    if not isinstance(skills, list) or not all(isinstance(s, str) for s in skills):
        raise ProtocolError(f"{where}: skills must be a list of names")
    minutes = raw.get("service_minutes", 20)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 480:
        raise ProtocolError(f"{where}: service_minutes must be a whole number from 1 to 480")
    also = raw.get("also_send_nurse", False)
    if also and urgency not in ("U0", "U1"):
        raise ProtocolError(f"{where}: also_send_nurse is only for 112 outcomes (U0/U1)")
    return Outcome(id=oid, urgency=urgency, disposition=disposition, skills=tuple(skills),
                   service_minutes=minutes, advice=str(raw.get("advice", "")).strip(), also_send_nurse=bool(also))


def _node(nid: str, raw: Any, where: str) -> Node:
    where = f"{where} node '{nid}'"
    if not isinstance(raw, dict):
        raise ProtocolError(f"{where}: must be a mapping")
    question = _require(raw, "question", where, str)
    answers_raw = raw.get("answers")
    if not isinstance(answers_raw, list) or not answers_raw:
        raise ProtocolError(f"{where}: a question needs at least one answer")
    answers = []
    for i, a in enumerate(answers_raw):
        if not isinstance(a, dict):
            raise ProtocolError(f"{where}: answer {i + 1} must be a mapping")
        aid = str(_require(a, "id", f"{where} answer {i + 1}", (str, int, bool))).lower()
        if a.get("next") and a.get("outcome"):
            raise ProtocolError(f"{where} answer '{aid}': give either next or outcome, not both")
        signal = a.get("signal")
        if signal is not None and signal not in SIGNALS:
            raise ProtocolError(f"{where} answer '{aid}': unknown signal '{signal}' (known: {', '.join(SIGNALS)})")
        answers.append(Answer(id=aid, label=str(a.get("label", aid)), next=a.get("next"), outcome=a.get("outcome"),
                              signal=signal))
    ids = [a.id for a in answers]
    if len(set(ids)) != len(ids):
        raise ProtocolError(f"{where}: answer ids must be distinct")
    return Node(id=nid, question=question.strip(), answers=tuple(answers))


def load(doc: Any) -> Protocol:
    """Build and validate a protocol from its document (parsed YAML/JSON)."""
    if not isinstance(doc, dict):
        raise ProtocolError("protocol: the document must be a mapping")
    pid = _require(doc, "protocol", "protocol", str)
    version = _require(doc, "version", "protocol", int)
    if version < 1:
        raise ProtocolError("protocol: version must be 1 or more")
    shared = {oid: _outcome(oid, raw, "protocol") for oid, raw in (doc.get("outcomes") or {}).items()}
    abcd = tuple(_node(str(n.get("id")) if isinstance(n, dict) else "?", n, "abcd") for n in doc.get("abcd") or [])
    complaints: dict[str, Complaint] = {}
    for raw in _require(doc, "complaints", "protocol", list):
        if not isinstance(raw, dict):
            raise ProtocolError("protocol: every complaint must be a mapping")
        cid = _require(raw, "id", "complaint", str)
        where = f"complaint '{cid}'"
        if cid in complaints:
            raise ProtocolError(f"{where}: defined twice")
        nodes = {nid: _node(nid, n, where) for nid, n in (_require(raw, "nodes", where, dict)).items()}
        outcomes = {oid: _outcome(oid, o, where) for oid, o in (raw.get("outcomes") or {}).items()}
        complaints[cid] = Complaint(id=cid, title=_require(raw, "title", where, str), start=_require(raw, "start", where, str),
                                    nodes=nodes, outcomes=outcomes, skip_abcd=bool(raw.get("skip_abcd", False)))
    protocol = Protocol(id=pid, version=version, title=str(doc.get("title", pid)), note=str(doc.get("note", "")).strip(),
                        abcd=abcd, outcomes=shared, complaints=complaints)
    _check_graph(protocol)
    return protocol


def _check_graph(protocol: Protocol) -> None:
    if not protocol.complaints:
        raise ProtocolError("protocol: no complaints")
    for node in protocol.abcd:
        for a in node.answers:
            if a.next:
                raise ProtocolError(f"abcd node '{node.id}' answer '{a.id}': ABCD answers continue or end in an "
                                    "outcome; they do not jump")
            if a.outcome and a.outcome not in protocol.outcomes:
                raise ProtocolError(f"abcd node '{node.id}' answer '{a.id}': unknown outcome '{a.outcome}'")
    for complaint in protocol.complaints.values():
        where = f"complaint '{complaint.id}'"
        if complaint.start not in complaint.nodes:
            raise ProtocolError(f"{where}: start '{complaint.start}' is not one of its nodes")
        for node in complaint.nodes.values():
            for a in node.answers:
                at = f"{where} node '{node.id}' answer '{a.id}'"
                if a.next is None and a.outcome is None:
                    raise ProtocolError(f"{at}: leads nowhere (a path without an outcome)")
                if a.next is not None and a.next not in complaint.nodes:
                    raise ProtocolError(f"{at}: unknown next node '{a.next}'")
                if a.outcome is not None and a.outcome not in complaint.outcomes and a.outcome not in protocol.outcomes:
                    raise ProtocolError(f"{at}: unknown outcome '{a.outcome}'")
        _check_acyclic_and_reachable(complaint, where)


def _check_acyclic_and_reachable(complaint: Complaint, where: str) -> None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(nid: str, path: list[str]) -> None:
        if state.get(nid) == 1:
            cycle = " -> ".join([*path[path.index(nid):], nid])
            raise ProtocolError(f"{where}: cycle {cycle}")
        if state.get(nid) == 2:
            return
        state[nid] = 1
        for a in complaint.nodes[nid].answers:
            if a.next:
                visit(a.next, [*path, nid])
        state[nid] = 2

    visit(complaint.start, [])
    unreachable = sorted(set(complaint.nodes) - set(state))
    if unreachable:
        raise ProtocolError(f"{where}: node '{unreachable[0]}' cannot be reached from '{complaint.start}'")
