"""Every move of a visit, in one place: lock the row, check the move, change the visit, bring its call along,
record the event, audit, and publish what happened — the nurse's phone, the operators' board and the re-plan
react to it (dispatch/reactions.py). The phone app, an SMS reply, an operator, the escalation and the planner
all come through here, so none of them can do half of it.
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from dispatch.audit import service as audit
from dispatch.auth.models import Role, Team
from dispatch.auth.service import SYSTEM, Principal
from dispatch.calls import service as calls
from dispatch.calls.lifecycle import OPEN_STATES as CALL_OPEN
from dispatch.calls.lifecycle import CallState
from dispatch.calls.models import Call
from dispatch.clients.models import Client
from dispatch.errors import Conflict, Invalid, NotFound
from dispatch.events import VisitChanged, publish
from dispatch.nurses.models import Nurse
from dispatch.timeutil import utcnow
from dispatch.visits.lifecycle import (
    OPEN_STATES,
    OPERATOR_MOVES,
    Move,
    VisitState,
    actions_after,
    allowed,
    allowed_actions,
    target,
)
from dispatch.visits.models import Visit, VisitDecline, VisitEvent

# The call's state for each state of its visit.
CALL_FOLLOWS = {VisitState.open: CallState.queued, VisitState.assigned: CallState.assigned,
                VisitState.accepted: CallState.accepted, VisitState.en_route: CallState.en_route,
                VisitState.on_scene: CallState.on_scene, VisitState.completed: CallState.completed,
                VisitState.cancelled: CallState.cancelled}
ETA_NEWS_S = 60  # a planned arrival that moves less than this is not news


def readable(principal: Principal):
    """The visits this person may see: a partner her organisation's, a nurse her own, the backup triage team
    those of the calls handed to it, the region's night staff all."""
    stmt = select(Visit)
    if principal.role == Role.partner:
        stmt = stmt.where(Visit.organisation_id == principal.organisation_id)
    elif principal.role == Role.nurse:
        stmt = stmt.where(Visit.nurse_id == principal.nurse_id)
    elif principal.role == Role.operator and principal.team == Team.backup:
        stmt = stmt.where(col(Visit.call_id).in_(select(Call.id).where(calls.visible_calls_filter(principal))))
    return stmt


def get(session: Session, principal: Principal, visit_id: int, *, lock: bool = False) -> Visit:
    """A visit in this person's scope (out of scope reads as not found: ids cannot be probed)."""
    stmt = readable(principal).where(Visit.id == visit_id)
    if lock:
        stmt = stmt.with_for_update()
    visit = session.exec(stmt.execution_options(populate_existing=True)).first()
    if visit is None:
        raise NotFound(f"no visit {visit_id}" + (" of yours" if principal.role == Role.nurse else ""),
                       field="visit_id")
    return visit


def get_own(session: Session, principal: Principal, visit_id: int, *, action: str) -> Visit:
    """The nurse's own visit, locked for a move; another nurse's visit is refused as not found, and audited."""
    visit = session.exec(select(Visit).where(Visit.id == visit_id).with_for_update()
                         .execution_options(populate_existing=True)).first()
    if visit is None or principal.nurse_id is None or visit.nurse_id != principal.nurse_id:
        exc = NotFound(f"no visit {visit_id} of yours", field="visit_id")
        if visit is not None:
            raise audit.refused(exc, principal, action=action, data="visit", client_id=visit.client_id,
                                reason=f"visit {visit_id} is not assigned to this nurse")
        raise exc
    return visit


def actions(visit: Visit, principal: Principal) -> list[str]:
    return allowed_actions(VisitState(visit.state), principal.role, own=_own(visit, principal), locked=visit.locked)


def actions_next(visit: Visit, principal: Principal) -> dict[str, dict]:
    return actions_after(VisitState(visit.state), principal.role, own=_own(visit, principal), locked=visit.locked)


def _own(visit: Visit, principal: Principal) -> bool:
    return principal.nurse_id is not None and visit.nurse_id == principal.nurse_id


def create(session: Session, principal: Principal, visit: Visit, *, reason: str) -> Visit:
    """A new visit (planned, or acute from a triaged call) enters the night: it is open and the planner takes it."""
    visit.state = VisitState.open.value
    session.add(visit)
    session.flush()
    _record(session, principal, visit, "create", None, None, reason)
    return visit


