"""The difference between two protocol versions as a readable, printable HTML document (the book's form).

Added complaints, questions and outcomes are shown whole; removed ones are named with what they were; changed ones
field by field, before and after. Pure, like `protocols.book`.
"""
from __future__ import annotations

from typing import Any

from protocols.book import (
    DISPOSITION_MEANING,
    FINDING_MEANING,
    FOLLOW_UP_MEANING,
    Book,
    anchor,
    e,
    governance_html,
    header_html,
    outcome_html,
    page,
)
from protocols.diff import diff
from protocols.model import Complaint, Node, Protocol

OUTCOME_FIELDS = (("urgency", "Urgency"), ("disposition", "Disposition"), ("also_send_nurse", "Also send a nurse"),
                  ("skills", "Skills"), ("service_minutes", "Service minutes"),
                  ("despite_dnh", "Do-not-hospitalise exception"), ("advice", "Advice read to the caller"),
                  ("steps", "Steps until help arrives"), ("safety_net", "Safety net"), ("follow_up", "Follow-up"))
ANSWER_FIELDS = (("label", "Label"), ("leads", "Leads to"), ("signal", "Signal"), ("finding", "Finding"),
                 ("source", "Sources"))


def _value(key: str, value: Any) -> str:
    """One field's value, readable (HTML, escaped)."""
    if value is None or value == "" or value == [] or value == ():
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key in ("steps", "first_aid"):
        items = "".join(f"<li>{e(s['text'])}" + (" <span class=\"cpr\">[CPR step]</span>" if s.get("cpr") else "")
                        + (" <span class=\"ref\">[also when she does not respond]</span>"
                           if s.get("unresponsive") else "") + "</li>" for s in value)
        return f"<ol>{items}</ol>"
    if key == "disposition":
        return f"{e(DISPOSITION_MEANING.get(value, value))} <span class=\"ref\">({e(value)})</span>"
    if key == "follow_up":
        return ", ".join(e(FOLLOW_UP_MEANING.get(v, v)) for v in value)
    if key == "finding":
        return e(FINDING_MEANING.get(value, value))
    if isinstance(value, list | tuple):
        return ", ".join(e(v) for v in value)
    return e(value)


def _table(rows: list[tuple[str, str, str]], old: int, new: int) -> str:
    body = "".join(f"<tr><th scope=\"row\">{e(label)}</th><td><del>{before}</del></td><td><ins>{after}</ins></td></tr>"
                   for label, before, after in rows)
    return ("<table class=\"change\"><thead><tr><th scope=\"col\">Field</th>"
            f"<th scope=\"col\">Before (v{e(old)})</th><th scope=\"col\">After (v{e(new)})</th></tr></thead>"
            f"<tbody>{body}</tbody></table>")


def _answer_view(a: dict[str, Any]) -> dict[str, Any]:
    leads = (f"question {a['next']}" if a.get("next") else f"outcome {a['outcome']}" if a.get("outcome")
             else "the complaint's own questions" if a.get("cont") else None)
    return {"label": a.get("label"), "leads": leads, "signal": a.get("signal"), "finding": a.get("finding"),
            "source": list(a.get("source") or ())}


