from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, select

from dispatch.alerts.service import raise_alert
from dispatch.apidoc import refused
from dispatch.auth.deps import Coordinators, roles
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.db import SessionDep
from dispatch.errors import Conflict, Forbidden, Invalid, NotFound
from dispatch.nightbag.models import BagCheck, BagItem
from dispatch.nightbag.service import check_flags, remember_dates, restock
from dispatch.nurses.models import Nurse, Shift
from dispatch.timeutil import utcnow
from dispatch.validation import Moment, Name

router = APIRouter(prefix="/api", tags=["night bag"])
NightStaff = Annotated[Principal, roles(Role.operator, Role.coordinator, Role.nurse)]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


class ItemIn(BaseModel):
    name: Name
    kind: Literal["material", "device"] = "material"
    quantity: int = Field(default=1, ge=1, le=1000)
    active: bool = True


class ItemOut(ItemIn):
    id: int
    calibration_due: date | None = Field(default=None, description="devices: the next calibration date known "
                                                                    "from the last bag check or a coordinator")
    expires_on: date | None = Field(default=None, description="the expiry date known from the last bag check or "
                                                              "a coordinator")


class ItemDatesIn(BaseModel):
    """A coordinator records the dates of an item in the bag (after the calibration round, a new batch); `null`
    forgets a date. Fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")
    calibration_due: date | None = Field(default=None, description="devices only")
    expires_on: date | None = None


class CountIn(BaseModel):
    item_id: int = Field(ge=1, le=2**31 - 1)
    quantity: int = Field(ge=0, le=1000)
    expires_on: date | None = None
    calibration_due: date | None = Field(default=None, description="devices: next calibration date")


class CheckIn(BaseModel):
    items: list[CountIn] = Field(max_length=200)


class CheckOut(BaseModel):
    id: int
    shift_id: int
    nurse_id: int
    at: datetime
    flags: list[dict]
    complete: bool


@router.get("/nightbag/items", response_model=list[ItemOut])
def list_items(session: SessionDep, principal: NightStaff) -> list[BagItem]:
    return list(session.exec(select(BagItem).where(BagItem.active).order_by(BagItem.kind, BagItem.name)))


@router.post("/nightbag/items", response_model=ItemOut, status_code=201)
def add_item(body: ItemIn, session: SessionDep, principal: Coordinators) -> BagItem:
    if session.exec(select(BagItem).where(BagItem.name == body.name)).first():
        raise Conflict(f"the night bag already has {body.name}", field="name")
    item = BagItem(**body.model_dump())
    session.add(item)
    session.flush()
    return item


@router.put("/nightbag/items/{item_id}", response_model=ItemOut)
def update_item(item_id: Id, body: ItemIn, session: SessionDep, principal: Coordinators) -> BagItem:
    item = session.get(BagItem, item_id)
    if item is None:
        raise NotFound(f"no night-bag item {item_id}", field="item_id")
    for key, value in body.model_dump().items():
        setattr(item, key, value)
    session.add(item)
    return item


@router.patch("/nightbag/items/{item_id}", response_model=ItemOut, responses=refused(
    422, "`calibration_due` on an item that is not a device (the item's kind is in the database)"))
def set_item_dates(item_id: Id, body: ItemDatesIn, session: SessionDep, principal: Coordinators) -> BagItem:
    """Set the calibration or expiry date the next bag check starts from."""
    item = session.get(BagItem, item_id)
    if item is None:
        raise NotFound(f"no night-bag item {item_id}", field="item_id")
    given = body.model_dump(exclude_unset=True)
    if given.get("calibration_due") is not None and item.kind != "device":
        raise Invalid(f"{item.name} is not a device: it has no calibration date", field="calibration_due")
    for key, value in given.items():
        setattr(item, key, value)
    session.add(item)
    return item


@router.post("/shifts/{shift_id}/start", response_model=CheckOut, status_code=201)
def start_shift(shift_id: Id, body: CheckIn, session: SessionDep, principal: NightStaff) -> CheckOut:
    """Start a shift with the night-bag check. Problems do not stop the shift (there is no shop open at 23:00):
    they are flagged to the nurse and the operators and go on the morning's restock list."""
    shift = session.get(Shift, shift_id)
    if shift is None or (principal.role == Role.nurse and shift.nurse_id != principal.nurse_id):
        raise NotFound(f"no shift {shift_id}" + (" of yours" if principal.role == Role.nurse else ""),
                       field="shift_id")
    if principal.role == Role.operator:
        raise Forbidden("the nurse starts her own shift with the bag check", field="shift_id")
    if shift.state == "ended":
        raise Conflict(f"shift {shift_id} has ended", field="shift_id")
    template = list(session.exec(select(BagItem).where(BagItem.active)))
    counted = remember_dates({i.id: i for i in template if i.id is not None}, body.items)
    flags = check_flags(template, counted, utcnow().date())
    assert shift.id is not None  # a stored shift
    check = BagCheck(shift_id=shift.id, nurse_id=shift.nurse_id, items=[c.model_dump(mode="json") for c in body.items],
                     flags=flags)
    shift.state = "started"
    session.add(check)
    session.add(shift)
    session.flush()
    if flags:
        nurse = session.get(Nurse, shift.nurse_id)
        raise_alert(session, kind="bag_problem", nurse_id=shift.nurse_id,
                    message=f"{nurse.name if nurse else 'nurse ' + str(shift.nurse_id)}'s night bag: "
                            + "; ".join(f"{f['name']} {f['problem']}" for f in flags))
    return CheckOut(id=check.id, shift_id=shift.id, nurse_id=shift.nurse_id, at=check.at, flags=flags,
                    complete=not flags)


@router.get("/shifts/{shift_id}/checks", response_model=list[CheckOut])
def shift_checks(shift_id: Id, session: SessionDep, principal: NightStaff) -> list[CheckOut]:
    stmt = select(BagCheck).where(BagCheck.shift_id == shift_id)
    if principal.role == Role.nurse:
        stmt = stmt.where(BagCheck.nurse_id == principal.nurse_id)
    return [CheckOut(id=c.id, shift_id=c.shift_id, nurse_id=c.nurse_id, at=c.at, flags=c.flags, complete=not c.flags)
            for c in session.exec(stmt.order_by(col(BagCheck.id)))]


@router.get("/nightbag/restock")
def restock_list(session: SessionDep, principal: NightStaff,
                 since: Annotated[Moment | None, Query(description="default: the last 16 hours")] = None
                 ) -> dict:
    """The morning's restock list: materials used and what the shift checks found missing or expired."""
    since = since or utcnow() - timedelta(hours=16)
    return {"since": since, "items": restock(session, since)}
