"""Observations a nurse records on a visit, scored with NEWS2."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from dispatch.audit import service as audit
from dispatch.auth.deps import roles
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.db import SessionDep
from dispatch.errors import Conflict
from dispatch.visits import service as visits
from dispatch.visits.models import Observation
from protocols.news2 import Consciousness, Observations, Risk, score

router = APIRouter(prefix="/api/visits/{visit_id}/observations", tags=["visits"])
VisitId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Recorders = Annotated[Principal, roles(Role.nurse, Role.coordinator)]
Readers = Annotated[Principal, roles(Role.nurse, Role.coordinator, Role.operator, Role.partner)]


class ObservationIn(BaseModel):
    respiration_rate: int = Field(ge=0, le=80, description="breaths per minute")
    spo2: int = Field(ge=50, le=100, description="%")
    spo2_scale: int = Field(default=1, ge=1, le=2, description="2 for hypercapnic respiratory failure (target 88-92%)")
    on_oxygen: bool = False
    systolic_bp: int = Field(ge=40, le=300, description="mmHg")
    pulse: int = Field(ge=20, le=250, description="beats per minute")
    consciousness: Consciousness
    temperature: float = Field(ge=30.0, le=44.0, description="°C")


class ObservationOut(ObservationIn):
    id: int
    recorded_at: datetime
    recorded_by: str
    news2_total: int
    news2_risk: str
    news2_parameters: dict[str, int]
    clinical_response: str
    call_112: bool = Field(description="the response is an emergency: call 112 now (NEWS2 high)")
    urgent: bool = Field(description="the response is urgent (a single red score, NEWS2 medium or high)")


def _out(obs: Observation) -> dict[str, Any]:
    result = score(Observations(**obs.model_dump(include=set(ObservationIn.model_fields))))
    return {**obs.model_dump(), "news2_parameters": result.parameters, "clinical_response": result.response,
            "call_112": result.risk == Risk.high, "urgent": result.risk != Risk.low}


def observations_of(session: Session, visit_id: int) -> list[dict[str, Any]]:
    return [_out(o) for o in session.exec(select(Observation).where(Observation.visit_id == visit_id)
                                          .order_by(col(Observation.id)))]


@router.post("", response_model=ObservationOut, status_code=201)
def record(visit_id: VisitId, body: ObservationIn, session: SessionDep, principal: Recorders) -> dict[str, Any]:
    """Record observations; the answer carries the NEWS2 score and the clinical response it calls for."""
    visit = visits.get(session, principal, visit_id)
    if principal.role == Role.nurse and "observations" not in visits.actions(visit, principal):
        raise Conflict(f"visit {visit.id} is {visit.state}: observations are recorded on scene", field="visit_id",
                       state=visit.state)
    result = score(Observations(**body.model_dump()))
    assert visit.id is not None  # a stored visit
    obs = Observation(visit_id=visit.id, recorded_by=principal.username, **body.model_dump(),
                      news2_total=result.total, news2_risk=result.risk.value)
    session.add(obs)
    session.flush()
    audit.record(session, principal, action="create", data="observations", client_ids=[visit.client_id],
                 reason=f"visit {visit.id}")
    return _out(obs)


@router.get("", response_model=list[ObservationOut])
def list_observations(visit_id: VisitId, session: SessionDep, principal: Readers) -> list[dict[str, Any]]:
    visit = visits.get(session, principal, visit_id)
    audit.record(session, principal, action="read", data="observations", client_ids=[visit.client_id],
                 reason=f"visit {visit.id}")
    return observations_of(session, visit_id)
