"""The protocol book and the diff book: every complaint, question and outcome readable; text escaped; the CLI."""
from __future__ import annotations

import copy
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

import protocols
from dispatch.cli import main
from protocols.book import render_book
from protocols.diff import diff
from protocols.diff_book import render_diff

SHIPPED = [d for d in protocols.shipped_documents() if d["protocol"] == protocols.DEFAULT_PROTOCOL_ID]


class Page(HTMLParser):
    """The text a reader sees (entities decoded), the tags, and whether the page is one well-nested document."""

    VOID = frozenset({"meta", "br", "hr", "img", "link", "input"})

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: list[str] = []
        self.open: list[str] = []
        self.problems: list[str] = []
        self.in_style = False
        self.feed(html)
        self.close()
        self.text = " ".join(" ".join(self.parts).split())

    def handle_starttag(self, tag: str, attrs) -> None:
        self.tags.append(tag)
        self.in_style = tag == "style"
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.in_style = False
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if not self.in_style:
            self.parts.append(data)

    def has(self, phrase: str) -> bool:
        return " ".join(phrase.split()) in self.text


def _all(protocol: protocols.Protocol):
    nodes = list(protocol.abcd.values()) + [n for c in protocol.complaints.values() for n in c.nodes.values()]
    outcomes = list(protocol.outcomes.values()) + [o for c in protocol.complaints.values() for o in c.outcomes.values()]
    return nodes, outcomes


def test_the_book_of_the_newest_version_shows_everything() -> None:
    protocol = protocols.load(SHIPPED[-1])
    page = Page(render_book(protocol, governance={"statement": "shipped starting point", "reviewed_by": []}))
    assert page.problems == [] and page.open == []
    assert page.has(protocol.title) and page.has(f"version {protocol.version}") and page.has("shipped starting point")
    nodes, outcomes = _all(protocol)
    for c in protocol.complaints.values():
        assert page.has(c.title), c.id
    for node in nodes:
        assert page.has(node.question), node.id
        for a in node.answers:
            assert page.has(a.label), (node.id, a.id)
    for o in outcomes:
        assert page.has(f"Outcome {o.id}"), o.id
        if o.advice:
            assert page.has(o.advice), o.id
        for step in o.steps:
            assert page.has(step.text), o.id
        if o.safety_net:
            assert page.has(o.safety_net), o.id
    for citation in protocol.sources.values():
        assert page.has(citation)
    assert {"h1", "h2", "table", "ol", "dl", "nav", "main", "section", "article"} <= set(page.tags)
    assert "script" not in page.tags


def _doc_with(**changes) -> dict:
    doc = copy.deepcopy(SHIPPED[-1])
    doc.update(changes)
    return doc


def test_text_from_the_document_is_escaped() -> None:
    doc = _doc_with(title="Night <script>alert(1)</script> & co")
    first = doc["complaints"][0]
    first["title"] = 'Fall "<b>hard</b>"'
    node = first["nodes"][first["start"]]
    node["question"] = "Is it <i>bad</i> & worse?"
    page = Page(render_book(protocols.load(doc)))
    assert page.has("Night <script>alert(1)</script> & co") and page.has('Fall "<b>hard</b>"')
    assert page.has("Is it <i>bad</i> & worse?")
    assert not {"script", "b", "i"} & set(page.tags) and page.problems == []


def _changed_pair():
    old = protocols.load(SHIPPED[-1])
    doc = copy.deepcopy(SHIPPED[-1])
    doc["note"] = "Reviewed note."
    first, removed = doc["complaints"][0], doc["complaints"].pop()
    node_id = first["start"]
    first["nodes"][node_id]["question"] = "A clearer question?"
    first["nodes"][node_id]["answers"][0]["label"] = "A plainer answer"
    oid, outcome = next(iter(first["outcomes"].items()))
    outcome["advice"] = "New advice to read."
    outcome["steps"] = ["Stay with her.", {"text": "Start chest compressions.", "cpr": True}]
    first["first_aid"] = ["Keep her warm."]
    doc["complaints"].append({"id": "hiccups", "title": "Persistent hiccups", "start": "h1",
                              "nodes": {"h1": {"question": "More than two days?",
                                               "answers": [{"id": "yes", "label": "Yes", "outcome": "h"},
                                                           {"id": "no", "label": "No", "outcome": "h"}]}},
                              "outcomes": {"h": {"urgency": "U5", "disposition": "advice", "advice": "Sip water.",
                                                 "safety_net": "Call back if it goes on."}}})
    return old, protocols.load(doc), first, removed, oid


