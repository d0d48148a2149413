"""What a nurse does with a job on her phone: accept, decline, en route, on scene, complete; reveal the
key-safe code. The visit's call follows each step (its lifecycle is the operators' view)."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field, field_validator
from sqlmodel import Session, select

from dispatch.assignment.router import request_replan
from dispatch.audit import service as audit
from dispatch.auth.deps import require
from dispatch.auth.models import Role
from dispatch.auth.service import SYSTEM, Principal
from dispatch.calls import service as calls
from dispatch.calls.lifecycle import CallState
from dispatch.calls.models import Call
from dispatch.clients.models import Client
from dispatch.db import SessionDep
from dispatch.errors import Conflict, Forbidden, NotFound
from dispatch.nightbag.service import record_materials
from dispatch.responders import outbox
from dispatch.responders.hub import board_after_commit
from dispatch.responders.models import VisitDecline
from dispatch.timeutil import utcnow
from dispatch.validation import LongText, ShortText
from dispatch.visits.models import Visit

router = APIRouter(prefix="/api/visits", tags=["responders"])
VisitId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Nurses = require(Role.nurse)
KEYSAFE_STATES = ("accepted", "en_route", "on_scene")
NEXT = {"accepted": ("assigned",), "en_route": ("accepted",), "on_scene": ("accepted", "en_route"),
        "completed": ("on_scene",)}


class DeclineIn(BaseModel):
    reason: ShortText = Field(description="why (the operators see it); the job goes to another nurse")

    @field_validator("reason")
    @classmethod
    def _given(cls, value: str) -> str:
        if len(value.strip()) < 3:
            raise ValueError("a decline needs a reason (at least 3 characters)")
        return value.strip()


class MaterialIn(BaseModel):
    item_id: int = Field(ge=1, le=2**31 - 1)
    quantity: int = Field(ge=1, le=1000)


class ProgressIn(BaseModel):
    state: Literal["en_route", "on_scene", "completed"]
    handover_note: LongText = Field(default="", description="for the client's day team (on completion)")
    materials: list[MaterialIn] = Field(default_factory=list, max_length=50)


class JobOut(BaseModel):
    visit_id: int
    state: str
    nurse_id: int | None


class KeysafeOut(BaseModel):
    visit_id: int
    code: str


def _own_visit(session: Session, principal: Principal, visit_id: int, *, action: str) -> Visit:
    visit = session.exec(select(Visit).where(Visit.id == visit_id).with_for_update()).first()
    if visit is None or visit.nurse_id != principal.nurse_id:
        exc = NotFound(f"no visit {visit_id} of yours", field="visit_id")
        if visit is not None:  # someone else's job: refused, and audited as such
            raise audit.refused(exc, principal, action=action, data="visit", client_id=visit.client_id,
                                reason=f"visit {visit_id} is not assigned to this nurse")
        raise exc
    return visit


def advance(session: Session, principal: Principal, visit: Visit, to: str, *, reason: str = "") -> None:
    if visit.state not in NEXT[to]:
        raise Conflict(f"visit {visit.id} is {visit.state}; it can go to {to} only from "
                       f"{' or '.join(NEXT[to])}", field="state", state=visit.state)
    visit.state = to
    now = utcnow()
    if to == "accepted":
        visit.accepted_at = now
    elif to == "on_scene":
        visit.on_scene_at = now
    elif to == "completed":
        visit.completed_at = now
    session.add(visit)
    if visit.call_id is not None:
        call = session.get(Call, visit.call_id)
        if call is not None and call.state != to:
            if to == "on_scene" and call.state == CallState.accepted.value:  # skipped "en route" on the phone
                calls.transition(session, principal, call, CallState.en_route, reason=reason)
            calls.transition(session, principal, call, CallState(to), reason=reason)
    board_after_commit(session, "visit.changed", visit_id=visit.id, state=to, nurse_id=visit.nurse_id)


@router.post("/{visit_id}/accept", response_model=JobOut)
def accept(visit_id: VisitId, request: Request, session: SessionDep, principal: Nurses) -> JobOut:
    """The nurse takes the job: it stays hers when the night is re-planned."""
    visit = _own_visit(session, principal, visit_id, action="accept")
    advance(session, principal, visit, "accepted", reason="accepted on the phone")
    request_replan(request, session, f"nurse {principal.nurse_id} accepted visit {visit.id}")
    return JobOut(visit_id=visit.id, state=visit.state, nurse_id=visit.nurse_id)


def release(session: Session, visit: Visit, *, reason: str, by: str) -> None:
    """Take a job back from its nurse (she declined, or did not answer): never offered to her again."""
    nurse_id = visit.nurse_id
    assert nurse_id is not None
    session.add(VisitDecline(visit_id=visit.id, nurse_id=nurse_id, reason=reason, by=by))
    visit.nurse_id, visit.state, visit.locked, visit.offered_at, visit.sms_at = None, "open", False, None, None
    session.add(visit)
    if visit.call_id is not None:
        call = session.get(Call, visit.call_id)
        if call is not None and call.state in (CallState.assigned.value, CallState.accepted.value):
            calls.transition(session, SYSTEM, call, CallState.queued, reason=f"nurse {nurse_id}: {reason}")
    outbox.assignment_changed(session, visit, before=nurse_id, reason=reason)
    board_after_commit(session, "visit.changed", visit_id=visit.id, state="open", nurse_id=None, released=reason)


@router.post("/{visit_id}/decline", response_model=JobOut)
def decline(visit_id: VisitId, body: DeclineIn, request: Request, session: SessionDep, principal: Nurses) -> JobOut:
    """The nurse cannot take the job (with a reason): it is re-planned to another nurse."""
    visit = _own_visit(session, principal, visit_id, action="decline")
    if visit.state not in ("assigned", "accepted"):
        raise Conflict(f"visit {visit.id} is {visit.state}; only a job not yet under way can be declined",
                       field="visit_id", state=visit.state)
    release(session, visit, reason=body.reason, by=principal.username)
    request_replan(request, session, f"nurse {principal.nurse_id} declined visit {visit.id}: {body.reason}")
    return JobOut(visit_id=visit.id, state=visit.state, nurse_id=None)


@router.post("/{visit_id}/progress", response_model=JobOut)
def progress(visit_id: VisitId, body: ProgressIn, request: Request, session: SessionDep, principal: Nurses) -> JobOut:
    """En route, on scene, completed (with the handover note for the day team and the materials used)."""
    visit = _own_visit(session, principal, visit_id, action="update")
    advance(session, principal, visit, body.state)
    if body.state == "completed":
        visit.handover_note = body.handover_note
        record_materials(session, principal, visit, [(m.item_id, m.quantity) for m in body.materials])
        audit.record(session, principal, action="update", data="visit.handover", client_ids=[visit.client_id],
                     reason=f"visit {visit.id}")
    request_replan(request, session, f"visit {visit.id} {body.state}")
    return JobOut(visit_id=visit.id, state=visit.state, nurse_id=visit.nurse_id)


@router.post("/{visit_id}/keysafe", response_model=KeysafeOut)
def reveal_keysafe(visit_id: VisitId, request: Request, response: Response, session: SessionDep,
                   principal: Nurses) -> KeysafeOut:
    """The key-safe code, for the nurse assigned to an accepted, open job at this client, while it is open.
    Every reveal and every refused attempt is audited; the code appears in no other response or log."""
    visit = _own_visit(session, principal, visit_id, action="reveal")
    client = session.get(Client, visit.client_id)
    assert client is not None
    if visit.state not in KEYSAFE_STATES:
        why = "accept the job first" if visit.state == "assigned" else f"the job is {visit.state}"
        raise audit.refused(Forbidden(f"the key-safe code is shown only on an accepted, open job: {why}",
                                      field="visit_id"),
                            principal, action="reveal", data="keysafe", client_id=client.id,
                            reason=f"visit {visit.id} is {visit.state}")
    if client.keysafe_code_encrypted is None:
        raise NotFound("this client has no key safe registered", field="visit_id")
    code = request.app.state.cipher.decrypt(client.keysafe_code_encrypted)
    audit.record(session, principal, action="reveal", data="keysafe", client_ids=[client.id],
                 reason=f"visit {visit.id}")
    response.headers["Cache-Control"] = "no-store"
    return KeysafeOut(visit_id=visit.id, code=code)
