"""Protocol versions: drafts, sign-offs, publishing, the published versions, the book and the diff."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

import protocols
from dispatch.apidoc import NOT_FOUND, link, refused, responses
from dispatch.auth.deps import Coordinators, CurrentPrincipal
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.db import SessionDep
from dispatch.errors import Forbidden, Invalid
from dispatch.protocol_versions import drafts, service
from dispatch.protocol_versions.models import ProtocolDraft, ProtocolVersion
from dispatch.protocol_versions.schemas import (
    CurrentOut,
    DraftChangeIn,
    DraftDocumentOut,
    DraftIn,
    DraftOut,
    SignoffIn,
    VersionDocumentOut,
    VersionOut,
)
from protocols.book import CSP, render_book
from protocols.diff import diff
from protocols.diff_book import render_diff
from protocols.model import DISPOSITIONS_FOR, ProtocolError

router = APIRouter(prefix="/api/protocols", tags=["protocols"])
ProtocolId = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")]
VersionNo = Annotated[int, Path(ge=1, le=100_000)]

_DRAFT = {"protocol_id": "$response.body#/protocol_id", "version": "$response.body#/version"}
DRAFT_LINKS = {
    "ReadDraft": link("GET", "/api/protocols/{protocol_id}/drafts/{version}", "the draft and its document", **_DRAFT),
    "SignOff": link("POST", "/api/protocols/{protocol_id}/drafts/{version}/signoffs", "a clinician signs it off",
                    **_DRAFT),
    "Publish": link("POST", "/api/protocols/{protocol_id}/drafts/{version}/publish", "a coordinator publishes it",
                    **_DRAFT),
}
_UNSOUND = refused(422, "the document is not a sound protocol (docs/protocol-format.md: every node reachable, every "
                        "answer leading somewhere, sources for red flags, ...); the error names the place. JSON Schema "
                        "cannot state those rules, so the schema only says it is YAML/JSON text or an object")


def _readers(principal: CurrentPrincipal) -> Principal:
    if principal.role not in (Role.operator, Role.coordinator) and not principal.clinician:
        raise Forbidden("protocol versions are for operators, coordinators and clinicians", field="role")
    return principal


Readers = Annotated[Principal, Depends(_readers, scope="function")]


def _meta(v: ProtocolVersion) -> dict[str, Any]:
    return v.model_dump(include=set(VersionOut.model_fields))


def _draft(session: Session, d: ProtocolDraft, request: Request, *, document: bool = False) -> dict[str, Any]:
    tz = request.app.state.settings.region_timezone
    signoffs = [{**s.model_dump(), "date": service.local_date(s.signed_at, tz), "valid": drafts.valid(d, s)}
                for s in drafts.signoffs(session, d)]
    out = {**d.model_dump(include=set(DraftOut.model_fields)), "signoffs": signoffs,
           "signoffs_needed": drafts.SIGNOFFS_NEEDED, "ready_to_publish": drafts.ready(session, d)}
    return {**out, "document": d.document} if document else out


def _document(raw: str | dict[str, Any]) -> dict[str, Any]:
    try:
        return protocols.parse(raw) if isinstance(raw, str) else raw
    except ProtocolError as exc:
        raise Invalid(str(exc), field="document") from None


def _html(content: str) -> HTMLResponse:
    return HTMLResponse(content, headers={"Content-Security-Policy": CSP})


@router.get("", response_model=list[VersionOut])
def list_versions(session: SessionDep, principal: Readers) -> list[dict[str, Any]]:
    """The published versions, with who drafted, reviewed and published each."""
    rows = session.exec(select(ProtocolVersion)
                        .order_by(col(ProtocolVersion.protocol_id), col(ProtocolVersion.version)))
    return [_meta(v) for v in rows]


@router.get("/current", response_model=CurrentOut)
def current(request: Request, session: SessionDep, principal: Readers) -> dict[str, Any]:
    """The version new triages use (the pinned one, or the newest published), with its entry complaints."""
    settings = request.app.state.settings
    version = service.in_use(session, protocol_id=settings.protocol_id, pin=settings.protocol_version)
    protocol = service.as_protocol(version)
    return {**_meta(version), "note": protocol.note, "pinned": settings.protocol_version is not None,
            "complaints": [{"id": c.id, "title": c.title} for c in protocol.complaints.values()],
            "dispositions_for": {u: list(d) for u, d in DISPOSITIONS_FOR.items()}}


@router.post("", response_model=DraftOut, status_code=201, responses=responses(
    {201: {"description": "the draft", "links": DRAFT_LINKS}}, _UNSOUND,
    refused(409, "a version with this number exists, or lies at or below a published one")))
def submit_draft(body: DraftIn, request: Request, session: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Coordinators and clinicians: submit a draft version (validated; its number above every published one).
    It is used for triage once two clinicians signed it off and a coordinator published it."""
    drafted_by = body.drafted_by.model_dump(mode="json") if body.drafted_by else None
    draft = drafts.submit(session, principal, document=_document(body.document), drafted_by=drafted_by,
                          tz=request.app.state.settings.region_timezone)
    return _draft(session, draft, request)


@router.get("/drafts", response_model=list[DraftOut])
def list_drafts(request: Request, session: SessionDep, principal: Readers) -> list[dict[str, Any]]:
    return [_draft(session, d, request) for d in drafts.list_drafts(session)]


