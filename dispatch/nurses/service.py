"""Nurses and their shifts: who is on duty now, and which shift a nurse is starting or working."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from dispatch.nurses.models import Nurse, Shift

# A nurse on a shift starting within this is planned for already (she is on her way to the first job).
ON_DUTY_LEAD = timedelta(minutes=15)


def on_duty(session: Session, now: datetime) -> list[tuple[Nurse, Shift]]:
    """Nurses working now (or within a quarter of an hour), available, with the shift they are on."""
    return list(session.exec(select(Nurse, Shift).join(Shift, col(Shift.nurse_id) == Nurse.id).where(
        Shift.starts_at <= now + ON_DUTY_LEAD, Shift.ends_at > now, Nurse.active, Nurse.available)))


def current_or_next_shift(session: Session, nurse_id: int, now: datetime) -> Shift | None:
    """The shift she is working now, or else her next one."""
    return session.exec(select(Shift).where(Shift.nurse_id == nurse_id, Shift.ends_at > now, Shift.state != "ended")
                        .order_by(col(Shift.starts_at)).limit(1)).first()


def bag_check_due(shift: Shift, now: datetime, lead: timedelta) -> bool:
    """The bag is checked when the shift starts: from `lead` before it until it ends, once."""
    return shift.state == "planned" and shift.starts_at - lead <= now < shift.ends_at
