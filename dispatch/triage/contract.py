"""The triage operations' schema names the protocol in use: which complaints start a triage, and which answers
belong to which question. Both are data (a coordinator may publish a new version at any time), so they are
written into the OpenAPI document when it is served, not into the models.

What the document cannot say is which question is current: an answer to another question is a 409.
"""
from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from sqlmodel import Session

from dispatch.errors import AppError
from dispatch.protocol_versions import service as versions
from protocols.model import Protocol


def answers_by_node(protocol: Protocol) -> dict[str, list[str]]:
    """Every question of the protocol (ABCD and each complaint's) with its answers' ids."""
    found: dict[str, list[str]] = {}
    for nodes in (protocol.abcd, *(c.nodes for c in protocol.complaints.values())):
        for node in nodes.values():
            known = found.setdefault(node.id, [])
            known.extend(a.id for a in node.answers if a.id not in known)
    return found


def describe(schema: dict[str, Any], protocol: Protocol) -> None:
    """Write the protocol's complaints and questions into the schemas of StartIn and AnswerIn."""
    components = schema.get("components", {}).get("schemas", {})
    title = f"{protocol.id} v{protocol.version}"
    if "StartIn" in components:
        complaint = components["StartIn"]["properties"]["complaint"]
        complaint["enum"] = sorted(protocol.complaints)
        complaint["description"] += f" (in use: {title})"
    if "AnswerIn" in components:
        components["AnswerIn"]["anyOf"] = [
            {"properties": {"node": {"const": node}, "answer": {"enum": answers}}}
            for node, answers in sorted(answers_by_node(protocol).items())]
        components["AnswerIn"]["description"] = (f"a question of {title} and one of its answers; the question must "
                                                 "be the current one (else 409)")


def install(app: FastAPI) -> None:
    """Serve the OpenAPI document with the protocol in use described (app.openapi, as FastAPI documents it)."""
    plain = app.openapi
    described: dict[str, dict[str, Any]] = {}  # by the version's sha256: one entry, the version in use

    def openapi() -> dict[str, Any]:
        settings = app.state.settings
        try:
            with Session(app.state.engine) as session:
                version = versions.in_use(session, protocol_id=settings.protocol_id, pin=settings.protocol_version)
        except AppError:  # nothing published (yet): the plain document
            return plain()
        if version.sha256 not in described:  # the protocol is read only when the version in use changes
            schema = copy.deepcopy(plain())
            describe(schema, versions.as_protocol(version))
            described.clear()
            described[version.sha256] = schema
        return described[version.sha256]

    app.openapi = openapi  # type: ignore[method-assign]
