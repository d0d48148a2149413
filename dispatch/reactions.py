"""How the flows react to what the domains record (dispatch/events.py). The app wires this per engine.

    a call closed              → its visits end, in every state (the nurse is told by the next line)
    a visit changed            → the nurses' phones (outbox, in the same transaction), the board, a re-plan
    a call changed, an alert,
    a nurse moved              → the board, with the rows it shows (dispatch/board/rows.py)
    the night changed          → a re-plan (a shift, a nurse's position or availability)

The re-plan is asked for after the commit, and never by the planner's own changes.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dispatch import events
from dispatch.alerts.models import Alert
from dispatch.audit import service as audit
from dispatch.auth.models import Team
from dispatch.auth.service import SYSTEM
from dispatch.board import rows
from dispatch.calls.lifecycle import TERMINAL_STATES, CallState
from dispatch.calls.models import Call
from dispatch.events import (
    AlertChanged,
    CallChanged,
    NightChanged,
    Reactions,
    VisitChanged,
)
from dispatch.responders import outbox
from dispatch.responders.hub import board_after_commit
from dispatch.timeutil import utcnow
from dispatch.visits import service as visits
from dispatch.visits.models import Visit


def _close_visits(session: Session, event: CallChanged) -> None:
    if CallState(event.to_state) in TERMINAL_STATES and event.from_state != event.to_state:
        why = f"call {event.call_id} {event.to_state}" + (f": {event.reason}" if event.reason else "")
        visits.close_for_call(session, event.by or SYSTEM, event.call_id, reason=why)


def _audience(call: Call | None, *, team_changed: bool = False) -> str:
    """Calls with the backup triage team are on its board too (and a call handed back leaves it); everything else
    is the region's own."""
    return "all" if team_changed or (call is not None and call.team == Team.backup.value) else "regional"


def _call_row(session: Session, call_id: int | None) -> tuple[Call | None, dict | None]:
    call = session.get(Call, call_id) if call_id is not None else None
    return call, (rows.call_rows(session, [call], utcnow())[0] if call is not None else None)


def _board_call(session: Session, event: CallChanged) -> None:
    call, row = _call_row(session, event.call_id)
    assert call is not None
    board_after_commit(session, "call.changed", audience=_audience(call, team_changed=event.team_changed), call=row,
                       from_state=event.from_state,
                       reason=event.reason)
    if call.client_id is not None:  # the client's name went to the operators' screens
        audit.record(session, SYSTEM, action="push", data="board.call", client_ids=[call.client_id],
                     reason=f"call {call.id} on the operators' board", on_behalf_of="operators")


def _board_visit(session: Session, event: VisitChanged) -> None:
    visit = session.get(Visit, event.visit_id)
    assert visit is not None
    _, call_row = _call_row(session, visit.call_id)
    board_after_commit(session, "visit.changed", audience="regional", action=event.action,
                       nurse_before=event.nurse_before, reason=event.reason,
                       visit=rows.visit_rows(session, [visit])[0], call=call_row)


def _board_nurse(session: Session, event: NightChanged) -> None:
    if event.nurse_id is not None:
        board_after_commit(session, "nurse.changed", audience="regional",
                           nurse=rows.nurse_rows(session, utcnow(), nurse_ids=[event.nurse_id])[0])


def _board_alert(session: Session, event: AlertChanged) -> None:
    alert = session.get(Alert, event.alert_id)
    assert alert is not None
    board_after_commit(session, "alert", audience="regional", alert=rows.alert_rows([alert])[0])


def wire(engine: Engine, *, replan: Callable[[str], None] | None = None) -> Reactions:
    reactions = Reactions()
    reactions.on(CallChanged, during=_close_visits)
    reactions.on(CallChanged, during=_board_call)
    reactions.on(VisitChanged, during=outbox.visit_changed)
    reactions.on(VisitChanged, during=_board_visit)
    reactions.on(NightChanged, during=_board_nurse)
    reactions.on(AlertChanged, during=_board_alert)
    if replan is not None:
        def visit_replan(event: VisitChanged) -> None:
            if not event.by_planner:
                replan(f"visit {event.visit_id} {event.action}" + (f": {event.reason}" if event.reason else ""))

        reactions.on(VisitChanged, after=visit_replan)
        reactions.on(NightChanged, after=lambda event: replan(event.reason))
    events.wire(engine, reactions)
    return reactions
