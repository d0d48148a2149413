"""The protocol book: a protocol version as one readable, printable HTML document — what reviewers sign.

Pure: a `Protocol` (and, when known, its governance record) in, a complete HTML page out. Semantic HTML with an
inline print stylesheet and nothing loaded from elsewhere; every text from the document is escaped. The
difference between two versions is rendered in the same form by `protocols.diff_book`.
"""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from html import escape
from typing import Any

from protocols.model import Answer, Complaint, Node, Outcome, Protocol, Step

URGENCY_MEANING = {
    "U0": "call 112 now (life-threatening)",
    "U1": "call 112 now",
    "U2": "visit as soon as possible (the region's U2 target)",
    "U3": "visit tonight (the region's U3 target)",
    "U4": "not tonight: the client's own team in the day",
    "U5": "advice by phone",
}
DISPOSITION_MEANING = {
    "call_112": "call 112",
    "gp_post": "GP out-of-hours post",
    "nurse_visit": "night nurse visit",
    "defer_to_day": "the client's own day team",
    "advice": "advice by phone",
}
FOLLOW_UP_MEANING = {"day_task": "a task for the client's own day team",
                     "gp_notification": "a recorded notification to the GP post"}
FINDING_MEANING = {"unresponsive": "unresponsive", "not_breathing_normally": "not breathing normally",
                   "breathing": "breathing normally"}

