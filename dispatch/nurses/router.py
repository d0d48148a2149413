from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field, model_validator
from sqlmodel import select

from dispatch.auth.deps import Coordinators, require
from dispatch.auth.models import Role
from dispatch.db import SessionDep
from dispatch.errors import Invalid
from dispatch.nurses.models import Nurse, Shift
from dispatch.validation import Name, Phone, Skill

router = APIRouter(prefix="/api", tags=["nurses"])
NightStaff = require(Role.operator, Role.coordinator, Role.nurse)


class NurseIn(BaseModel):
    name: Name
    phone: Phone
    skills: list[Skill] = Field(default_factory=list, max_length=20)


class NurseOut(BaseModel):
    id: int
    name: str
    phone: str
    skills: list[str]
    active: bool


class ShiftIn(BaseModel):
    nurse_id: int = Field(ge=1, le=2**31 - 1)
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _order(self) -> "ShiftIn":
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if (self.ends_at - self.starts_at).total_seconds() > 16 * 3600:
            raise ValueError("a shift lasts at most 16 hours")
        return self


class ShiftOut(BaseModel):
    id: int
    nurse_id: int
    starts_at: datetime
    ends_at: datetime
    state: str


@router.get("/nurses", response_model=list[NurseOut])
def list_nurses(session: SessionDep, principal: NightStaff) -> list[Nurse]:
    stmt = select(Nurse).order_by(Nurse.name)
    if principal.role == Role.nurse:
        stmt = stmt.where(Nurse.id == principal.nurse_id)
    return list(session.exec(stmt))


@router.post("/nurses", response_model=NurseOut, status_code=201)
def create_nurse(body: NurseIn, session: SessionDep, principal: Coordinators) -> Nurse:
    nurse = Nurse(name=body.name, phone=body.phone, skills=sorted(set(body.skills)))
    session.add(nurse)
    session.flush()
    return nurse


@router.get("/shifts", response_model=list[ShiftOut])
def list_shifts(
    session: SessionDep,
    principal: NightStaff,
    start: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to")] = None,
) -> list[Shift]:
    stmt = select(Shift).order_by(Shift.starts_at, Shift.id)
    if principal.role == Role.nurse:
        stmt = stmt.where(Shift.nurse_id == principal.nurse_id)
    if start is not None:
        stmt = stmt.where(Shift.ends_at > start)
    if end is not None:
        stmt = stmt.where(Shift.starts_at < end)
    return list(session.exec(stmt.limit(500)))


@router.post("/shifts", response_model=ShiftOut, status_code=201)
def create_shift(body: ShiftIn, session: SessionDep, principal: Coordinators) -> Shift:
    if session.get(Nurse, body.nurse_id) is None:
        raise Invalid(f"no nurse {body.nurse_id}", field="nurse_id")
    overlapping = session.exec(select(Shift).where(
        Shift.nurse_id == body.nurse_id, Shift.starts_at < body.ends_at, Shift.ends_at > body.starts_at)).first()
    if overlapping:
        raise Invalid(f"overlaps shift {overlapping.id} of this nurse", field="starts_at")
    shift = Shift(nurse_id=body.nurse_id, starts_at=body.starts_at, ends_at=body.ends_at)
    session.add(shift)
    session.flush()
    return shift
