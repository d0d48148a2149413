"""What changed between two protocol versions: complaints, questions, answers and outcomes."""
from __future__ import annotations

from dataclasses import asdict
from typing import Any

from protocols.model import Outcome, Protocol


def _outcome_fields(o: Outcome) -> dict[str, Any]:
    d = asdict(o)
    d.pop("id")
    return d


def _changed_outcomes(old: dict[str, Outcome], new: dict[str, Outcome]) -> list[dict[str, Any]]:
    changes = []
    for oid in sorted(set(old) | set(new)):
        before = _outcome_fields(old[oid]) if oid in old else None
        after = _outcome_fields(new[oid]) if oid in new else None
        if before != after:
            changes.append({"id": oid, "from": before, "to": after})
    return changes


def diff(old: Protocol, new: Protocol) -> dict[str, Any]:
    result: dict[str, Any] = {
        "protocol": new.id, "from_version": old.version, "to_version": new.version,
        "title_changed": old.title != new.title, "note_changed": old.note != new.note,
        "abcd_changed": old.abcd != new.abcd,
        "complaints_added": sorted(set(new.complaints) - set(old.complaints)),
        "complaints_removed": sorted(set(old.complaints) - set(new.complaints)),
        "shared_outcomes_changed": _changed_outcomes(old.outcomes, new.outcomes),
        "complaints_changed": [],
    }
    for cid in sorted(set(old.complaints) & set(new.complaints)):
        a, b = old.complaints[cid], new.complaints[cid]
        nodes_changed = []
        for nid in sorted(set(a.nodes) & set(b.nodes)):
            na, nb = a.nodes[nid], b.nodes[nid]
            if na != nb:
                what = []
                if na.question != nb.question:
                    what.append({"field": "question", "from": na.question, "to": nb.question})
                if na.answers != nb.answers:
                    what.append({"field": "answers", "from": [asdict(x) for x in na.answers],
                                 "to": [asdict(x) for x in nb.answers]})
                nodes_changed.append({"id": nid, "changes": what})
        entry = {
            "id": cid,
            "title_changed": a.title != b.title,
            "start_changed": a.start != b.start,
            "skip_abcd_changed": a.skip_abcd != b.skip_abcd,
            "nodes_added": sorted(set(b.nodes) - set(a.nodes)),
            "nodes_removed": sorted(set(a.nodes) - set(b.nodes)),
            "nodes_changed": nodes_changed,
            "outcomes_changed": _changed_outcomes(a.outcomes, b.outcomes),
        }
        if any(v for k, v in entry.items() if k != "id"):
            result["complaints_changed"].append(entry)
    return result