STYLE = """
body{font-family:Georgia,'Times New Roman',serif;line-height:1.45;max-width:60rem;margin:1rem auto;padding:0 1rem;
color:#111}
h1,h2,h3,h4{font-family:Helvetica,Arial,sans-serif;line-height:1.2}
h2{border-bottom:2px solid #333;padding-bottom:.2rem;margin-top:2.5rem}
h4{margin:1.2rem 0 .4rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem;font-size:.95rem}
th,td{border:1px solid #999;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#eee}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.4rem 0 1rem}
dl.fields dt{font-weight:bold}
dl.fields dd{margin:0}
.ref{font-family:'Courier New',monospace;font-size:.85em;color:#444}
.note{border-left:4px solid #b60;padding:.3rem .8rem;background:#fff7ec}
.governance{border:2px solid #333;padding:.2rem 1rem}
.unsigned{color:#a00;font-weight:bold}
.cpr{font-weight:bold;color:#a00}
.urgency{font-weight:bold}
article{break-inside:avoid-page}
del{background:#fdd}
ins{background:#dfd;text-decoration:none}
@media print{
body{max-width:none;margin:0;font-size:10.5pt}
nav.contents{break-after:page}
section.complaint{break-before:page}
a{color:inherit;text-decoration:none}
table,dl.fields,article{break-inside:avoid}
th{background:#eee;-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""
# What a book's answer may load: its own inline stylesheet and nothing else.
# The stylesheet's CSP source; the service's own pages allow it too, since a book fetched with the login and opened
# as a blob: page keeps the policy of the page that opened it (dispatch/concurrency.py SecurityHeaders).
STYLE_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode() + "'"
CSP = f"default-src 'none'; style-src {STYLE_HASH}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


def e(value: Any) -> str:
    return escape(str(value), quote=True)


def anchor(*parts: str) -> str:
    """A fragment id made of protocol ids (escaped where it is written)."""
    return "-".join(parts)


def page(title: str, body: Iterable[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n" + "\n".join(body)
            + "\n</body>\n</html>\n")


def fields(rows: Iterable[tuple[str, str]]) -> str:
    """A definition list; the values are HTML already."""
    return "<dl class=\"fields\">" + "".join(f"<dt>{e(k)}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def steps_html(steps: tuple[Step, ...]) -> str:
    if not steps:
        return "none"
    items = []
    for s in steps:
        marks = ([" <span class=\"cpr\">[CPR step: left out when the client has a do-not-resuscitate wish]</span>"]
                 if s.cpr else []) + (["  <span class=\"ref\">[also when she does not respond]</span>"]
                                      if s.unresponsive else [])
        items.append(f"<li>{e(s.text)}{''.join(marks)}</li>")
    return "<ol class=\"steps\">" + "".join(items) + "</ol>"


def names_html(names: Iterable[str], meaning: dict[str, str] | None = None) -> str:
    names = list(names)
    if not names:
        return "none"
    return ", ".join(e(meaning.get(n, n)) if meaning else e(n) for n in names)


def outcome_rows(o: Outcome) -> list[tuple[str, str]]:
    return [
        ("Urgency", f"<span class=\"urgency\">{e(o.urgency)}</span>: {e(URGENCY_MEANING[o.urgency])}"),
        ("Disposition", f"{e(DISPOSITION_MEANING[o.disposition])} <span class=\"ref\">({e(o.disposition)})</span>"),
        ("Also send a nurse", "yes" if o.also_send_nurse else "no"),
        ("Skills", names_html(o.skills)),
        ("Service minutes", e(o.service_minutes)),
        ("Do-not-hospitalise exception",
         "stays 112 even with a do-not-hospitalise wish" if o.despite_dnh else
         ("no: with a do-not-hospitalise wish, GP post and a nurse instead" if o.disposition == "call_112" else "no")),
        ("Advice read to the caller", e(o.advice) if o.advice else "none"),
        ("Steps until help arrives", steps_html(o.steps)),
        ("Safety net", e(o.safety_net) if o.safety_net else "none"),
        ("Follow-up", names_html(o.follow_up, FOLLOW_UP_MEANING)),
    ]


def outcome_html(o: Outcome, where: str) -> str:
    return (f"<article class=\"outcome\" id=\"{e(anchor(where, 'o', o.id))}\">"
            f"<h4>Outcome <span class=\"ref\">{e(o.id)}</span>: {e(o.urgency)}, "
            f"{e(DISPOSITION_MEANING[o.disposition])}</h4>{fields(outcome_rows(o))}</article>")


class Book:
    """Renders the parts of one protocol: knows where each node and outcome is, to link to it."""

    def __init__(self, protocol: Protocol) -> None:
        self.p = protocol
        self.numbers: dict[str, dict[str, int]] = {"abcd": _numbering(protocol.abcd, protocol.abcd_start)}
        for c in protocol.complaints.values():
            self.numbers[c.id] = _numbering(c.nodes, c.start)

    def _outcome_where(self, complaint: Complaint | None, oid: str) -> tuple[str, Outcome]:
        if complaint is not None and oid in complaint.outcomes:
            return anchor("c", complaint.id), complaint.outcomes[oid]
        return "shared", self.p.outcomes[oid]

    def leads_to(self, a: Answer, graph: str, complaint: Complaint | None, nodes: dict[str, Node]) -> str:
        prefix = "abcd" if graph == "abcd" else anchor("c", graph)
        if a.next:
            number = self.numbers[graph].get(a.next, 0)
            return (f"<a href=\"#{e(anchor(prefix, 'n', a.next))}\">question Q{number}</a>: "
                    f"{e(nodes[a.next].question)}")
        if a.outcome:
            where, o = self._outcome_where(complaint, a.outcome)
            return (f"<a href=\"#{e(anchor(where, 'o', a.outcome))}\">outcome <span class=\"ref\">{e(a.outcome)}"
                    f"</span></a>: {e(o.urgency)}, {e(DISPOSITION_MEANING[o.disposition])}")
        return "on to the complaint's own questions"

    def answer_row(self, a: Answer, graph: str, complaint: Complaint | None, nodes: dict[str, Node]) -> str:
        sources = ", ".join(f"<a href=\"#{e(anchor('src', s))}\">{e(s)}</a>" for s in a.source) or "—"
        return (f"<tr><td>{e(a.label)} <span class=\"ref\">({e(a.id)})</span></td>"
                f"<td>{self.leads_to(a, graph, complaint, nodes)}</td><td>{e(a.signal or '—')}</td>"
                f"<td>{e(FINDING_MEANING.get(a.finding or '', '—'))}</td><td>{sources}</td></tr>")

    def node_html(self, node: Node, graph: str, complaint: Complaint | None, nodes: dict[str, Node]) -> str:
        prefix = "abcd" if graph == "abcd" else anchor("c", graph)
        number = self.numbers[graph].get(node.id, 0)
        rows = "".join(self.answer_row(a, graph, complaint, nodes) for a in node.answers)
        return (f"<article class=\"node\" id=\"{e(anchor(prefix, 'n', node.id))}\">"
                f"<h4>Q{number}. {e(node.question)} <span class=\"ref\">({e(node.id)})</span></h4>"
                "<table><thead><tr><th scope=\"col\">Answer</th><th scope=\"col\">Leads to</th>"
                "<th scope=\"col\">Signal</th><th scope=\"col\">Finding</th><th scope=\"col\">Sources</th></tr>"
                f"</thead><tbody>{rows}</tbody></table></article>")

    def nodes_html(self, nodes: dict[str, Node], graph: str, complaint: Complaint | None) -> str:
        order = sorted(nodes, key=lambda nid: self.numbers[graph].get(nid, len(nodes) + 1))
        return "".join(self.node_html(nodes[nid], graph, complaint, nodes) for nid in order)

    def complaint_html(self, c: Complaint, level: int = 2) -> str:
        h, sub = f"h{level}", f"h{level + 1}"
        risks = names_html(c.risks)
        about = fields([
            ("Id", f"<span class=\"ref\">{e(c.id)}</span>"),
            ("ABCD first", "no: skipped for this complaint" if c.skip_abcd else "yes"),
            ("Risk flags that raise it", risks),
            ("Starts with", f"Q1: {e(c.nodes[c.start].question)}"),
        ])
        first_aid = (f"<{sub}>First aid kept under an ABCD outcome</{sub}>{steps_html(c.first_aid)}"
                     if c.first_aid else "")
        outcomes = "".join(outcome_html(o, anchor("c", c.id)) for o in c.outcomes.values())
        return (f"<section class=\"complaint\" id=\"{e(anchor('c', c.id))}\"><{h}>{e(c.title)}</{h}>{about}"
                f"{first_aid}<{sub}>Questions</{sub}>{self.nodes_html(c.nodes, c.id, c)}"
                f"<{sub}>Outcomes</{sub}>{outcomes or '<p>only shared outcomes</p>'}</section>")

    def abcd_html(self) -> str:
        if not self.p.abcd:
            return "<section id=\"abcd\"><h2>ABCD: safety questions</h2><p>none</p></section>"
        return ("<section id=\"abcd\"><h2>ABCD: safety questions asked first</h2>"
                "<p>Asked before every complaint's own questions, unless the complaint says otherwise.</p>"
                f"{self.nodes_html(self.p.abcd, 'abcd', None)}</section>")

    def shared_outcomes_html(self) -> str:
        outcomes = "".join(outcome_html(o, "shared") for o in self.p.outcomes.values())
        return f"<section id=\"shared\"><h2>Shared outcomes</h2>{outcomes or '<p>none</p>'}</section>"

    def sources_html(self) -> str:
        if not self.p.sources:
            return "<section id=\"sources\"><h2>Sources</h2><p>none named in this version</p></section>"
        items = "".join(f"<dt id=\"{e(anchor('src', k))}\"><span class=\"ref\">{e(k)}</span></dt><dd>{e(v)}</dd>"
                        for k, v in self.p.sources.items())
        return f"<section id=\"sources\"><h2>Sources</h2><dl class=\"fields\">{items}</dl></section>"


def _numbering(nodes: dict[str, Node], start: str | None) -> dict[str, int]:
    """Questions numbered in the order a walk meets them (breadth first from the start)."""
    order: dict[str, int] = {}
    queue = [start] if start in nodes else []
    while queue:
        nid = queue.pop(0)
        if nid in order:
            continue
        order[nid] = len(order) + 1
        queue.extend(a.next for a in nodes[nid].answers if a.next and a.next in nodes and a.next not in order)
    for nid in nodes:
        order.setdefault(nid, len(order) + 1)
    return order


def governance_html(governance: dict[str, Any] | None) -> str:
    if not governance:
        return ""
    rows: list[tuple[str, str]] = []
    if governance.get("statement"):
        cls = "" if governance.get("signed_off") else " class=\"unsigned\""
        rows.append(("Status", f"<span{cls}>{e(governance['statement'])}</span>"))
    drafted = governance.get("drafted_by") or {}
    if drafted:
        rows.append(("Drafted by", e(", ".join(str(x) for x in (drafted.get("name"), drafted.get("profession"),
                                                               drafted.get("date")) if x))))
    reviewed = governance.get("reviewed_by") or []
    if reviewed:
        items = "".join(f"<li>{e(r.get('name', ''))}, {e(r.get('profession', ''))}, {e(r.get('date', ''))}"
                        + (f": “{e(r['comment'])}”" if r.get("comment") else "") + "</li>" for r in reviewed)
        rows.append(("Reviewed and signed off by", f"<ul>{items}</ul>"))
    elif "reviewed_by" in governance:
        rows.append(("Reviewed and signed off by", "<span class=\"unsigned\">nobody yet</span>"))
    published = governance.get("published_by")
    if published:
        who = published.get("name", "") if isinstance(published, dict) else published
        rows.append(("Published by", e(", ".join(str(x) for x in (who, governance.get("published_on")) if x))))
    if governance.get("sha256"):
        rows.append(("Document", f"<span class=\"ref\">sha256 {e(governance['sha256'])}</span>"))
    return f"<section class=\"governance\" id=\"governance\"><h2>Governance</h2>{fields(rows)}</section>"


def header_html(p: Protocol, *, heading: str) -> str:
    note = f"<p class=\"note\">{e(p.note)}</p>" if p.note else ""
    return (f"<header><h1>{e(heading)}</h1><p><span class=\"ref\">{e(p.id)}</span>, version {e(p.version)}</p>"
            f"{note}</header>")


def render_book(protocol: Protocol, *, governance: dict[str, Any] | None = None) -> str:
    """The whole protocol, for reading, printing and signing off."""
    book = Book(protocol)
    contents = "".join(f"<li><a href=\"#{e(anchor('c', c.id))}\">{e(c.title)}</a></li>"
                       for c in protocol.complaints.values())
    nav = ("<nav class=\"contents\"><h2>Contents</h2><ol><li><a href=\"#sources\">Sources</a></li>"
           "<li><a href=\"#abcd\">ABCD: safety questions</a></li><li><a href=\"#shared\">Shared outcomes</a></li>"
           f"<li>Entry complaints<ol>{contents}</ol></li></ol></nav>")
    body = [header_html(protocol, heading=protocol.title), governance_html(governance), nav, "<main>",
            book.sources_html(), book.abcd_html(), book.shared_outcomes_html(),
            *(book.complaint_html(c) for c in protocol.complaints.values()), "</main>"]
    return page(f"{protocol.title} — version {protocol.version}", body)
