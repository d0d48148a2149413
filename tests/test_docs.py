"""What a newcomer reads and installs stays inside the clone and true: the README and docs/ link only to files
that are there, and requirements.lock pins (with hashes) everything pyproject.toml asks for."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")  # [text](target)
CODE_PATH = re.compile(r"`((?:docs|dispatch|routing|protocols|adapters|web|tests)/[\w./-]+\.(?:md|py|js|html|yaml))`")


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_docs_name_nothing_outside_the_clone(doc: Path) -> None:
    text = _read(doc)
    assert "../shared" not in text and "specs/" not in text, doc
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a web address or an anchor in the same page
        resolved = (doc.parent / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{doc.name} links outside the clone: {target}"
        assert resolved.exists(), f"{doc.name} links to {target}, which is not in the clone"
    for path in CODE_PATH.findall(text):
        assert (ROOT / path).exists(), f"{doc.name} names {path}, which is not in the clone"


def test_every_doc_is_reachable_from_the_architecture_page() -> None:
    linked = {(ROOT / "docs" / t.split("#")[0]).resolve() for t in LINK.findall(_read(ROOT / "docs/architecture.md"))}
    missing = [d.name for d in DOCS[1:] if d.name != "architecture.md" and d.resolve() not in linked]
    assert not missing, f"docs/architecture.md does not list {missing}"
    assert "docs/architecture.md" in _read(ROOT / "README.md")


def _lock() -> dict[str, list[tuple[str, str, bool]]]:
    """name → [(version, marker, hashed)] from requirements.lock."""
    pins: dict[str, list[tuple[str, str, bool]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", _read(ROOT / "requirements.lock")):
        head = re.match(r"([A-Za-z0-9._-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+))?", block)
        if head:
            pins.setdefault(canonicalize_name(head[1]), []).append(
                (head[2], (head[3] or "").strip(), "--hash=sha256:" in block))
    return pins


def test_the_lock_file_pins_every_dependency_with_hashes() -> None:
    project = tomllib.loads(_read(ROOT / "pyproject.toml"))["project"]
    wanted = [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["test"]]]
    pins = _lock()
    assert pins and all(hashed for entries in pins.values() for _, _, hashed in entries)
    for requirement in wanted:
        entries = pins.get(canonicalize_name(requirement.name))
        assert entries, f"{requirement.name} is in pyproject.toml but not in requirements.lock: run `make lock`"
        assert any(requirement.specifier.contains(version, prereleases=True) for version, _, _ in entries), \
            f"requirements.lock pins {requirement.name} {entries}, outside {requirement.specifier}: run `make lock`"
