"""Protocol validation names the faulty node; the engine refuses answers that do not fit."""
from __future__ import annotations

import copy

import pytest

from protocols import ProtocolError, load, parse
from protocols.engine import AnswerError, Question, walk

MINIMAL = {
    "protocol": "p", "version": 1,
    "outcomes": {"home": {"urgency": "U5", "disposition": "advice", "advice": "ok"}},
    "complaints": [{
        "id": "c", "title": "C", "start": "q1",
        "nodes": {
            "q1": {"question": "one?", "answers": [{"id": "yes", "next": "q2"}, {"id": "no", "outcome": "home"}]},
            "q2": {"question": "two?", "answers": [{"id": "yes", "outcome": "visit"}, {"id": "no", "outcome": "home"}]},
        },
        "outcomes": {"visit": {"urgency": "U3", "disposition": "nurse_visit", "skills": ["wound"]}},
    }],
}


def broken(change) -> dict:
    doc = copy.deepcopy(MINIMAL)
    change(doc)
    return doc


def test_minimal_document_loads_and_walks() -> None:
    protocol = load(MINIMAL)
    step = walk(protocol, "c", [("q1", "yes")])
    assert isinstance(step, Question) and step.node == "q2"
    assert walk(protocol, "c", [("q1", "yes"), ("q2", "yes")]).skills == ("wound",)


@pytest.mark.parametrize("change,message", [
    (lambda d: d["complaints"][0]["nodes"]["q1"]["answers"][0].update(next="q9"),
     "complaint 'c' node 'q1' answer 'yes': unknown next node 'q9'"),
    (lambda d: d["complaints"][0]["nodes"]["q2"]["answers"][0].update(outcome="nowhere"),
     "complaint 'c' node 'q2' answer 'yes': unknown outcome 'nowhere'"),
    (lambda d: d["complaints"][0]["nodes"].update(
        q3={"question": "lost?", "answers": [{"id": "x", "outcome": "home"}]}),
     "complaint 'c': node 'q3' cannot be reached from 'q1'"),
    (lambda d: d["complaints"][0]["nodes"]["q2"]["answers"][1].update(outcome=None, next="q1"),
     "complaint 'c': cycle q1 -> q2 -> q1"),
    (lambda d: d["complaints"][0]["nodes"]["q2"].update(answers=[]),
     "complaint 'c' node 'q2': a question needs at least one answer"),
    (lambda d: d["complaints"][0]["nodes"]["q2"]["answers"][1].pop("outcome"),
     "complaint 'c' node 'q2' answer 'no': leads nowhere (a path without an outcome)"),
    (lambda d: d["complaints"][0]["outcomes"]["visit"].update(urgency="U9"),
     "complaint 'c' outcome 'visit': urgency 'U9' is not one of U0, U1, U2, U3, U4, U5"),
    (lambda d: d["complaints"][0]["outcomes"]["visit"].update(disposition="advice"),
     "complaint 'c' outcome 'visit': disposition 'advice' does not fit urgency U3"),
    (lambda d: d["complaints"][0].update(start="q7"), "complaint 'c': start 'q7' is not one of its nodes"),
    (lambda d: d["complaints"][0]["nodes"]["q1"]["answers"][0].update(signal="bad_luck"),
     "complaint 'c' node 'q1' answer 'yes': unknown signal 'bad_luck'"),
    (lambda d: d["complaints"].append(copy.deepcopy(d["complaints"][0])), "complaint 'c': defined twice"),
    (lambda d: d.pop("version"), "protocol: missing 'version'"),
])
def test_validation_names_the_node(change, message: str) -> None:
    with pytest.raises(ProtocolError) as excinfo:
        load(broken(change))
    assert str(excinfo.value).startswith(message)


def test_parse_refuses_garbage() -> None:
    with pytest.raises(ProtocolError, match="not valid YAML"):
        parse("complaints: [unclosed")
    with pytest.raises(ProtocolError, match="must be a mapping"):
        parse("- just a list")


def test_answers_must_fit_the_question() -> None:
    protocol = load(MINIMAL)
    with pytest.raises(AnswerError, match="is for 'q2', but the question now is 'q1'") as wrong_node:
        walk(protocol, "c", [("q2", "yes")])
    assert wrong_node.value.index == 0
    with pytest.raises(AnswerError, match="'maybe' is not an answer to 'q1' \\(answers: yes, no\\)"):
        walk(protocol, "c", [("q1", "maybe")])
    with pytest.raises(AnswerError, match="after the outcome"):
        walk(protocol, "c", [("q1", "no"), ("q2", "yes")])
    with pytest.raises(KeyError):
        walk(protocol, "nope", [])
    with pytest.raises(ValueError, match="unknown alarm signal"):
        walk(protocol, "c", [], signals=["gut_feeling"])
