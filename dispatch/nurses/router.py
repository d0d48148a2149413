from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlmodel import col, select

from dispatch.apidoc import NOT_FOUND, link, links, refused, responses
from dispatch.auth.deps import Coordinators, roles
from dispatch.auth.models import Role, Team
from dispatch.auth.service import Principal
from dispatch.db import SessionDep
from dispatch.errors import Conflict, Forbidden, Invalid, NotFound
from dispatch.events import NightChanged, publish
from dispatch.nurses.models import Nurse, Shift
from dispatch.nurses.service import bag_check_due, current_or_next_shift
from dispatch.timeutil import utcnow
from dispatch.validation import Moment, Name, Phone, ShortText, Skill

router = APIRouter(prefix="/api", tags=["nurses"])
# (the backup team: see _not_backup)
NightStaff = Annotated[Principal, roles(Role.operator, Role.coordinator, Role.nurse)]
Nurses = Annotated[Principal, roles(Role.nurse)]
NurseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
_SHIFT_RULES = ("`ends_at` must be after `starts_at`, and a shift lasts at most 16 hours (rules between two fields, "
                "which JSON Schema cannot state)")
_OVERLAP = refused(409, "the shift overlaps another shift of the nurse")
NURSE_LINKS = {
    "ReportPosition": link("POST", "/api/nurses/{nurse_id}/position", "where she is", nurse_id="$response.body#/id"),
    "SetAvailability": link("POST", "/api/nurses/{nurse_id}/availability", "(un)available",
                            nurse_id="$response.body#/id"),
}
SHIFT_LINKS = {"ChangeShift": link("PATCH", "/api/shifts/{shift_id}", "move its start or end",
                                   shift_id="$response.body#/id")}


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
    available: bool
    lat: float | None
    lon: float | None
    position_at: datetime | None


class PositionIn(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class AvailabilityIn(BaseModel):
    available: bool
    reason: ShortText = ""


class ShiftIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"description": f"A nurse's shift: {_SHIFT_RULES}."})

    nurse_id: int = Field(ge=1, le=2**31 - 1)
    starts_at: Moment
    ends_at: Moment

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, ends_at: datetime, info: ValidationInfo) -> datetime:
        """Named on ends_at (a model validator's error names no field)."""
        starts_at = info.data.get("starts_at")
        if starts_at is not None and ends_at <= starts_at:
            raise ValueError("ends_at must be after starts_at")
        if starts_at is not None and (ends_at - starts_at).total_seconds() > 16 * 3600:
            raise ValueError("a shift lasts at most 16 hours")
        return ends_at


class ShiftPatch(BaseModel):
    model_config = ConfigDict(json_schema_extra={"description": f"A new start or end; with the one kept, "
                                                                f"{_SHIFT_RULES}."})

    starts_at: Moment | None = None
    ends_at: Moment | None = None


class ShiftOut(BaseModel):
    id: int
    nurse_id: int
    starts_at: datetime
    ends_at: datetime
    state: str


class MyShiftOut(BaseModel):
    id: int
    starts_at: datetime
    ends_at: datetime
    state: str
    bag_check_due: bool = Field(description="the bag check is due: the shift starts soon (or has begun) and the "
                                            "bag has not been checked")


class MeNurseOut(BaseModel):
    """What the nurse's phone needs to start: who she is, her shift, and the service's own time and zone (the
    phone's clock may be off; decisions are the service's)."""

    nurse: NurseOut
    shift: MyShiftOut | None = Field(description="the shift she is working, or else her next one")
    now: datetime
    timezone: str


@router.get("/nurses/me", response_model=MeNurseOut)
def my_day(request: Request, session: SessionDep, principal: Nurses) -> MeNurseOut:
    if principal.nurse_id is None:
        raise Forbidden("this login is not linked to a nurse", field="nurse_id")
    settings = request.app.state.settings
    nurse, now = _nurse(session, principal.nurse_id), utcnow()
    shift = current_or_next_shift(session, nurse.id, now)  # type: ignore[arg-type]
    return MeNurseOut(
        nurse=NurseOut.model_validate(nurse, from_attributes=True), now=now, timezone=settings.region_timezone,
        shift=None if shift is None else MyShiftOut(
            **shift.model_dump(include={"id", "starts_at", "ends_at", "state"}),
            bag_check_due=bag_check_due(shift, now, timedelta(minutes=settings.bag_check_lead_minutes))))


@router.get("/nurses", response_model=list[NurseOut])
def list_nurses(session: SessionDep, principal: NightStaff) -> list[Nurse]:
    _not_backup(principal)
    stmt = select(Nurse).order_by(Nurse.name)
    if principal.role == Role.nurse:
        stmt = stmt.where(Nurse.id == principal.nurse_id)
    return list(session.exec(stmt))


@router.post("/nurses", response_model=NurseOut, status_code=201,
             responses=links(201, "the nurse", **NURSE_LINKS))
def create_nurse(body: NurseIn, session: SessionDep, principal: Coordinators) -> Nurse:
    nurse = Nurse(name=body.name, phone=body.phone, skills=sorted(set(body.skills)))
    session.add(nurse)
    session.flush()
    return nurse


def _not_backup(principal) -> None:
    if principal.team == Team.backup:
        raise Forbidden("the nurses are the regional team's to follow", field=None)