def update_acute(session: Session, principal: Principal, visit: Visit, *, reason: str) -> Visit:
    """A re-triaged call changed its visit's urgency, deadline, skills or time needed: the plan takes it up."""
    session.add(visit)
    session.flush()
    _record(session, principal, visit, "update", VisitState(visit.state), visit.nurse_id, reason)
    return visit


def move(session: Session, principal: Principal, visit: Visit, how: Move, *, nurse_id: int | None = None,
         reason: str = "", by_planner: bool = False, handover_note: str | None = None) -> Visit:
    """Make one move of the visit's life (see lifecycle.py), or refuse it with 409 naming what is allowed now.
    The caller has locked the row (`get(..., lock=True)`), or is the planner, which locks what it moves."""
    state = VisitState(visit.state)
    if not allowed(how, state, locked=visit.locked):
        now_allowed = actions(visit, principal)
        raise Conflict(f"visit {visit.id} is {state.value}; it cannot {how.value.replace('_', ' ')} now"
                       + (f" (allowed: {', '.join(now_allowed)})" if now_allowed else ""),
                       field="visit_id", state=state.value, allowed_actions=now_allowed)
    nurse_before = visit.nurse_id
    now = utcnow()
    if how in (Move.offer, Move.assign):
        nurse = _nurse_for(session, visit, nurse_id)
        if how == Move.assign and nurse.id == visit.nurse_id and state != VisitState.assigned:
            visit.locked = True  # hers already and under way: the operator keeps it with her
        else:
            visit.nurse_id, visit.state = nurse.id, VisitState.assigned.value
            if nurse.id != nurse_before or state == VisitState.open:
                visit.offered_at, visit.sms_at = now, None
            visit.locked = how == Move.assign
    elif how in (Move.withdraw, Move.release, Move.decline, Move.unanswered):
        if how in (Move.decline, Move.unanswered):
            assert nurse_before is not None and visit.id is not None
            session.add(VisitDecline(visit_id=visit.id, nurse_id=nurse_before, kind="declined" if how == Move.decline
                                     else "unanswered", reason=reason[:500], by=principal.username))
        visit.nurse_id, visit.state, visit.locked = None, VisitState.open.value, False
        visit.offered_at = visit.sms_at = visit.eta = None
    elif how in (Move.lock, Move.unlock):
        visit.locked = how == Move.lock
    elif how == Move.cancel:
        if not reason.strip():
            raise Invalid("cancelling a visit needs a reason", field="reason")
        visit.state = VisitState.cancelled.value
    else:
        visit.state = target(how, state).value
        if how == Move.accept:
            visit.accepted_at = now
        elif how == Move.on_scene:
            visit.on_scene_at = now
        elif how == Move.complete:
            visit.completed_at = now
            if handover_note is not None:
                visit.handover_note = handover_note
    session.add(visit)
    session.flush()
    _follow_call(session, principal if not by_planner else SYSTEM, visit, how, nurse_before, reason)
    _record(session, principal, visit, how.value, state, nurse_before, reason, by_planner=by_planner)
    return visit


def replanned(session: Session, visit: Visit, *, eta: datetime | None, decision_id: int) -> None:
    """The planner's new arrival time for a visit that keeps its nurse; news when it moved enough."""
    eta_before, visit.eta, visit.decision_id = visit.eta, eta, decision_id
    session.add(visit)
    moved = (eta is None) != (eta_before is None) or (
        eta is not None and eta_before is not None and abs((eta - eta_before).total_seconds()) >= ETA_NEWS_S)
    if moved and visit.nurse_id is not None:
        assert visit.id is not None
        publish(session, VisitChanged(visit_id=visit.id, action="eta", from_state=visit.state, to_state=visit.state,
                                      nurse_before=visit.nurse_id, nurse_id=visit.nurse_id, by_planner=True,
                                      eta_before=eta_before))


