"""Pure triage: the shared call protocol as versioned data, the engine that walks it, and NEWS2.

No database, no web. Imports nothing from the rest of nightcare.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from protocols.model import Protocol, ProtocolError, load

DATA = Path(__file__).parent / "data"
DEFAULT_PROTOCOL_ID = "nightcare-regional-night"


def parse(text: str) -> dict[str, Any]:
    """Parse a protocol document (YAML, which includes JSON)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProtocolError(f"protocol: not valid YAML/JSON ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict):
        raise ProtocolError("protocol: the document must be a mapping")
    return doc


def shipped_documents() -> list[dict[str, Any]]:
    """The protocol versions shipped with nightcare, oldest first."""
    docs = [parse(p.read_text(encoding="utf-8")) for p in sorted(DATA.glob("*.yaml"))]
    return sorted(docs, key=lambda d: (d.get("protocol", ""), d.get("version", 0)))


def default_protocol() -> Protocol:
    docs = [d for d in shipped_documents() if d.get("protocol") == DEFAULT_PROTOCOL_ID]
    return load(docs[-1])


__all__ = ["DEFAULT_PROTOCOL_ID", "Protocol", "ProtocolError", "default_protocol", "load", "parse", "shipped_documents"]
