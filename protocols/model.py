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

Format 2 (version 2 on; docs/protocol-format.md): `sources`, the ABCD as a graph (`{start, nodes}`, answers
`continue: true` to the complaint), answers with `source`, `finding` and `dont_know`, outcomes with `steps`,
`safety_net`, `follow_up` and `despite_dnh`, complaints with `first_aid` and `risks`. From version 2 on the
loader also requires what makes an outcome safe to read out: a source for every red flag, steps for every
U0/U1 outcome and a safety net for every outcome without a visit tonight.
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
SIGNALS = ("second_call_24h", "severe_pain_or_anxiety", "rapid_deterioration", "operator_concern", "known_high_risk")
# What a client's record may hold that takes part in the walk (docs/protocol-format.md, "Vocabulary").
RISK_FLAGS = ("anticoagulated", "chemotherapy", "immunocompromised", "diabetes_insulin", "lives_alone", "palliative",
              "heart_failure", "copd", "epilepsy", "dementia", "falls_risk")
WISHES = ("do_not_hospitalise", "do_not_resuscitate")
FINDINGS = ("unresponsive", "not_breathing_normally", "breathing")
FOLLOW_UPS = ("day_task", "gp_notification")
DONT_KNOW = "dont_know"
NO_VISIT_TONIGHT = ("advice", "defer_to_day", "gp_post")


class ProtocolError(ValueError):
    """A protocol document is not sound; the message names the place."""


@dataclass(frozen=True)
class Step:
    """One instruction read to the caller before help arrives."""

    text: str
    cpr: bool = False  # a resuscitation step: left out (replaced) when the client has a do-not-resuscitate wish
    unresponsive: bool = False  # a complaint's first aid that also holds when she does not respond


@dataclass(frozen=True)
class Outcome:
    id: str
    urgency: str
    disposition: str
    skills: tuple[str, ...] = ()
    service_minutes: int = 20
    advice: str = ""
    also_send_nurse: bool = False
    steps: tuple[Step, ...] = ()
    safety_net: str = ""
    follow_up: tuple[str, ...] = ()
    despite_dnh: bool = False


@dataclass(frozen=True)
class Answer:
    id: str
    label: str
    next: str | None = None
    outcome: str | None = None
    signal: str | None = None
    cont: bool = False  # ABCD only: on to the complaint's questions
    source: tuple[str, ...] = ()
    finding: str | None = None


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
    first_aid: tuple[Step, ...] = ()
    risks: tuple[str, ...] = ()  # the client risk flags that raise its urgency (known_high_risk)

    def raised_by(self, risks: frozenset[str] | set[str]) -> tuple[str, ...]:
        return tuple(r for r in self.risks if r in risks)


@dataclass(frozen=True)
class Protocol:
    id: str
    version: int
    title: str
    note: str
    abcd: dict[str, Node]  # the ABCD graph (a version 1 list becomes a chain)
    outcomes: dict[str, Outcome]
    complaints: dict[str, Complaint] = field(default_factory=dict)
    abcd_start: str | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def outcome(self, complaint: Complaint, outcome_id: str) -> Outcome:
        return complaint.outcomes.get(outcome_id) or self.outcomes[outcome_id]