def close_for_call(session: Session, principal: Principal, call_id: int, *, reason: str) -> list[Visit]:
    """The call was closed (cancelled, completed by 112, advice after a re-triage): its visits end in every
    state, and a nurse on her way is told."""
    closed = []
    for visit in session.exec(select(Visit).where(Visit.call_id == call_id, col(Visit.state).in_(OPEN_STATES))
                              .with_for_update()):
        closed.append(move(session, principal, visit, Move.cancel, reason=reason))
    return closed


def open_visit_of_call(session: Session, call_id: int) -> Visit | None:
    return session.exec(select(Visit).where(Visit.call_id == call_id, col(Visit.state).in_(OPEN_STATES))
                        .order_by(col(Visit.id).desc()).with_for_update()).first()


def rebind_client(session: Session, principal: Principal, call: Call, client: Client) -> None:
    """The operator corrected the call's client before a nurse was sent: its waiting visit goes to the right
    address."""
    visit = open_visit_of_call(session, call.id)  # type: ignore[arg-type]
    if visit is None or visit.client_id == client.id:
        return
    if visit.state != VisitState.open.value:
        raise Conflict(f"visit {visit.id} is already {visit.state}; cancel it to change its client", field="client_id")
    visit.client_id, visit.organisation_id = client.id, client.organisation_id  # type: ignore[assignment]
    update_acute(session, principal, visit, reason=f"client corrected to {client.id}")


def _nurse_for(session: Session, visit: Visit, nurse_id: int | None) -> Nurse:
    nurse = session.get(Nurse, nurse_id) if nurse_id is not None else None
    if nurse is None or not nurse.active:
        raise Invalid(f"no active nurse {nurse_id}", field="nurse_id")
    missing = sorted(set(visit.skills) - set(nurse.skills))
    if missing:
        raise Conflict(f"{nurse.name} lacks the skills {', '.join(missing)}", field="nurse_id")
    return nurse


def _follow_call(session: Session, principal: Principal, visit: Visit, how: Move, nurse_before: int | None,
                 reason: str) -> None:
    if visit.call_id is None:
        return
    call = session.get(Call, visit.call_id)
    assert call is not None
    why = reason or _describe(how, visit, nurse_before)
    moved = calls.follow(session, principal, call, CALL_FOLLOWS[VisitState(visit.state)], reason=why)
    if not moved and how in OPERATOR_MOVES and call.state in CALL_OPEN:  # a hand-made change is in its history
        calls.note(session, principal, call, f"visit {visit.id}: {_describe(how, visit, nurse_before)}"
                   + (f" ({reason})" if reason else ""))


def _describe(how: Move, visit: Visit, nurse_before: int | None) -> str:
    if how in (Move.offer, Move.assign) and visit.nurse_id != nurse_before:
        return (f"{'assigned by hand' if how == Move.assign else 'planned'} for nurse {visit.nurse_id}"
                + (f" (was nurse {nurse_before})" if nurse_before else ""))
    if how == Move.withdraw:
        return "re-planned: no nurse can take it now"
    return f"{how.value.replace('_', ' ')}" + (f" (nurse {visit.nurse_id or nurse_before})"
                                                 if (visit.nurse_id or nurse_before) else "")


def _record(session: Session, principal: Principal, visit: Visit, how: str, state: VisitState | None,
            nurse_before: int | None, reason: str, *, by_planner: bool = False) -> None:
    assert visit.id is not None
    session.add(VisitEvent(visit_id=visit.id, actor_user_id=principal.user_id, actor=principal.username,
                           actor_role=principal.role.value, move=how, from_state=state.value if state else None,
                           to_state=visit.state, nurse_before=nurse_before, nurse_id=visit.nurse_id,
                           reason=reason[:1000]))
    if not by_planner:
        audit.record(session, principal, action=f"visit.{how}", data="visit", client_ids=[visit.client_id],
                     reason=f"visit {visit.id}" + (f": {reason}" if reason else ""))
    publish(session, VisitChanged(visit_id=visit.id, action=how, from_state=state.value if state else None,
                                  to_state=visit.state, nurse_before=nurse_before, nurse_id=visit.nurse_id,
                                  reason=reason, by_planner=by_planner))


def history(session: Session, visit_id: int) -> list[VisitEvent]:
    return list(session.exec(select(VisitEvent).where(VisitEvent.visit_id == visit_id).order_by(col(VisitEvent.id))))
