"""The life of a visit: its states, the moves between them, and who may make which move.

    open → assigned (offered to her phone) → accepted → en_route → on_scene → completed
    cancelled from any state before completed; assigned/accepted/en_route → open when she declines, does not
    answer, or an operator hands the visit back to the planner.

Planned night visits and acute visits from calls share it. `dispatch/visits/service.py` performs every move.
"""
from __future__ import annotations

from enum import StrEnum

from dispatch.auth.models import Role


class VisitState(StrEnum):
    open = "open"
    assigned = "assigned"
    accepted = "accepted"
    en_route = "en_route"
    on_scene = "on_scene"
    completed = "completed"
    cancelled = "cancelled"


class Move(StrEnum):
    offer = "offer"  # the planner gives it to a nurse (or to another one)
    withdraw = "withdraw"  # the planner takes it back: nobody can take it now
    assign = "assign"  # an operator gives it to a nurse by hand: it sticks (locked)
    release = "release"  # an operator hands it back to the planner
    lock = "lock"  # an operator keeps it with its nurse through re-plans
    unlock = "unlock"  # the planner may move it again
    accept = "accept"
    decline = "decline"  # she cannot take it: never offered to her again
    unanswered = "unanswered"  # no answer in time: offered to another nurse if one can take it
    en_route = "en_route"
    on_scene = "on_scene"
    complete = "complete"
    cancel = "cancel"


S = VisitState
TERMINAL = frozenset({S.completed, S.cancelled})
OPEN_STATES = tuple(s.value for s in S if s not in TERMINAL)
# Hers and under way: the planner keeps it with her; the key-safe code and the client record are hers to open.
UNDER_WAY = frozenset({S.accepted, S.en_route, S.on_scene})
UNDER_WAY_STATES = tuple(s.value for s in UNDER_WAY)

# move → (the states it may start from, the state it leads to; None: the state stays)
MOVES: dict[Move, tuple[frozenset[VisitState], VisitState | None]] = {
    Move.offer: (frozenset({S.open, S.assigned}), S.assigned),
    Move.withdraw: (frozenset({S.assigned}), S.open),
    Move.assign: (frozenset({S.open, S.assigned, S.accepted, S.en_route}), S.assigned),
    Move.release: (frozenset({S.assigned, S.accepted, S.en_route}), S.open),
    Move.lock: (frozenset({S.assigned, S.accepted, S.en_route, S.on_scene}), None),
    Move.unlock: (frozenset({S.assigned, S.accepted, S.en_route, S.on_scene}), None),
    Move.accept: (frozenset({S.assigned}), S.accepted),
    Move.decline: (frozenset({S.assigned, S.accepted}), S.open),
    Move.unanswered: (frozenset({S.assigned}), S.open),
    Move.en_route: (frozenset({S.accepted}), S.en_route),
    Move.on_scene: (frozenset({S.accepted, S.en_route}), S.on_scene),
    Move.complete: (frozenset({S.on_scene}), S.completed),
    Move.cancel: (frozenset({S.open, S.assigned, S.accepted, S.en_route, S.on_scene}), S.cancelled),
}

# A locked visit (an operator's hand assignment) is the operators' to change: the planner and the escalation
# leave it with her (only an operator, or her own decline, takes it from her).
NOT_WHEN_LOCKED = frozenset({Move.offer, Move.withdraw, Move.unanswered})

# Who may make a move through the API (the planner and the escalation act as the service itself).
NURSE_MOVES = (Move.accept, Move.decline, Move.en_route, Move.on_scene, Move.complete)
OPERATOR_MOVES = (Move.assign, Move.release, Move.lock, Move.unlock, Move.cancel)
# What the nurse's phone may do besides moving the visit.
NURSE_EXTRAS = {"keysafe": UNDER_WAY, "observations": frozenset({S.on_scene})}


def allowed(move: Move, state: VisitState, *, locked: bool = False) -> bool:
    starts, _ = MOVES[move]
    if (move == Move.lock and locked) or (move == Move.unlock and not locked):
        return False
    if locked and move in NOT_WHEN_LOCKED:
        return False
    return state in starts


def target(move: Move, state: VisitState) -> VisitState:
    return MOVES[move][1] or state


def allowed_actions(state: VisitState, role: Role, *, own: bool, locked: bool) -> list[str]:
    """What this person may do with the visit now, for the page to offer (it keeps no copy of these rules)."""
    if role == Role.nurse:
        if not own:
            return []
        moves = [m.value for m in NURSE_MOVES if allowed(m, state, locked=locked)]
        return moves + [extra for extra, states in NURSE_EXTRAS.items() if state in states]
    if role in (Role.operator, Role.coordinator):
        return [m.value for m in OPERATOR_MOVES if allowed(m, state, locked=locked)]
    return []


def actions_after(state: VisitState, role: Role, *, own: bool, locked: bool) -> dict[str, dict]:
    """For every move this person can make from here on (now or after other moves of hers), the state it leads to
    and what is allowed there: a phone without a connection goes on (en route, then on scene, then complete)
    while its moves wait to be sent, with no copy of these rules."""
    ahead: dict[str, dict] = {}
    frontier = [state]
    seen = {state}
    while frontier:
        following = []
        for here in frontier:
            for action in allowed_actions(here, role, own=own, locked=locked):
                if action not in Move.__members__ or action in ahead:
                    continue
                there = target(Move(action), here)
                stays_own = own and Move(action) not in (Move.decline, Move.release, Move.unanswered)
                ahead[action] = {"state": there.value,
                                 "allowed_actions": allowed_actions(there, role, own=stays_own, locked=locked)}
                if there not in seen and stays_own:
                    seen.add(there)
                    following.append(there)
        frontier = following
    return ahead