class DiffBook:
    def __init__(self, old: Protocol, new: Protocol) -> None:
        self.old, self.new = old, new
        self.old_book, self.new_book = Book(old), Book(new)
        self.d = diff(old, new)

    def table(self, rows: list[tuple[str, str, str]]) -> str:
        return _table(rows, self.old.version, self.new.version)

    def outcome_changes(self, changes: list[dict[str, Any]], where: str, complaint: Complaint | None) -> str:
        parts = []
        for ch in changes:
            oid = ch["id"]
            if ch["from"] is None:
                o = (complaint.outcomes.get(oid) if complaint else None) or self.new.outcomes[oid]
                parts.append(f"<div class=\"added\"><p><strong>Added outcome</strong> <span class=\"ref\">{e(oid)}"
                             f"</span></p>{outcome_html(o, anchor('new', where))}</div>")
            elif ch["to"] is None:
                before = ch["from"]
                parts.append(f"<p class=\"removed\"><strong>Removed outcome</strong> <span class=\"ref\">{e(oid)}"
                             f"</span> (was {e(before['urgency'])}, "
                             f"{e(DISPOSITION_MEANING.get(before['disposition'], before['disposition']))})</p>")
            else:
                rows = [(label, _value(k, ch["from"].get(k)), _value(k, ch["to"].get(k)))
                        for k, label in OUTCOME_FIELDS if ch["from"].get(k) != ch["to"].get(k)]
                parts.append(f"<article class=\"changed\"><h4>Changed outcome <span class=\"ref\">{e(oid)}</span></h4>"
                             f"{self.table(rows)}</article>")
        return "".join(parts)

    def graph_changes(self, g: dict[str, Any], graph: str, old_nodes: dict[str, Node],
                      new_nodes: dict[str, Node],
                      complaint_new: Complaint | None, complaint_old: Complaint | None) -> str:
        parts = []
        for nid in g["nodes_added"]:
            parts.append("<div class=\"added\"><p><strong>Added question</strong></p>"
                         + self.new_book.node_html(new_nodes[nid], graph, complaint_new, new_nodes) + "</div>")
        for nid in g["nodes_removed"]:
            parts.append(f"<p class=\"removed\"><strong>Removed question</strong> <span class=\"ref\">({e(nid)})"
                         f"</span>: <del>{e(old_nodes[nid].question)}</del></p>")
        for ch in g["nodes_changed"]:
            nid = ch["id"]
            rows = [("Question", e(c["from"]), e(c["to"])) for c in ch["changes"] if c["field"] == "question"]
            for a in ch["answers_added"]:
                rows.append((f"Answer added: {a['label']}", "—", self._answer(a)))
            for a in ch["answers_removed"]:
                rows.append((f"Answer removed: {a['label']}", self._answer(a), "—"))
            for a in ch["answers_changed"]:
                before, after = _answer_view(a["from"]), _answer_view(a["to"])
                for k, label in ANSWER_FIELDS:
                    if before[k] != after[k]:
                        rows.append((f"Answer “{a['to']['label']}” ({a['id']}): {label.lower()}",
                                     _value(k, before[k]), _value(k, after[k])))
            if ch["order_changed"]:
                rows.append(("Order of the answers", ", ".join(e(a.id) for a in old_nodes[nid].answers),
                             ", ".join(e(a.id) for a in new_nodes[nid].answers)))
            parts.append(f"<article class=\"changed\"><h4>Changed question: {e(new_nodes[nid].question)} "
                         f"<span class=\"ref\">({e(nid)})</span></h4>{self.table(rows)}</article>")
        return "".join(parts)

    @staticmethod
    def _answer(a: dict[str, Any]) -> str:
        view = _answer_view(a)
        return "; ".join(f"{e(label.lower())}: {_value(k, view[k])}" for k, label in ANSWER_FIELDS if view[k])

    def complaint_changes(self, ch: dict[str, Any]) -> str:
        a, b = self.old.complaints[ch["id"]], self.new.complaints[ch["id"]]
        rows = []
        if ch["title"]:
            rows.append(("Title", e(a.title), e(b.title)))
        if ch["start"]:
            rows.append(("First question", e(a.nodes[a.start].question), e(b.nodes[b.start].question)))
        if ch["skip_abcd_changed"]:
            rows.append(("ABCD first", "no" if a.skip_abcd else "yes", "no" if b.skip_abcd else "yes"))
        if ch["first_aid"]:
            rows.append(("First aid", _value("first_aid", ch["first_aid"]["from"]),
                         _value("first_aid", ch["first_aid"]["to"])))
        if ch["risks"]:
            rows.append(("Risk flags that raise it", _value("risks", ch["risks"]["from"]),
                         _value("risks", ch["risks"]["to"])))
        where = anchor("c", b.id)
        return (f"<section class=\"complaint-changed\" id=\"{e(anchor('changed', b.id))}\"><h3>{e(b.title)} "
                f"<span class=\"ref\">({e(b.id)})</span></h3>{self.table(rows) if rows else ''}"
                f"{self.graph_changes(ch, b.id, a.nodes, b.nodes, b, a)}"
                f"{self.outcome_changes(ch['outcomes_changed'], where, b)}</section>")

    def summary(self) -> str:
        d = self.d
        items = [f"{len(d['complaints_added'])} entry complaints added", f"{len(d['complaints_removed'])} removed",
                 f"{len(d['complaints_changed'])} changed",
                 f"{len(d['shared_outcomes_changed'])} shared outcomes added, removed or changed",
                 "the ABCD questions changed" if d["abcd_changed"] else "the ABCD questions unchanged",
                 f"{len(d['sources_added'])} sources added, {len(d['sources_removed'])} removed"]
        return "<section id=\"summary\"><h2>In short</h2><ul>" + "".join(f"<li>{e(i)}</li>" for i in items) \
            + "</ul></section>"

    def render(self, governance: dict[str, Any] | None) -> str:
        d, old, new = self.d, self.old, self.new
        heading = f"{new.title}: changes from version {old.version} to version {new.version}"
        body = [header_html(new, heading=heading), governance_html(governance), self.summary(), "<main>"]
        rows = []
        if d["title"]:
            rows.append(("Title", e(old.title), e(new.title)))
        if d["note"]:
            rows.append(("Note", e(old.note), e(new.note)))
        for k, v in d["sources_added"].items():
            rows.append((f"Source {k}", "—", e(v)))
        for k, v in d["sources_removed"].items():
            rows.append((f"Source {k}", e(v), "—"))
        for s in d["sources_changed"]:
            rows.append((f"Source {s['id']}", e(s["from"]), e(s["to"])))
        if rows:
            body.append(f"<section id=\"about\"><h2>The protocol as a whole</h2>{self.table(rows)}</section>")
        if d["abcd_changed"]:
            start = d["abcd"]["start"]
            first = (self.table([("First question", e(old.abcd[start["from"]].question) if start["from"] else "none",
                                  e(new.abcd[start["to"]].question) if start["to"] else "none")]) if start else "")
            body.append("<section id=\"abcd\"><h2>ABCD: safety questions</h2>" + first
                        + self.graph_changes(d["abcd"], "abcd", old.abcd, new.abcd, None, None) + "</section>")
        if d["shared_outcomes_changed"]:
            body.append("<section id=\"shared\"><h2>Shared outcomes</h2>"
                        + self.outcome_changes(d["shared_outcomes_changed"], "shared", None) + "</section>")
        if d["complaints_added"]:
            body.append("<section id=\"added\"><h2>Entry complaints added</h2><ul>"
                        + "".join(f"<li><a href=\"#{e(anchor('c', c))}\">{e(new.complaints[c].title)}</a></li>"
                                  for c in d["complaints_added"]) + "</ul>"
                        + "".join(self.new_book.complaint_html(new.complaints[c], level=3)
                                  for c in d["complaints_added"]) + "</section>")
        if d["complaints_removed"]:
            body.append("<section id=\"removed\"><h2>Entry complaints removed</h2><ul>"
                        + "".join(f"<li><del>{e(old.complaints[c].title)}</del> <span class=\"ref\">({e(c)})</span>"
                                  "</li>" for c in d["complaints_removed"]) + "</ul></section>")
        if d["complaints_changed"]:
            body.append("<section id=\"changed\"><h2>Entry complaints changed</h2>"
                        + "".join(self.complaint_changes(ch) for ch in d["complaints_changed"]) + "</section>")
        if not any((rows, d["abcd_changed"], d["shared_outcomes_changed"], d["complaints_added"],
                    d["complaints_removed"], d["complaints_changed"])):
            body.append("<p>No differences.</p>")
        body.append("</main>")
        return page(heading, body)


def render_diff(old: Protocol, new: Protocol, *, governance: dict[str, Any] | None = None) -> str:
    """What changed from `old` to `new`, for reviewers; `governance` is the newer version's, when known."""
    return DiffBook(old, new).render(governance)
