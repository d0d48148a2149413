from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, Field, model_validator
from sqlmodel import Session, col, select

from dispatch.assignment.router import request_replan
from dispatch.assignment.service import follow_call
from dispatch.audit import service as audit
from dispatch.auth.deps import CurrentPrincipal, Operators, require
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.clients.access import visible_client
from dispatch.db import SessionDep
from dispatch.errors import Conflict, Invalid, NotFound
from dispatch.nurses.models import Nurse
from dispatch.responders import outbox
from dispatch.validation import LongText, Ref, Skill, StateName
from dispatch.visits.models import Visit

router = APIRouter(prefix="/api/visits", tags=["visits"])
VisitId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Planners = require(Role.coordinator, Role.partner)


class PlannedVisitIn(BaseModel):
    client_id: int = Field(ge=1, le=2**31 - 1)
    window_start: AwareDatetime
    window_end: AwareDatetime
    service_minutes: int = Field(default=15, ge=1, le=480)
    skills: list[Skill] = Field(default_factory=list, max_length=10)
    notes: LongText = ""
    external_ref: Ref | None = Field(
        default=None, description="the planning system's id; a retry returns the same visit")

    @model_validator(mode="after")
    def _window(self) -> "PlannedVisitIn":
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        if (self.window_end - self.window_start).days > 2:
            raise ValueError("a night visit window spans at most two days")
        return self


class AssignIn(BaseModel):
    nurse_id: int | None = Field(ge=1, le=2**31 - 1, description="null to release the visit to the planner")
    lock: bool = Field(default=True, description="keep it with this nurse when the night is re-planned")


class VisitOut(BaseModel):
    id: int
    kind: str
    client_id: int
    organisation_id: int
    call_id: int | None
    window_start: datetime
    window_end: datetime
    service_minutes: int
    skills: list[str]
    nurse_id: int | None
    state: str
    notes: str
    external_ref: str | None
    urgency: str | None
    locked: bool
    eta: datetime | None


def _scoped(principal: Principal):  # noqa: ANN202
    stmt = select(Visit)
    if principal.role == Role.partner:
        stmt = stmt.where(Visit.organisation_id == principal.organisation_id)
    elif principal.role == Role.nurse:
        stmt = stmt.where(Visit.nurse_id == principal.nurse_id)
    return stmt


def _get(session: Session, principal: Principal, visit_id: int) -> Visit:
    visit = session.exec(_scoped(principal).where(Visit.id == visit_id)).first()
    if visit is None:
        raise NotFound(f"no visit {visit_id}", field="visit_id")
    return visit


@router.post("", response_model=VisitOut, status_code=201)
def create_planned_visit(body: PlannedVisitIn, request: Request, response: Response, session: SessionDep,
                         principal: Planners) -> Visit:
    """Register a planned night visit (e.g. turning, medication round, catheter care) with its window."""
    if body.external_ref:
        existing = session.exec(select(Visit).where(Visit.external_ref == body.external_ref)).first()
        if existing is not None:
            if existing.organisation_id != principal.organisation_id and principal.role == Role.partner:
                raise Conflict("external_ref is already used", field="external_ref")
            response.status_code = 200
            return existing
    client, _, _ = visible_client(session, principal, body.client_id, data="visit")
    visit = Visit(kind="planned", client_id=client.id, organisation_id=client.organisation_id,
                  **body.model_dump(exclude={"client_id"}))
    session.add(visit)
    session.flush()
    audit.record(session, principal, action="create", data="visit", client_ids=[client.id],
                 reason=f"planned visit {visit.id}")
    request_replan(request, session, f"new planned visit {visit.id}")
    return visit


@router.get("", response_model=list[VisitOut])
def list_visits(
    session: SessionDep,
    principal: CurrentPrincipal,
    start: Annotated[AwareDatetime | None, Query(alias="from", description="windows ending after this")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to", description="windows starting before this")] = None,
    state: Annotated[list[StateName] | None, Query()] = None,
    nurse_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
) -> list[Visit]:
    stmt = _scoped(principal)
    if start is not None:
        stmt = stmt.where(Visit.window_end > start)
    if end is not None:
        stmt = stmt.where(Visit.window_start < end)
    if state:
        stmt = stmt.where(col(Visit.state).in_(state))
    if nurse_id is not None:
        stmt = stmt.where(Visit.nurse_id == nurse_id)
    visits = list(session.exec(stmt.order_by(Visit.window_start, Visit.id).offset(offset).limit(limit)))
    if visits:
        audit.record(session, principal, action="list", data="visit", client_ids=[v.client_id for v in visits],
                     reason="visit list")
    return visits


@router.get("/{visit_id}", response_model=VisitOut)
def read_visit(visit_id: VisitId, session: SessionDep, principal: CurrentPrincipal) -> Visit:
    visit = _get(session, principal, visit_id)
    audit.record(session, principal, action="read", data="visit", client_ids=[visit.client_id],
                 reason=f"visit {visit.id}")
    return visit


@router.post("/{visit_id}/assign", response_model=VisitOut)
def assign_visit(visit_id: VisitId, body: AssignIn, request: Request, session: SessionDep,
                 principal: Operators) -> Visit:
    """Assign (and lock) a visit to a nurse by hand, or release it to the planner; the night is re-planned."""
    visit = _get(session, principal, visit_id)
    if visit.state not in ("open", "assigned"):
        raise Conflict(f"visit {visit.id} is {visit.state}; only open or assigned visits move", field="visit_id")
    if body.nurse_id is not None:
        nurse = session.get(Nurse, body.nurse_id)
        if nurse is None or not nurse.active:
            raise Invalid(f"no active nurse {body.nurse_id}", field="nurse_id")
        missing = sorted(set(visit.skills) - set(nurse.skills))
        if missing:
            raise Conflict(f"{nurse.name} lacks the skills {', '.join(missing)}", field="nurse_id")
    before = visit.nurse_id
    visit.nurse_id = body.nurse_id
    visit.state = "assigned" if body.nurse_id else "open"
    visit.locked = bool(body.nurse_id) and body.lock
    session.add(visit)
    follow_call(session, visit)
    outbox.assignment_changed(session, visit, before=before, reason=f"moved by operator {principal.username}")
    session.flush()
    audit.record(session, principal, action="update", data="visit.assignment", client_ids=[visit.client_id],
                 reason=f"visit {visit.id}")
    request_replan(request, session, f"operator {principal.username} assigned visit {visit.id}")
    return visit