def _require(doc: dict[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in doc:
        raise ProtocolError(f"{where}: missing '{key}'")
    value = doc[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise ProtocolError(f"{where}: '{key}' must be {getattr(kind, '__name__', kind)}")
    return value


def _steps(raw: Any, where: str) -> tuple[Step, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ProtocolError(f"{where}: must be a list of instructions")
    steps = []
    for i, given in enumerate(raw):
        at = f"{where} {i + 1}"
        item = {"text": given} if isinstance(given, str) else given
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
            raise ProtocolError(f"{at}: an instruction needs its text")
        unknown = sorted(set(item) - {"text", "cpr", "unresponsive"})
        if unknown:
            raise ProtocolError(f"{at}: unknown field '{unknown[0]}'")
        steps.append(Step(text=" ".join(item["text"].split()), cpr=bool(item.get("cpr", False)),
                          unresponsive=bool(item.get("unresponsive", False))))
    return tuple(steps)


def _names(raw: Any, where: str, known: tuple[str, ...] | None = None) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise ProtocolError(f"{where}: must be a list of names")
    if known is not None:
        for x in raw:
            if x not in known:
                raise ProtocolError(f"{where}: unknown '{x}' (known: {', '.join(known)})")
    return tuple(raw)


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
    if also and disposition not in ("call_112", "gp_post"):
        raise ProtocolError(f"{where}: also_send_nurse is only for 112 and GP-post outcomes")
    return Outcome(id=oid, urgency=urgency, disposition=disposition, skills=tuple(skills),
                   service_minutes=minutes, advice=" ".join(str(raw.get("advice", "")).split()),
                   also_send_nurse=bool(also), steps=_steps(raw.get("steps"), f"{where} step"),
                   safety_net=" ".join(str(raw.get("safety_net") or "").split()),
                   follow_up=_names(raw.get("follow_up"), f"{where} follow_up", FOLLOW_UPS),
                   despite_dnh=bool(raw.get("despite_dnh", False)))


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
        at = f"{where} answer '{aid}'"
        if sum(bool(a.get(k)) for k in ("next", "outcome", "continue")) > 1:
            raise ProtocolError(f"{at}: give one of next, outcome or continue")
        signal = a.get("signal")
        if signal is not None and signal not in SIGNALS:
            raise ProtocolError(f"{at}: unknown signal '{signal}' (known: {', '.join(SIGNALS)})")
        finding = a.get("finding")
        if finding is not None and finding not in FINDINGS:
            raise ProtocolError(f"{at}: unknown finding '{finding}' (known: {', '.join(FINDINGS)})")
        answers.append(Answer(id=aid, label=str(a.get("label", aid)), next=a.get("next"), outcome=a.get("outcome"),
                              signal=signal, cont=bool(a.get("continue", False)),
                              source=_names(a.get("source"), f"{at} source"), finding=finding))
    ids = [a.id for a in answers]
    if len(set(ids)) != len(ids):
        raise ProtocolError(f"{where}: answer ids must be distinct")
    return Node(id=nid, question=" ".join(question.split()), answers=tuple(answers))


def _abcd(raw: Any) -> tuple[dict[str, Node], str | None]:
    """The ABCD graph. Version 1's list becomes a chain: an answer with neither next nor outcome goes on to the
    next question, after the last to the complaint."""
    if raw is None or raw == []:
        return {}, None
    if isinstance(raw, dict):
        start = _require(raw, "start", "abcd", str)
        nodes = {nid: _node(nid, n, "abcd") for nid, n in _require(raw, "nodes", "abcd", dict).items()}
        return nodes, start
    if not isinstance(raw, list):
        raise ProtocolError("abcd: must be a list of questions or a graph {start, nodes}")
    chain = [_node(str(n.get("id")) if isinstance(n, dict) else "?", n, "abcd") for n in raw]
    nodes = {}
    for i, node in enumerate(chain):
        for a in node.answers:
            if a.next:
                raise ProtocolError(f"abcd node '{node.id}' answer '{a.id}': ABCD answers continue or end in an "
                                    "outcome; they do not jump")
        after = chain[i + 1].id if i + 1 < len(chain) else None
        answers = tuple(a if a.outcome else Answer(**{**a.__dict__, "next": after, "cont": after is None})
                        for a in node.answers)
        nodes[node.id] = Node(id=node.id, question=node.question, answers=answers)
    return nodes, chain[0].id


def load(doc: Any) -> Protocol:
    """Build and validate a protocol from its document (parsed YAML/JSON)."""
    if not isinstance(doc, dict):
        raise ProtocolError("protocol: the document must be a mapping")
    pid = _require(doc, "protocol", "protocol", str)
    version = _require(doc, "version", "protocol", int)
    if version < 1:
        raise ProtocolError("protocol: version must be 1 or more")
    sources = doc.get("sources") or {}
    if not isinstance(sources, dict) or not all(isinstance(v, str) and v.strip() for v in sources.values()):
        raise ProtocolError("protocol: sources must map an id to its citation")
    shared = {oid: _outcome(oid, raw, "protocol") for oid, raw in (doc.get("outcomes") or {}).items()}
    abcd, abcd_start = _abcd(doc.get("abcd"))
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
        risks = _names(raw.get("risks"), f"{where} risks", RISK_FLAGS)
        complaints[cid] = Complaint(id=cid, title=_require(raw, "title", where, str),
                                    start=_require(raw, "start", where, str),
                                    nodes=nodes, outcomes=outcomes, skip_abcd=bool(raw.get("skip_abcd", False)),
                                    first_aid=_steps(raw.get("first_aid"), f"{where} first_aid"), risks=risks)
    protocol = Protocol(id=pid, version=version, title=str(doc.get("title", pid)),
                        note=str(doc.get("note", "")).strip(),
                        abcd=abcd, outcomes=shared, complaints=complaints, abcd_start=abcd_start,
                        sources={str(k): " ".join(v.split()) for k, v in sources.items()})
    _check_graph(protocol)
    if version >= 2:
        _check_safe_to_read(protocol)
    return protocol


def _check_answers(protocol: Protocol, nodes: dict[str, Node], outcomes: dict[str, Outcome], where: str,
                   *, abcd: bool) -> None:
    for node in nodes.values():
        for a in node.answers:
            at = f"{where} node '{node.id}' answer '{a.id}'"
            if a.cont and not abcd:
                raise ProtocolError(f"{at}: continue is for ABCD questions; a complaint's answer leads to a question "
                                    "or an outcome")
            if a.next is None and a.outcome is None and not a.cont:
                raise ProtocolError(f"{at}: leads nowhere (a path without an outcome)")
            if a.next is not None and a.next not in nodes:
                raise ProtocolError(f"{at}: unknown next node '{a.next}'")
            if a.outcome is not None and a.outcome not in outcomes and a.outcome not in protocol.outcomes:
                raise ProtocolError(f"{at}: unknown outcome '{a.outcome}'")
            for source in a.source:
                if source not in protocol.sources:
                    raise ProtocolError(f"{at}: unknown source '{source}'")


def _check_graph(protocol: Protocol) -> None:
    if not protocol.complaints:
        raise ProtocolError("protocol: no complaints")
    if protocol.abcd:
        if protocol.abcd_start not in protocol.abcd:
            raise ProtocolError(f"abcd: start '{protocol.abcd_start}' is not one of its nodes")
        _check_answers(protocol, protocol.abcd, {}, "abcd", abcd=True)
        _check_acyclic_and_reachable(protocol.abcd, protocol.abcd_start, "abcd")
    for complaint in protocol.complaints.values():
        where = f"complaint '{complaint.id}'"
        if complaint.start not in complaint.nodes:
            raise ProtocolError(f"{where}: start '{complaint.start}' is not one of its nodes")
        _check_answers(protocol, complaint.nodes, complaint.outcomes, where, abcd=False)
        _check_acyclic_and_reachable(complaint.nodes, complaint.start, where)


def _check_safe_to_read(protocol: Protocol) -> None:
    """Version 2 on: a red flag names its source, a 112 outcome has steps, no visit tonight has a safety net."""
    no_outcomes: dict[str, Outcome] = {}
    graphs = [("abcd", protocol.abcd, no_outcomes)] + [(f"complaint '{c.id}'", c.nodes, c.outcomes)
                                              for c in protocol.complaints.values()]
    for where, nodes, outcomes in graphs:
        for node in nodes.values():
            for a in node.answers:
                if a.outcome is None:
                    continue
                outcome = outcomes.get(a.outcome) or protocol.outcomes[a.outcome]
                if URGENCIES.index(outcome.urgency) <= URGENCIES.index("U2") and not a.source:
                    raise ProtocolError(f"{where} node '{node.id}' answer '{a.id}': leads to {outcome.urgency} "
                                        "and must name the source its red flag rests on")
    every = [("protocol", o) for o in protocol.outcomes.values()] + [
        (f"complaint '{c.id}'", o) for c in protocol.complaints.values() for o in c.outcomes.values()]
    for where, o in every:
        if o.urgency in ("U0", "U1") and not o.steps:
            raise ProtocolError(f"{where} outcome '{o.id}': a {o.urgency} outcome needs pre-arrival steps")
        if o.disposition in NO_VISIT_TONIGHT and not o.safety_net:
            raise ProtocolError(f"{where} outcome '{o.id}': an outcome without a visit tonight needs a safety net")


def _check_acyclic_and_reachable(nodes: dict[str, Node], start: str, where: str) -> None:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(nid: str, path: list[str]) -> None:
        if state.get(nid) == 1:
            cycle = " -> ".join([*path[path.index(nid):], nid])
            raise ProtocolError(f"{where}: cycle {cycle}")
        if state.get(nid) == 2:
            return
        state[nid] = 1
        for a in nodes[nid].answers:
            if a.next:
                visit(a.next, [*path, nid])
        state[nid] = 2

    visit(start, [])
    unreachable = sorted(set(nodes) - set(state))
    if unreachable:
        raise ProtocolError(f"{where}: node '{unreachable[0]}' cannot be reached from '{start}'")
