"""What the OpenAPI schema says beyond the models: links between operations, and the answers to rules that JSON
Schema cannot state (they depend on another field, on the database or on the caller's role).

A link tells a client (and schemathesis' stateful phase) where a response's values go next: the id of a new call
into its triage, a triage's current question into its answer. See docs/api-contract.md.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorOut(BaseModel):
    """Every 4xx: what went wrong, and the field it concerns (null when it concerns the request as a whole)."""

    error: str = Field(description="invalid, not_found, conflict, forbidden, unauthorized, too_many_requests, ...")
    detail: str
    field: str | None


def _pointer(path: str) -> str:
    return path.replace("~", "~0").replace("/", "~1")


def link(method: str, path: str, description: str, *, body: Any = None, **parameters: str) -> dict[str, Any]:
    """An OpenAPI link to the operation `method path`; `parameters` and `body` hold runtime expressions
    (`$response.body#/id`)."""
    definition: dict[str, Any] = {"operationRef": f"#/paths/{_pointer(path)}/{method.lower()}",
                                  "description": description}
    if parameters:
        definition["parameters"] = parameters
    if body is not None:
        definition["requestBody"] = body
    return definition


def links(status: int, description: str, **named: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """`responses=` entry declaring the links of the response with this status."""
    return {status: {"description": description, "links": named}}


def refused(status: int, description: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` entry for an error answer: `refused(422, "ends_at must be after starts_at")`."""
    return {status: {"model": ErrorOut, "description": description}}


def responses(*entries: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    merged: dict[int | str, dict[str, Any]] = {}
    for entry in entries:
        merged.update(entry)
    return merged


# The usual answers, for operations on one resource named in the path.
NOT_FOUND = refused(404, "no such resource, or not one you may see")
