"""A job's brief for the nurse going there: the client's wishes and risks first, then what the caller said (what the
operator wrote down about the call, and the triage answers, question → answer) and what the caller was told (the
advice, as read: message, steps, safety net).

Scoped like the client's record (dispatch/clients/access.py): the assigned nurse while the job is hers and open
(for a job that came from a call, while the call is open too), an operator for a job from an open call, a
coordinator (regional administration). Without the client's consent to share with the night team, her wishes and
risks are left out (`restricted`), as in her record. Every read and refusal is audited, with the visit as reason.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from dispatch.audit import service as audit
from dispatch.auth.deps import roles
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.calls.models import Call
from dispatch.clients.access import Access, nurse_has_job, visible_client
from dispatch.clients.models import Client
from dispatch.db import SessionDep
from dispatch.errors import Forbidden, NotFound
from dispatch.triage.models import Triage
from dispatch.visits import service as visits
from dispatch.visits.lifecycle import OPEN_STATES
from dispatch.visits.models import Visit

router = APIRouter(prefix="/api/visits/{visit_id}/brief", tags=["visits"])
VisitId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Readers = Annotated[Principal, roles(Role.nurse, Role.operator, Role.coordinator)]
DATA = "visit.brief"
STEP = re.compile(r"^\d+\.\s+")


class AnswerOut(BaseModel):
    question: str
    answer: str


class AdviceOut(BaseModel):
    message: str
    steps: list[str]
    safety_net: str
    text: str = Field(description="the whole text read to the caller")


class TriageBriefOut(BaseModel):
    call_id: int
    complaint: str
    urgency: str
    disposition: str
    decided_at: datetime
    answers: list[AnswerOut]
    signals: list[str]
    advice: AdviceOut


class BriefOut(BaseModel):
    visit_id: int
    client_id: int
    restricted: bool = Field(description="the client has not consented to share her record with the night team: "
                                         "wishes and risks are not shown")
    wishes: list[str] = Field(description="e.g. do_not_resuscitate, do_not_hospitalise")
    risks: list[str] = Field(description="e.g. anticoagulated, falls_risk")
    call_text: str | None = Field(description="what the operator wrote down about the job's call, as in the console "
                                              "and the handover (none: a planned visit; empty: nothing written)")
    triage: TriageBriefOut | None = Field(description="the decided triage of the job's call (none: a planned visit)")


def split_advice(text: str) -> AdviceOut:
    """The advice as it was read (protocols/advice.py: message, numbered steps, safety net) back into its parts."""
    lines = [line for line in text.splitlines() if line.strip()]
    steps = [STEP.sub("", line) for line in lines if STEP.match(line)]
    rest = [line for line in lines if not STEP.match(line)]
    message = rest[0] if rest else ""
    return AdviceOut(message=message, steps=steps, safety_net=" ".join(rest[1:]), text=text)


def _access(session: Session, principal: Principal, visit_id: int) -> tuple[Visit, Access]:
    if principal.role == Role.nurse:
        visit = session.get(Visit, visit_id)
        if visit is None or principal.nurse_id is None or visit.nurse_id != principal.nurse_id:
            exc = NotFound(f"no visit {visit_id} of yours", field="visit_id")
            if visit is None:
                raise exc
            raise audit.refused(exc, principal, action="read", data=DATA, client_id=visit.client_id,
                                reason=f"visit {visit_id} is not assigned to this nurse")
        if visit.state not in OPEN_STATES or not nurse_has_job(session, principal, visit.client_id,
                                                               call_id=visit.call_id):
            raise audit.refused(Forbidden(f"visit {visit_id} is {visit.state}: the brief is there while the job "
                                          "is open", field="visit_id"), principal, action="read", data=DATA,
                                client_id=visit.client_id, reason=f"visit {visit_id} is no longer open")
        client = session.get(Client, visit.client_id)
        assert client is not None
        return visit, Access(client, f"visit {visit.id}", full=client.consent_night_team)
    visit = visits.get(session, principal, visit_id)
    if principal.role == Role.operator and visit.call_id is None:
        raise audit.refused(Forbidden(f"visit {visit_id} came from no call: operators read a client for a call",
                                      field="visit_id"), principal, action="read", data=DATA,
                            client_id=visit.client_id, reason=f"visit {visit_id} has no call")
    call_id = visit.call_id if principal.role == Role.operator else None
    return visit, visible_client(session, principal, visit.client_id, call_id=call_id, data=DATA)


def _call_text(session: Session, call_id: int | None) -> str | None:
    call = session.get(Call, call_id) if call_id is not None else None
    return None if call is None else call.text


def _triage(session: Session, call_id: int | None) -> TriageBriefOut | None:
    if call_id is None:
        return None
    decided = session.exec(select(Triage).where(Triage.call_id == call_id).order_by(col(Triage.id).desc())).first()
    if decided is None:
        return None
    trace = decided.computed.get("trace", [])
    return TriageBriefOut(
        call_id=call_id, complaint=decided.complaint, urgency=decided.final_urgency,
        disposition=decided.final_disposition, decided_at=decided.decided_at,
        answers=[AnswerOut(question=t["question"], answer=t.get("label") or t.get("answer", ""))
                 for t in trace if t.get("question")],
        signals=list(decided.signals), advice=split_advice(decided.advice_given))


def brief_for(session: Session, principal: Principal, *, visit_id: int) -> BriefOut:
    visit, access = _access(session, principal, visit_id)
    client = access.client
    audit.record(session, principal, action="read", data=DATA, client_ids=[client.id],
                 reason=f"visit {visit.id}" + ("" if access.reason.startswith("visit") else f" ({access.reason})"),
                 break_glass=access.break_glass)
    assert visit.id is not None and client.id is not None
    return BriefOut(visit_id=visit.id, client_id=client.id, restricted=not access.full,
                    wishes=list(client.wishes) if access.full else [],
                    risks=list(client.risks) if access.full else [], call_text=_call_text(session, visit.call_id),
                    triage=_triage(session, visit.call_id))


@router.get("", response_model=BriefOut)
def read_brief(visit_id: VisitId, session: SessionDep,
               principal: Readers) -> BriefOut:
    """What the nurse needs before she rings the bell: the client's wishes and risks, what the caller said (the
    call's text and the triage answers) and what the caller was told. For the assigned nurse while the job is
    open, an operator (a job from an open call) and a coordinator; audited as a read of the client's data for
    this visit."""
    return brief_for(session, principal, visit_id=visit_id)
