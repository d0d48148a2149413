"""What happened in a transaction, and who reacts to it: the one seam between the domains and the flows.

A domain says what happened with `publish(session, event)` and imports nothing of the flows that react to it
(re-plan, the nurses' outbox, the operators' board). The app wires the reactions per engine (`dispatch/reactions.py`):

- `during` reactions run at once, inside the causing transaction: what must commit or roll back with the change
  (a message in a nurse's outbox, a closed call closing its visit);
- `after` reactions run once the transaction has committed, and are dropped when it rolls back: what must not
  happen for a change that did not happen (ask for a re-plan, wake a socket).

`after_commit(session, fn)` is the after-commit seam itself: every session, a request's or a background task's,
runs its callbacks once its outermost transaction commits.
"""
from __future__ import annotations

import functools
import logging
import weakref
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlmodel import Session

if TYPE_CHECKING:
    from dispatch.auth.service import Principal

log = logging.getLogger("nightcare.events")


@dataclass(frozen=True)
class CallChanged:
    """A call moved (from_state → to_state), or something happened to it that the board shows (from == to)."""

    call_id: int
    from_state: str | None
    to_state: str
    reason: str = ""
    by: Principal | None = None
    team_changed: bool = False  # handed to the backup team or back: both teams' boards hear of it


@dataclass(frozen=True)
class VisitChanged:
    """A visit moved, changed hands or got a new time. `by_planner`: the re-plan did it (it does not ask for
    another); `eta_before`: set when only the planned arrival moved."""

    visit_id: int
    action: str
    from_state: str | None
    to_state: str
    nurse_before: int | None
    nurse_id: int | None
    reason: str = ""
    by_planner: bool = False
    eta_before: datetime | None = None


@dataclass(frozen=True)
class NightChanged:
    """Something the plan depends on changed: a shift, a nurse's position or availability (`nurse_id`: hers)."""

    reason: str
    nurse_id: int | None = None


@dataclass(frozen=True)
class AlertChanged:
    """An alert was raised, or acknowledged by an operator."""

    alert_id: int


Event = CallChanged | VisitChanged | NightChanged | AlertChanged
During = Callable[[Session, Any], None]
After = Callable[[Any], None]


class Reactions:
    """Who reacts to which event, for one engine."""

    def __init__(self) -> None:
        self.during: dict[type, list[During]] = defaultdict(list)
        self.after: dict[type, list[After]] = defaultdict(list)

    def on(self, kind: type, *, during: During | None = None, after: After | None = None) -> None:
        if during is not None:
            self.during[kind].append(during)
        if after is not None:
            self.after[kind].append(after)


_wired: weakref.WeakKeyDictionary[Engine, Reactions] = weakref.WeakKeyDictionary()


def wire(engine: Engine, reactions: Reactions) -> None:
    _wired[engine] = reactions


def publish(session: Session, event: Event) -> None:
    """Tell the reactions wired to this session's engine (none when no app is wired, e.g. the seed)."""
    reactions = _wired.get(session.get_bind())  # type: ignore[arg-type]
    if reactions is None:
        return
    for react in reactions.during.get(type(event), ()):
        react(session, event)
    for later in reactions.after.get(type(event), ()):
        after_commit(session, functools.partial(later, event))


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's current transaction has committed; never if it rolls back."""
    if not session.info.get("after_commit_listening"):
        session.info["after_commit_listening"] = True
        sa_event.listen(session, "after_commit", _run)
        sa_event.listen(session, "after_soft_rollback", _drop)
    session.info.setdefault("after_commit", []).append(callback)


def _run(session: Session) -> None:
    for callback in session.info.pop("after_commit", []):
        try:
            callback()
        except Exception:
            log.exception("a reaction after commit failed")


def _drop(session: Session, previous_transaction: Any) -> None:
    if getattr(previous_transaction, "nested", False):
        return  # a savepoint rolled back; the transaction (and what it will do after commit) goes on
    session.info.pop("after_commit", None)
