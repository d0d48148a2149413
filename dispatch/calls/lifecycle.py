"""The life of a call (DESIGN.md): states and the transitions allowed between them."""
from __future__ import annotations

from enum import StrEnum


class CallState(StrEnum):
    received = "received"
    triaging = "triaging"
    triaged = "triaged"
    advice = "advice"
    deferred_to_day = "deferred_to_day"
    escalated = "escalated"
    queued = "queued"
    assigned = "assigned"
    accepted = "accepted"
    en_route = "en_route"
    on_scene = "on_scene"
    completed = "completed"
    cancelled = "cancelled"


S = CallState
# advice, deferred_to_day, completed and cancelled close the call.
TERMINAL_STATES = frozenset({S.advice, S.deferred_to_day, S.completed, S.cancelled})
OPEN_STATES = tuple(s.value for s in S if s not in TERMINAL_STATES)

TRANSITIONS: dict[CallState, tuple[CallState, ...]] = {
    S.received: (S.triaging,),
    S.triaging: (S.triaged,),
    # Outcome of triage; re-triage goes back to triaging.
    S.triaged: (S.advice, S.deferred_to_day, S.escalated, S.queued, S.triaging),
    # 112 has been called; the nurse may also be sent, or 112 took over and the call is closed.
    S.escalated: (S.queued, S.completed),
    S.queued: (S.assigned, S.triaging, S.escalated),
    S.assigned: (S.accepted, S.queued, S.escalated),
    S.accepted: (S.en_route, S.queued, S.escalated),
    S.en_route: (S.on_scene, S.queued, S.escalated),
    S.on_scene: (S.completed, S.escalated),
}


def allowed_from(state: CallState) -> tuple[CallState, ...]:
    """Every state reachable in one step; `cancelled` from any open state."""
    if state in TERMINAL_STATES:
        return ()
    return (*TRANSITIONS.get(state, ()), S.cancelled)


# What a nurse may do to a call whose visit is hers; everything else is the operators' work.
NURSE_TRANSITIONS = frozenset({S.accepted, S.en_route, S.on_scene, S.completed, S.queued})