@router.get("/{protocol_id}/drafts/{version}", response_model=DraftDocumentOut, responses=NOT_FOUND)
def read_draft(protocol_id: ProtocolId, version: VersionNo, request: Request, session: SessionDep,
               principal: Readers) -> dict[str, Any]:
    return _draft(session, drafts.get_draft(session, protocol_id, version), request, document=True)


@router.put("/{protocol_id}/drafts/{version}", response_model=DraftOut, responses=responses(
    NOT_FOUND, refused(409, "the draft is published: it cannot change"),
    refused(422, _UNSOUND[422]["description"] + "; or the document names another protocol or version")))
def change_draft(protocol_id: ProtocolId, version: VersionNo, body: DraftChangeIn, request: Request,
                 session: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    """Coordinators and clinicians: change a draft's document (the sign-offs given so far no longer count)."""
    drafted_by = body.drafted_by.model_dump(mode="json") if body.drafted_by else None
    draft = drafts.change(session, principal, protocol_id=protocol_id, version=version, drafted_by=drafted_by,
                          document=None if body.document is None else _document(body.document),
                          tz=request.app.state.settings.region_timezone)
    return _draft(session, draft, request)


@router.post("/{protocol_id}/drafts/{version}/signoffs", response_model=DraftOut, status_code=201, responses=responses(
    NOT_FOUND, refused(409, "one's own draft, signed already, or the document changed since `sha256`")))
def sign_off(protocol_id: ProtocolId, version: VersionNo, body: SignoffIn, request: Request, session: SessionDep,
             principal: CurrentPrincipal) -> dict[str, Any]:
    """Clinicians: sign off the draft's current document (never one's own draft; once per document)."""
    drafts.sign_off(session, principal, protocol_id=protocol_id, version=version, comment=body.comment,
                    sha256=body.sha256)
    return _draft(session, drafts.get_draft(session, protocol_id, version), request)


@router.post("/{protocol_id}/drafts/{version}/publish", response_model=VersionOut, status_code=201,
             responses=responses(NOT_FOUND, refused(409, "fewer than two valid clinician sign-offs")))
def publish(protocol_id: ProtocolId, version: VersionNo, request: Request, session: SessionDep,
            principal: Coordinators) -> dict[str, Any]:
    """Coordinators: publish a draft signed off by two clinicians (409 otherwise). Immutable from now on."""
    return _meta(drafts.publish(session, principal, protocol_id=protocol_id, version=version,
                                tz=request.app.state.settings.region_timezone))


@router.get("/{protocol_id}/versions/{version}", response_model=VersionDocumentOut)
def read_version(protocol_id: ProtocolId, version: VersionNo, session: SessionDep,
                 principal: Readers) -> dict[str, Any]:
    v = service.get(session, protocol_id, version)
    return {**_meta(v), "document": v.document}


@router.get("/{protocol_id}/versions/{version}/book", response_class=HTMLResponse)
def version_book(protocol_id: ProtocolId, version: VersionNo, session: SessionDep, principal: Readers) -> HTMLResponse:
    """The published version as a printable book (HTML)."""
    v = service.get(session, protocol_id, version)
    return _html(render_book(service.as_protocol(v), governance=v.governance))


@router.get("/{protocol_id}/drafts/{version}/book", response_class=HTMLResponse)
def draft_book(protocol_id: ProtocolId, version: VersionNo, request: Request, session: SessionDep,
               principal: Readers) -> HTMLResponse:
    """The draft as a printable book (HTML): what its reviewers sign (its sha256 is in the governance block)."""
    d = drafts.get_draft(session, protocol_id, version)
    governance = drafts.draft_governance(session, d, request.app.state.settings.region_timezone)
    return _html(render_book(service.as_protocol(d), governance=governance))


def _either(session: Session, protocol_id: str, version: int) -> tuple[Any, dict[str, Any]]:
    """A version number: the published version, or else the draft of that number."""
    published = session.exec(select(ProtocolVersion).where(ProtocolVersion.protocol_id == protocol_id,
                                                           ProtocolVersion.version == version)).first()
    if published is not None:
        return service.as_protocol(published), published.governance
    d = drafts.get_draft(session, protocol_id, version)
    return service.as_protocol(d), {}


FromVersion = Annotated[int, Query(alias="from", ge=1, le=100_000)]
ToVersion = Annotated[int, Query(alias="to", ge=1, le=100_000)]


@router.get("/{protocol_id}/diff")
def version_diff(protocol_id: ProtocolId, session: SessionDep, principal: Readers, from_version: FromVersion,
                 to_version: ToVersion) -> dict[str, Any]:
    """What changed between two versions (published, or drafts): sources, ABCD, complaints, questions, answers,
    outcomes."""
    return diff(_either(session, protocol_id, from_version)[0], _either(session, protocol_id, to_version)[0])


@router.get("/{protocol_id}/diff/book", response_class=HTMLResponse)
def diff_book(protocol_id: ProtocolId, request: Request, session: SessionDep, principal: Readers,
              from_version: FromVersion, to_version: ToVersion) -> HTMLResponse:
    """What changed between two versions, as a printable book (HTML)."""
    old, _ = _either(session, protocol_id, from_version)
    new, governance = _either(session, protocol_id, to_version)
    if not governance:  # a draft: its review so far
        governance = drafts.draft_governance(session, drafts.get_draft(session, protocol_id, to_version),
                                             request.app.state.settings.region_timezone)
    return _html(render_diff(old, new, governance=governance))
