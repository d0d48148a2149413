"""Overflow to the backup triage team: the coordinator sends every new call there until a moment (a peak, a
calamity); otherwise calls go to the region's own operators, who hand single calls over (calls.service.hand_over)."""
from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter
from sqlmodel import Session, col, select

from dispatch.apidoc import refused
from dispatch.auth.deps import Coordinators, Operators
from dispatch.auth.models import Team
from dispatch.auth.service import Principal
from dispatch.calls.models import Overflow
from dispatch.calls.schemas import OverflowIn, OverflowOut
from dispatch.db import SessionDep
from dispatch.errors import Invalid
from dispatch.timeutil import utcnow


def current(session: Session) -> Overflow | None:
    return session.exec(select(Overflow).order_by(col(Overflow.id).desc()).limit(1)).first()


def backup_until(session: Session, now: datetime | None = None) -> datetime | None:
    """Until when new calls go to the backup team (None: they do not)."""
    state = current(session)
    now = now or utcnow()
    if state is None or state.backup_until is None or state.backup_until <= now:
        return None
    return state.backup_until


def team_for_new_call(session: Session) -> Team:
    return Team.backup if backup_until(session) is not None else Team.regional


def set_backup(session: Session, principal: Principal, *, until: datetime | None, reason: str) -> Overflow:
    """Send new calls to the backup team until `until` (None: stop now). Kept as a history of decisions."""
    state = Overflow(backup_until=until, reason=reason, set_by=principal.username)
    session.add(state)
    session.flush()
    return state


router = APIRouter(prefix="/api/overflow", tags=["calls"])


def _out(state: Overflow | None, now: datetime) -> OverflowOut:
    active = state is not None and state.backup_until is not None and state.backup_until > now
    return OverflowOut(backup_until=state.backup_until if active else None,  # type: ignore[union-attr]
                       reason=state.reason if active else "", set_by=state.set_by if state else None,  # type: ignore[union-attr]
                       set_at=state.set_at if state else None)


@router.get("", response_model=OverflowOut)
def read_overflow(session: SessionDep, principal: Operators) -> OverflowOut:
    """Whether new calls go to the backup triage team, and until when."""
    return _out(current(session), utcnow())


@router.put("", response_model=OverflowOut, responses=refused(
    422, "`backup_until` lies in the past or more than 24 hours ahead (a rule about the service's clock)"))
def set_overflow(body: OverflowIn, session: SessionDep, principal: Coordinators) -> OverflowOut:
    """Send every new call to the backup triage team until a moment (a calamity, a peak), or stop (null)."""
    if body.backup_until is not None and body.backup_until <= utcnow():
        raise Invalid("backup_until lies in the past", field="backup_until")
    if body.backup_until is not None and body.backup_until > utcnow() + timedelta(hours=24):
        raise Invalid("overflow is set for at most 24 hours at a time", field="backup_until")
    return _out(set_backup(session, principal, until=body.backup_until, reason=body.reason), utcnow())