def test_the_diff_names_format_2_changes() -> None:
    old, new, first, removed, oid = _changed_pair()
    d = diff(old, new)
    assert d["complaints_added"] == ["hiccups"] and d["complaints_removed"] == [removed["id"]]
    assert d["note"] == {"from": old.note, "to": "Reviewed note."}
    entry = next(c for c in d["complaints_changed"] if c["id"] == first["id"])
    assert entry["first_aid"]["to"] == [{"text": "Keep her warm.", "cpr": False, "unresponsive": False}]
    node = next(n for n in entry["nodes_changed"] if n["id"] == first["start"])
    assert node["changes"][0]["to"] == "A clearer question?"
    assert node["answers_changed"][0]["to"]["label"] == "A plainer answer"
    change = next(o for o in entry["outcomes_changed"] if o["id"] == oid)
    assert change["to"]["steps"][1] == {"text": "Start chest compressions.", "cpr": True, "unresponsive": False}
    assert diff(old, old)["complaints_changed"] == [] and not diff(old, old)["abcd_changed"]


def test_the_diff_book_shows_before_and_after() -> None:
    old, new, first, removed, _ = _changed_pair()
    page = Page(render_diff(old, new))
    assert page.problems == [] and page.open == []
    for phrase in ("Entry complaints added", "Persistent hiccups", "More than two days?", "Entry complaints removed",
                   removed["title"], "A clearer question?", "A plainer answer", "New advice to read.",
                   "Start chest compressions. [CPR step]", "Keep her warm.", "Reviewed note.",
                   f"Before (v{old.version})", f"After (v{new.version})"):
        assert page.has(phrase), phrase
    assert page.has(old.complaints[first["id"]].nodes[first["start"]].question)  # the question as it was


def test_the_diff_book_from_v1_to_the_newest_names_every_added_complaint() -> None:
    old, new = protocols.load(SHIPPED[0]), protocols.load(SHIPPED[-1])
    page = Page(render_diff(old, new))
    assert page.problems == []
    for cid in set(new.complaints) - set(old.complaints):
        assert page.has(new.complaints[cid].title), cid
        for node in new.complaints[cid].nodes.values():
            assert page.has(node.question), (cid, node.id)


def test_the_commands_write_the_books(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = tmp_path / "book.html"
    main(["protocol", "book", "--out", str(book)])
    assert Page(book.read_text(encoding="utf-8")).has(protocols.load(SHIPPED[-1]).title)
    changes = tmp_path / "diff.html"
    main(["protocol", "diff", "--from", "1", "--to", str(SHIPPED[-1]["version"]), "--out", str(changes)])
    assert Page(changes.read_text(encoding="utf-8")).has(f"changes from version 1 to version {SHIPPED[-1]['version']}")
    draft = tmp_path / "draft.yaml"
    doc = copy.deepcopy(SHIPPED[-1])
    doc["complaints"].append({"id": "hiccups", "title": "Persistent hiccups", "start": "h1",
                              "nodes": {"h1": {"question": "More than two days?",
                                               "answers": [{"id": "yes", "label": "Yes", "outcome": "h"}]}},
                              "outcomes": {"h": {"urgency": "U5", "disposition": "advice",
                                                 "safety_net": "Call back."}}})
    draft.write_text(yaml.safe_dump(doc), encoding="utf-8")
    from_draft = tmp_path / "draft-diff.html"
    main(["protocol", "diff", "--from", "1", "--file", str(draft), "--out", str(from_draft)])
    assert Page(from_draft.read_text(encoding="utf-8")).has("Persistent hiccups")
    main(["protocol", "book", "--file", str(draft)])
    assert "Persistent hiccups" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="not shipped"):
        main(["protocol", "book", "--version", "99"])
    broken = tmp_path / "broken.yaml"
    broken.write_text("protocol: x\nversion: 1\ncomplaints: []\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="no complaints"):
        main(["protocol", "book", "--file", str(broken)])
