"""Visits over HTTP: planned visits in, the night's visits out, and every move of a visit — an operator's
(assign, release, lock, unlock, cancel) and the nurse's (accept, decline, en route, on scene, complete). Each is
one call into dispatch/visits/service.py."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from sqlmodel import Session, col, select

from dispatch.apidoc import NOT_FOUND, link, refused, responses
from dispatch.audit import service as audit
from dispatch.auth.deps import CurrentPrincipal, Operators, roles
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.clients.access import visible_client
from dispatch.db import SessionDep
from dispatch.errors import Conflict
from dispatch.nightbag.models import BagItem, MaterialUse
from dispatch.nightbag.service import record_materials
from dispatch.validation import Moment, StateName
from dispatch.visits import service
from dispatch.visits.lifecycle import Move
from dispatch.visits.models import Visit
from dispatch.visits.observations import observations_of
from dispatch.visits.schemas import (
    AssignIn,
    MaterialUsed,
    OptionalReasonIn,
    PlannedVisitIn,
    ProgressIn,
    ReasonIn,
    VisitDetail,
    VisitEventOut,
    VisitOut,
)

router = APIRouter(prefix="/api/visits", tags=["visits"])
VisitId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Planners = Annotated[Principal, roles(Role.coordinator, Role.partner)]
Nurses = Annotated[Principal, roles(Role.nurse)]
PROGRESS = {"en_route": Move.en_route, "on_scene": Move.on_scene, "completed": Move.complete}

# Where a visit's id goes next (OpenAPI links): the operators' moves, and the nurse's (as her own login).
_ID = "$response.body#/id"
VISIT_LINKS = {name: link("POST", f"/api/visits/{{visit_id}}/{move}", description, visit_id=_ID)
               for name, move, description in (
                   ("Assign", "assign", "give it to a nurse"), ("Lock", "lock", "keep it with its nurse"),
                   ("Unlock", "unlock", "let the planner move it"), ("Release", "release", "back to the planner"),
                   ("Cancel", "cancel", "cancel it"), ("Accept", "accept", "the nurse takes it"),
                   ("Progress", "progress", "en route, on scene, completed"))}
VISIT_LINKS["ReadVisit"] = link("GET", "/api/visits/{visit_id}", "the visit and its history", visit_id=_ID)
_MOVE = responses(NOT_FOUND, refused(409, "the move is not allowed from the visit's state (see allowed_actions)"))


def visit_out(visit: Visit, principal: Principal) -> VisitOut:
    return VisitOut(**visit.model_dump(include=set(VisitOut.model_fields) - {"allowed_actions", "actions_after"}),
                    allowed_actions=service.actions(visit, principal),
                    actions_after=service.actions_next(visit, principal))


def _detail(session: Session, visit: Visit, principal: Principal) -> VisitDetail:
    assert visit.id is not None
    used = session.exec(select(MaterialUse, BagItem).join(BagItem, col(BagItem.id) == MaterialUse.item_id)
                        .where(MaterialUse.visit_id == visit.id).order_by(col(MaterialUse.id))).all()
    return VisitDetail(
        **visit_out(visit, principal).model_dump(),
        **visit.model_dump(include={"accepted_at", "on_scene_at", "completed_at", "handover_note"}),
        materials=[MaterialUsed(item_id=u.item_id, name=i.name, quantity=u.quantity, recorded_by=u.recorded_by,
                                at=u.at) for u, i in used],
        observations=observations_of(session, visit.id),
        events=[VisitEventOut.model_validate(e, from_attributes=True) for e in service.history(session, visit.id)])


@router.post("", response_model=VisitOut, status_code=201, responses=responses(
    {201: {"description": "the visit, registered", "links": VISIT_LINKS},
     200: {"model": VisitOut, "description": "a retry with the same external_ref: the visit already exists",
           "links": VISIT_LINKS}},
    NOT_FOUND, refused(422, "`window_end` must be after `window_start`, at most two days later (a rule between "
                            "two fields, which JSON Schema cannot state)")))
def create_planned_visit(body: PlannedVisitIn, response: Response, session: SessionDep,
                         principal: Planners) -> VisitOut:
    """Register a planned night visit (e.g. turning, medication round, catheter care) with its window."""
    client = visible_client(session, principal, body.client_id, data="visit").client
    if body.external_ref:
        existing = session.exec(select(Visit).where(Visit.organisation_id == client.organisation_id,
                                                    Visit.external_ref == body.external_ref)).first()
        if existing is not None:
            response.status_code = 200
            return visit_out(existing, principal)
    assert client.id is not None  # a stored client
    visit = Visit(kind="planned", client_id=client.id, organisation_id=client.organisation_id,
                  **body.model_dump(exclude={"client_id"}))
    service.create(session, principal, visit, reason="planned visit registered")
    return visit_out(visit, principal)


@router.get("", response_model=list[VisitOut])
def list_visits(
    session: SessionDep,
    principal: CurrentPrincipal,
    start: Annotated[Moment | None, Query(alias="from", description="windows ending after this")] = None,
    end: Annotated[Moment | None, Query(alias="to", description="windows starting before this")] = None,
    state: Annotated[list[StateName] | None, Query()] = None,
    nurse_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
) -> list[VisitOut]:
    stmt = service.readable(principal)
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
    return [visit_out(v, principal) for v in visits]


@router.get("/{visit_id}", response_model=VisitDetail, responses=NOT_FOUND)
def read_visit(visit_id: VisitId, session: SessionDep, principal: CurrentPrincipal) -> VisitDetail:
    """The visit with its history and what the nurse recorded (handover note, materials, observations)."""
    visit = service.get(session, principal, visit_id)
    audit.record(session, principal, action="read", data="visit.record", client_ids=[visit.client_id],
                 reason=f"visit {visit.id}")
    return _detail(session, visit, principal)


# -- the operators' moves -------------------------------------------------------------------------------------

@router.post("/{visit_id}/assign", response_model=VisitOut, responses=responses(
    _MOVE, refused(422, "`nurse_id` names no active nurse")))
def assign_visit(visit_id: VisitId, body: AssignIn, session: SessionDep, principal: Operators) -> VisitOut:
    """Give the visit to a nurse by hand: it sticks through re-plans (locked) until released or unlocked, and
    the nurse is offered it on her phone. `nurse_id: null` hands it back to the planner."""
    visit = service.get(session, principal, visit_id, lock=True)
    if body.nurse_id is None:
        service.move(session, principal, visit, Move.release, reason=f"released by {principal.username}")
    else:
        service.move(session, principal, visit, Move.assign, nurse_id=body.nurse_id,
                     reason=f"assigned by {principal.username}")
    return visit_out(visit, principal)


def _operator_move(session: Session, principal: Principal, visit_id: int, how: Move, reason: str) -> VisitOut:
    visit = service.get(session, principal, visit_id, lock=True)
    service.move(session, principal, visit, how, reason=reason)
    return visit_out(visit, principal)


@router.post("/{visit_id}/release", response_model=VisitOut, responses=_MOVE)
def release_visit(visit_id: VisitId, body: OptionalReasonIn, session: SessionDep, principal: Operators) -> VisitOut:
    """Hand the visit back to the planner: its nurse is told, and it may go to anyone."""
    return _operator_move(session, principal, visit_id, Move.release, body.reason)


@router.post("/{visit_id}/lock", response_model=VisitOut, responses=_MOVE)
def lock_visit(visit_id: VisitId, body: OptionalReasonIn, session: SessionDep, principal: Operators) -> VisitOut:
    """Keep the visit with its nurse through re-plans."""
    return _operator_move(session, principal, visit_id, Move.lock, body.reason)


@router.post("/{visit_id}/unlock", response_model=VisitOut, responses=_MOVE)
def unlock_visit(visit_id: VisitId, body: OptionalReasonIn, session: SessionDep, principal: Operators) -> VisitOut:
    """Let the planner move the visit again."""
    return _operator_move(session, principal, visit_id, Move.unlock, body.reason)


@router.post("/{visit_id}/cancel", response_model=VisitOut, responses=_MOVE)
def cancel_visit(visit_id: VisitId, body: ReasonIn, session: SessionDep, principal: Operators) -> VisitOut:
    """Cancel the visit, with a reason: its nurse is told, and its call (if any) is cancelled with it."""
    return _operator_move(session, principal, visit_id, Move.cancel, body.reason)


# -- the nurse's moves ----------------------------------------------------------------------------------------

@router.post("/{visit_id}/accept", response_model=VisitOut, responses=_MOVE)
def accept(visit_id: VisitId, session: SessionDep, principal: Nurses) -> VisitOut:
    """The nurse takes the job: it stays hers when the night is re-planned."""
    visit = service.get_own(session, principal, visit_id, action="accept")
    service.move(session, principal, visit, Move.accept, reason="accepted on the phone")
    return visit_out(visit, principal)


@router.post("/{visit_id}/decline", response_model=VisitOut, responses=_MOVE)
def decline(visit_id: VisitId, body: ReasonIn, session: SessionDep, principal: Nurses) -> VisitOut:
    """The nurse cannot take the job (with a reason): it goes to another nurse and is never offered to her again."""
    visit = service.get_own(session, principal, visit_id, action="decline")
    service.move(session, principal, visit, Move.decline, reason=body.reason)
    return visit_out(visit, principal)


@router.post("/{visit_id}/progress", response_model=VisitOut, responses=_MOVE)
def progress(visit_id: VisitId, body: ProgressIn, session: SessionDep, principal: Nurses) -> VisitOut:
    """En route, on scene, completed (with the handover note for the day team and the materials used)."""
    visit = service.get_own(session, principal, visit_id, action="update")
    if body.state != "completed" and (body.handover_note or body.materials):
        raise Conflict("a handover note and materials are given when the visit is completed", field="state")
    if body.state == "completed":
        record_materials(session, principal, visit, [(m.item_id, m.quantity) for m in body.materials])
    service.move(session, principal, visit, PROGRESS[body.state],
                 handover_note=body.handover_note if body.state == "completed" else None)
    return visit_out(visit, principal)