def _own_or_operator(principal, nurse_id: int) -> None:
    _not_backup(principal)
    if principal.role == Role.nurse and principal.nurse_id != nurse_id:
        raise Forbidden("a nurse reports only her own position and availability", field="nurse_id")


@router.post("/nurses/{nurse_id}/position", response_model=NurseOut, responses=NOT_FOUND)
def report_position(nurse_id: NurseId, body: PositionIn, session: SessionDep, principal: NightStaff) -> Nurse:
    """The nurse's phone reports where she is; open work is re-planned from there."""
    _own_or_operator(principal, nurse_id)
    nurse = _nurse(session, nurse_id)
    nurse.lat, nurse.lon, nurse.position_at = body.lat, body.lon, utcnow()
    session.add(nurse)
    publish(session, NightChanged(f"position nurse {nurse_id}", nurse_id=nurse_id))
    return nurse


@router.post("/nurses/{nurse_id}/availability", response_model=NurseOut, responses=NOT_FOUND)
def set_availability(nurse_id: NurseId, body: AvailabilityIn, session: SessionDep, principal: NightStaff) -> Nurse:
    """Mark a nurse (un)available; her work that is not yet accepted moves to the others."""
    _own_or_operator(principal, nurse_id)
    nurse = _nurse(session, nurse_id)
    nurse.available = body.available
    session.add(nurse)
    publish(session, NightChanged(f"nurse {nurse_id} {'available' if body.available else 'unavailable'}"
                                  + (f": {body.reason}" if body.reason else ""), nurse_id=nurse_id))
    return nurse


def _nurse(session, nurse_id: int) -> Nurse:
    nurse = session.get(Nurse, nurse_id)
    if nurse is None:
        raise NotFound(f"no nurse {nurse_id}", field="nurse_id")
    return nurse


@router.get("/shifts", response_model=list[ShiftOut])
def list_shifts(
    session: SessionDep,
    principal: NightStaff,
    start: Annotated[Moment | None, Query(alias="from")] = None,
    end: Annotated[Moment | None, Query(alias="to")] = None,
) -> list[Shift]:
    stmt = select(Shift).order_by(col(Shift.starts_at), col(Shift.id))
    if principal.role == Role.nurse:
        stmt = stmt.where(Shift.nurse_id == principal.nurse_id)
    if start is not None:
        stmt = stmt.where(Shift.ends_at > start)
    if end is not None:
        stmt = stmt.where(Shift.starts_at < end)
    return list(session.exec(stmt.limit(500)))


def _check_no_overlap(session, nurse_id: int, starts_at, ends_at, *, other_than: int | None = None) -> None:
    stmt = select(Shift).where(Shift.nurse_id == nurse_id, Shift.starts_at < ends_at, Shift.ends_at > starts_at)
    if other_than is not None:
        stmt = stmt.where(Shift.id != other_than)
    overlapping = session.exec(stmt).first()
    if overlapping:
        raise Conflict(f"overlaps shift {overlapping.id} of this nurse", field="starts_at")


@router.post("/shifts", response_model=ShiftOut, status_code=201, responses=responses(
    links(201, "the shift, planned", **SHIFT_LINKS), _OVERLAP,
    refused(422, _SHIFT_RULES + "; or `nurse_id` names no nurse")))
def create_shift(body: ShiftIn, session: SessionDep, principal: Coordinators) -> Shift:
    """Plan a shift; the night is re-planned (a nurse on duty now takes work at once)."""
    if session.get(Nurse, body.nurse_id) is None:
        raise Invalid(f"no nurse {body.nurse_id}", field="nurse_id")
    _check_no_overlap(session, body.nurse_id, body.starts_at, body.ends_at)
    shift = Shift(nurse_id=body.nurse_id, starts_at=body.starts_at, ends_at=body.ends_at)
    session.add(shift)
    session.flush()
    publish(session, NightChanged(f"shift {shift.id} of nurse {shift.nurse_id} planned", nurse_id=shift.nurse_id))
    return shift


@router.patch("/shifts/{shift_id}", response_model=ShiftOut, responses=responses(
    NOT_FOUND, refused(409, "the shift has ended, or would overlap another shift of the nurse"),
    refused(422, _SHIFT_RULES)))
def change_shift(shift_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: ShiftPatch, session: SessionDep,
                 principal: Coordinators) -> Shift:
    """Move a shift's start or end (a nurse comes in later, stays longer); the night is re-planned."""
    shift = session.exec(select(Shift).where(Shift.id == shift_id).with_for_update()).first()
    if shift is None:
        raise NotFound(f"no shift {shift_id}", field="shift_id")
    if shift.state == "ended":
        raise Conflict(f"shift {shift_id} has ended", field="shift_id")
    starts_at = body.starts_at or shift.starts_at
    ends_at = body.ends_at or shift.ends_at
    if ends_at <= starts_at:
        raise Invalid("ends_at must be after starts_at", field="ends_at")
    if (ends_at - starts_at).total_seconds() > 16 * 3600:
        raise Invalid("a shift lasts at most 16 hours", field="ends_at")
    _check_no_overlap(session, shift.nurse_id, starts_at, ends_at, other_than=shift.id)
    shift.starts_at, shift.ends_at = starts_at, ends_at
    session.add(shift)
    session.flush()
    publish(session, NightChanged(f"shift {shift.id} of nurse {shift.nurse_id} changed", nurse_id=shift.nurse_id))
    return shift
