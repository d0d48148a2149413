from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from sqlmodel import select

import protocols
from dispatch.auth.deps import Coordinators, Operators
from dispatch.db import SessionDep
from dispatch.errors import Invalid
from dispatch.protocol_versions import service
from dispatch.protocol_versions.models import ProtocolVersion
from protocols.diff import diff
from protocols.model import ProtocolError

router = APIRouter(prefix="/api/protocols", tags=["protocols"])
ProtocolId = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")]
VersionNo = Annotated[int, Path(ge=1, le=100_000)]


class ComplaintOut(BaseModel):
    id: str
    title: str


class VersionOut(BaseModel):
    protocol_id: str
    version: int
    title: str
    sha256: str
    published_at: datetime
    published_by: str


class CurrentOut(VersionOut):
    note: str
    complaints: list[ComplaintOut]


class VersionDocumentOut(VersionOut):
    document: dict[str, Any]


class PublishIn(BaseModel):
    document: str | dict[str, Any] = Field(description="the protocol document, as YAML/JSON text or as an object",
                                           max_length=500_000)


def _meta(v: ProtocolVersion) -> dict[str, Any]:
    return v.model_dump(include=set(VersionOut.model_fields))


@router.get("", response_model=list[VersionOut])
def list_versions(session: SessionDep, principal: Operators) -> list[dict[str, Any]]:
    rows = session.exec(select(ProtocolVersion).order_by(ProtocolVersion.protocol_id, ProtocolVersion.version))
    return [_meta(v) for v in rows]


@router.get("/current", response_model=CurrentOut)
def current(request: Request, session: SessionDep, principal: Operators) -> dict[str, Any]:
    """The version new triages use, with its entry complaints."""
    version = service.latest(session, request.app.state.settings.protocol_id)
    protocol = service.as_protocol(version)
    return {**_meta(version), "note": protocol.note,
            "complaints": [{"id": c.id, "title": c.title} for c in protocol.complaints.values()]}


@router.get("/{protocol_id}/versions/{version}", response_model=VersionDocumentOut)
def read_version(protocol_id: ProtocolId, version: VersionNo, session: SessionDep,
                 principal: Operators) -> dict[str, Any]:
    v = service.get(session, protocol_id, version)
    return {**_meta(v), "document": v.document}


@router.post("", response_model=VersionOut, status_code=201)
def publish(body: PublishIn, session: SessionDep, principal: Coordinators) -> dict[str, Any]:
    """Publish a new version (validated; immutable once published). New triages use it at once."""
    try:
        document = protocols.parse(body.document) if isinstance(body.document, str) else body.document
    except ProtocolError as exc:
        raise Invalid(str(exc), field="document") from None
    return _meta(service.publish(session, document, published_by=principal.username))


@router.get("/{protocol_id}/diff")
def version_diff(protocol_id: ProtocolId, session: SessionDep, principal: Operators,
                 from_version: Annotated[int, Query(alias="from", ge=1, le=100_000)],
                 to_version: Annotated[int, Query(alias="to", ge=1, le=100_000)]) -> dict[str, Any]:
    """What changed between two versions: complaints, questions, answers, outcomes."""
    old = service.as_protocol(service.get(session, protocol_id, from_version))
    new = service.as_protocol(service.get(session, protocol_id, to_version))
    return diff(old, new)
