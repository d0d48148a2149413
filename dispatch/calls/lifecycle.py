"""The life of a call (docs/calls.md): states and the transitions allowed between them."""
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


# Once a nurse is sent, these states follow the call's visit (dispatch/visits/service.py moves them): nobody
# moves a call into them by hand, and a call on scene is completed by its visit's completion.
VISIT_DRIVEN = frozenset({S.assigned, S.accepted, S.en_route, S.on_scene})
DISPATCH_TRACK = frozenset({S.escalated, S.queued, *VISIT_DRIVEN, S.completed})


def path(start: CallState, goal: CallState) -> list[CallState]:
    """The shortest way from `start` to `goal` along the dispatch track (the call following its visit), not
    counting `start`; [] when already there or when there is no such way."""
    if start == goal or start not in DISPATCH_TRACK:
        return []
    previous: dict[CallState, CallState] = {}
    frontier = [start]
    while frontier:
        following: list[CallState] = []
        for state in frontier:
            for nxt in TRANSITIONS.get(state, ()):
                # (escalated is a place to start from, never a way through: 112 is not called to move a visit)
                if nxt in DISPATCH_TRACK and nxt != S.escalated and nxt not in previous and nxt != start:
                    previous[nxt] = state
                    following.append(nxt)
        frontier = following
    if goal not in previous:
        return []
    steps = [goal]
    while previous[steps[-1]] != start:
        steps.append(previous[steps[-1]])
    return steps[::-1]
