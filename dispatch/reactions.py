"""How the flows react to what the domains record (dispatch/events.py). The app wires this per engine.

    a call closed              → its visits end, in every state (the nurse is told by the next line)
    a visit changed            → the nurses' phones (outbox, in the same transaction), the board, a re-plan
    a call changed, an alert   → the board
    the night changed          → a re-plan (a shift, a nurse's position or availability)

The re-plan is asked for after the commit, and never by the planner's own changes.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dispatch import events
from dispatch.auth.service import SYSTEM
from dispatch.calls.lifecycle import TERMINAL_STATES, CallState
from dispatch.calls.models import Call
from dispatch.events import AlertRaised, CallChanged, NightChanged, Reactions, VisitChanged
from dispatch.responders import outbox
from dispatch.responders.hub import board_after_commit
from dispatch.visits import service as visits
from dispatch.visits.models import Visit


def _close_visits(session: Session, event: CallChanged) -> None:
    if CallState(event.to_state) in TERMINAL_STATES and event.from_state != event.to_state:
        why = f"call {event.call_id} {event.to_state}" + (f": {event.reason}" if event.reason else "")
        visits.close_for_call(session, event.by or SYSTEM, event.call_id, reason=why)


def _board_call(session: Session, event: CallChanged) -> None:
    call = session.get(Call, event.call_id)
    assert call is not None
    board_after_commit(session, "call.changed", call_id=call.id, state=call.state, from_state=event.from_state,
                       reason=event.reason, client_id=call.client_id, organisation_id=call.organisation_id)


def _board_visit(session: Session, event: VisitChanged) -> None:
    visit = session.get(Visit, event.visit_id)
    assert visit is not None
    board_after_commit(session, "visit.changed", visit_id=visit.id, call_id=visit.call_id, state=visit.state,
                       action=event.action, nurse_id=visit.nurse_id, nurse_before=event.nurse_before,
                       urgency=visit.urgency, locked=visit.locked,
                       eta=visit.eta.isoformat() if visit.eta else None, reason=event.reason)


def _board_alert(session: Session, event: AlertRaised) -> None:
    board_after_commit(session, "alert", alert_id=event.alert_id, kind_of_alert=event.kind, message=event.message,
                       visit_id=event.visit_id, nurse_id=event.nurse_id)


def wire(engine: Engine, *, replan: Callable[[str], None] | None = None) -> Reactions:
    reactions = Reactions()
    reactions.on(CallChanged, during=_close_visits)
    reactions.on(CallChanged, during=_board_call)
    reactions.on(VisitChanged, during=outbox.visit_changed)
    reactions.on(VisitChanged, during=_board_visit)
    reactions.on(AlertRaised, during=_board_alert)
    if replan is not None:
        def visit_replan(event: VisitChanged) -> None:
            if not event.by_planner:
                replan(f"visit {event.visit_id} {event.action}" + (f": {event.reason}" if event.reason else ""))

        reactions.on(VisitChanged, after=visit_replan)
        reactions.on(NightChanged, after=lambda event: replan(event.reason))
    events.wire(engine, reactions)
    return reactions
