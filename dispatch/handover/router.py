"""The morning handover for partners (their own organisation) and coordinators (any): JSON, printable HTML, a FHIR
document Bundle; and the state of the pushes to the organisations' FHIR endpoints."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel
from sqlmodel import col, select

from dispatch.apidoc import refused
from dispatch.auth.deps import roles
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.db import SessionDep
from dispatch.errors import Invalid
from dispatch.handover import html
from dispatch.handover.fhir import build_bundle
from dispatch.handover.models import HandoverPush
from dispatch.handover.service import organisations_for, read_handovers
from dispatch.timeutil import utcnow
from dispatch.validation import Code

router = APIRouter(prefix="/api/handover", tags=["handover"])
Readers = Annotated[Principal, roles(Role.partner, Role.coordinator)]
Night = Annotated[date, Query(description="the night's date, YYYY-MM-DD: the night that begins that day")]
OrgCode = Annotated[Code | None, Query(description="coordinators: one organisation (partners: their own)")]


def _read(request: Request, session, principal, night: date, organisation: str | None) -> list[dict[str, Any]]:
    return read_handovers(session, principal, day=night, settings=request.app.state.settings, now=utcnow(),
                          organisation=organisation)


@router.get("")
def handover_json(request: Request, session: SessionDep, principal: Readers, night: Night,
                  organisation: OrgCode = None) -> dict[str, Any]:
    """The night of each of the organisation's clients: calls with triage (questions, answers, outcome, advice), visits
    (moves, NEWS2 observations, materials, the nurse's note), day tasks, GP notifications. Audited per client."""
    return {"night": night.isoformat(), "handovers": _read(request, session, principal, night, organisation)}


@router.get(".html", response_class=HTMLResponse)
def handover_html(request: Request, session: SessionDep, principal: Readers, night: Night,
                  organisation: OrgCode = None) -> HTMLResponse:
    """The handover as one printable page (inline CSS, nothing external)."""
    return HTMLResponse(html.render(_read(request, session, principal, night, organisation)),
                        headers={"Cache-Control": "no-store", "Content-Security-Policy": html.CSP})


@router.get(".fhir", responses=refused(
    422, "a coordinator names the organisation (`organisation`); a partner's is her own (a rule about the role)"))
def handover_fhir(request: Request, session: SessionDep, principal: Readers, night: Night,
                  organisation: OrgCode = None) -> JSONResponse:
    """The handover as an HL7 FHIR R4B document Bundle (one organisation: a coordinator names it)."""
    if principal.role != Role.partner and organisation is None:
        raise Invalid("a FHIR document is one organisation's: name it with ?organisation=", field="organisation")
    handovers = _read(request, session, principal, night, organisation)
    return JSONResponse(build_bundle(handovers[0]), media_type="application/fhir+json",
                        headers={"Cache-Control": "no-store", "Content-Security-Policy": html.CSP})


class PushOut(BaseModel):
    id: int
    organisation: str
    night: date
    attempts: int
    last_error: str
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    pushed_at: datetime | None
    clients: int
    state: str  # pushed | retrying | failed | pending


@router.get("/pushes", response_model=list[PushOut])
def pushes(request: Request, session: SessionDep, principal: Readers,
           limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
    """Pushes of the handover to the organisations' FHIR endpoints, newest night first, failures included."""
    orgs = {o.id: o.code for o in organisations_for(session, principal, None)}
    rows = session.exec(select(HandoverPush).where(col(HandoverPush.organisation_id).in_(list(orgs)))
                        .order_by(col(HandoverPush.night).desc(), col(HandoverPush.id)).limit(limit))
    most = request.app.state.settings.handover_push_max_attempts
    out = []
    for row in rows:
        state = ("pushed" if row.pushed_at else "failed" if row.attempts >= most
                 else "retrying" if row.attempts else "pending")
        out.append({**row.model_dump(exclude={"organisation_id", "created_at"}),
                    "organisation": orgs[row.organisation_id], "state": state})
    return out
