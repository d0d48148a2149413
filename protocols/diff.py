"""What changed between two protocol versions: sources, the ABCD graph, complaints, questions, answers and outcomes
(format 2 included: steps, safety nets, follow-ups, findings, first aid, risk flags). `protocols.diff_book` renders it.
"""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from protocols.model import Answer, Node, Outcome, Protocol


def _outcome_fields(o: Outcome) -> dict[str, Any]:
    d = asdict(o)
    d.pop("id")
    return d


def _answer_fields(a: Answer) -> dict[str, Any]:
    return asdict(a)


def _changed_outcomes(old: dict[str, Outcome], new: dict[str, Outcome]) -> list[dict[str, Any]]:
    """Outcomes added (from: None), removed (to: None) or changed, with the fields before and after."""
    changes = []
    for oid in sorted(set(old) | set(new)):
        before = _outcome_fields(old[oid]) if oid in old else None
        after = _outcome_fields(new[oid]) if oid in new else None
        if before != after:
            changes.append({"id": oid, "from": before, "to": after})
    return changes


def _node_change(a: Node, b: Node) -> dict[str, Any] | None:
    if a == b:
        return None
    old, new = {x.id: x for x in a.answers}, {x.id: x for x in b.answers}
    what = []
    if a.question != b.question:
        what.append({"field": "question", "from": a.question, "to": b.question})
    return {
        "id": a.id, "changes": what,
        "answers_added": [_answer_fields(new[i]) for i in new if i not in old],
        "answers_removed": [_answer_fields(old[i]) for i in old if i not in new],
        "answers_changed": [{"id": i, "from": _answer_fields(old[i]), "to": _answer_fields(new[i])}
                            for i in old if i in new and old[i] != new[i]],
        "order_changed": [i for i in old if i in new] != [i for i in new if i in old],
    }


def _graph(old: dict[str, Node], new: dict[str, Node]) -> dict[str, Any]:
    changed = [c for nid in old if nid in new if (c := _node_change(old[nid], new[nid]))]
    return {"nodes_added": [nid for nid in new if nid not in old],
            "nodes_removed": [nid for nid in old if nid not in new],
            "nodes_changed": changed}


def _before_after(a: Any, b: Any) -> dict[str, Any] | None:
    return None if a == b else {"from": a, "to": b}


def diff(old: Protocol, new: Protocol) -> dict[str, Any]:
    abcd = {"start": _before_after(old.abcd_start, new.abcd_start), **_graph(old.abcd, new.abcd)}
    result: dict[str, Any] = {
        "protocol": new.id, "from_version": old.version, "to_version": new.version,
        "title_changed": old.title != new.title, "note_changed": old.note != new.note,
        "title": _before_after(old.title, new.title), "note": _before_after(old.note, new.note),
        "sources_added": {k: v for k, v in new.sources.items() if k not in old.sources},
        "sources_removed": {k: v for k, v in old.sources.items() if k not in new.sources},
        "sources_changed": [{"id": k, "from": old.sources[k], "to": v} for k, v in new.sources.items()
                            if k in old.sources and old.sources[k] != v],
        "abcd_changed": old.abcd != new.abcd or old.abcd_start != new.abcd_start,
        "abcd": abcd,
        "complaints_added": [c for c in new.complaints if c not in old.complaints],
        "complaints_removed": [c for c in old.complaints if c not in new.complaints],
        "shared_outcomes_changed": _changed_outcomes(old.outcomes, new.outcomes),
        "complaints_changed": [],
    }
    for cid in [c for c in new.complaints if c in old.complaints]:
        a, b = old.complaints[cid], new.complaints[cid]
        entry = {
            "id": cid,
            "title_changed": a.title != b.title,
            "title": _before_after(a.title, b.title),
            "start_changed": a.start != b.start,
            "start": _before_after(a.start, b.start),
            "skip_abcd_changed": a.skip_abcd != b.skip_abcd,
            "first_aid": _before_after([asdict(s) for s in a.first_aid], [asdict(s) for s in b.first_aid]),
            "risks": _before_after(list(a.risks), list(b.risks)),
            **_graph(a.nodes, b.nodes),
            "outcomes_changed": _changed_outcomes(a.outcomes, b.outcomes),
        }
        if any(v for k, v in entry.items() if k != "id"):
            result["complaints_changed"].append(entry)
    return result
