"""Assignment in the service: live state → routing problem → plan → visits; every decision stored."""
from __future__ import annotations

import logging
import time
from collections.abc import MutableMapping
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.assignment.core import NightState, NurseState, Weights, plan
from dispatch.assignment.core import VisitState as CoreVisit
from dispatch.assignment.models import Decision
from dispatch.auth.service import SYSTEM
from dispatch.clients.models import Client
from dispatch.errors import AppError
from dispatch.nurses.service import on_duty as nurses_on_duty
from dispatch.responders import outbox
from dispatch.responders.hub import board_after_commit
from dispatch.settings import Settings
from dispatch.timeutil import utcnow
from dispatch.visits import service as visits_service
from dispatch.visits.lifecycle import UNDER_WAY_STATES, Move, VisitState
from dispatch.visits.models import Visit, VisitDecline
from routing.problem import to_dict
from routing.solver import Options

PLANNABLE = ("open", "assigned", "accepted", "en_route", "on_scene")
log = logging.getLogger("nightcare.assignment")


def _seconds(moment: datetime, epoch: datetime) -> int:
    return round((moment - epoch).total_seconds())


def _excluded(visits: list[Visit], nurses: dict[str, NurseState], session: Session) -> dict[int, set[str]]:
    """Per visit, the nurses not to offer it to: every nurse who declined it, and a nurse who did not answer in
    time as long as another nurse on duty can take it (otherwise it goes back to her)."""
    declined: dict[int, set[str]] = {}
    unanswered: dict[int, set[str]] = {}
    for visit_id, nurse_id, kind in session.exec(select(VisitDecline.visit_id, VisitDecline.nurse_id,
                                                        VisitDecline.kind)
                                                 .where(col(VisitDecline.visit_id).in_([v.id for v in visits]))):
        (declined if kind == "declined" else unanswered).setdefault(visit_id, set()).add(f"nurse-{nurse_id}")
    excluded = {}
    for visit in visits:
        assert visit.id is not None
        out = set(declined.get(visit.id, ()))
        silent = unanswered.get(visit.id, set()) - out
        if silent:
            able = {key for key, n in nurses.items() if set(visit.skills) <= n.skills and key not in out}
            if able - silent:  # someone else can take it
                out |= silent
        if out:
            excluded[visit.id] = out
    return excluded


def night_state(session: Session, settings: Settings, now: datetime) -> tuple[NightState, dict[str, Visit]]:
    """The night as the dispatch core sees it; times are seconds from `now`."""
    visits = list(session.exec(select(Visit).where(
        col(Visit.state).in_(PLANNABLE), Visit.window_start <= now + timedelta(hours=settings.plan_lookahead_hours))))
    clients = {c.id: c for c in session.exec(select(Client).where(col(Client.id).in_({v.client_id for v in visits})))}
    nurses: dict[str, NurseState] = {}
    for nurse, shift in nurses_on_duty(session, now):
        key = f"nurse-{nurse.id}"
        lat = nurse.lat if nurse.lat is not None else settings.base_lat
        lon = nurse.lon if nurse.lon is not None else settings.base_lon
        available = max(0, _seconds(shift.starts_at, now))
        nurses[key] = NurseState(id=key, lat=lat, lon=lon, shift_end_s=_seconds(shift.ends_at, now),
                                 skills=frozenset(nurse.skills), available_from_s=available)
    excluded = _excluded(visits, nurses, session)
    states, by_key = [], {}
    for visit in visits:
        client = clients[visit.client_id]
        key = f"visit-{visit.id}"
        by_key[key] = visit
        service_s = visit.service_minutes * 60
        started = visit.state == VisitState.on_scene.value
        if started and visit.on_scene_at is not None:
            service_s = max(0, service_s - _seconds(now, visit.on_scene_at))
        nurse_key = f"nurse-{visit.nurse_id}" if visit.nurse_id else None
        if started and nurse_key in nurses:  # she is at the client
            n = nurses[nurse_key]
            nurses[nurse_key] = NurseState(id=n.id, lat=client.lat, lon=client.lon, shift_end_s=n.shift_end_s,
                                           skills=n.skills, available_from_s=n.available_from_s)
        states.append(CoreVisit(
            id=key, lat=client.lat, lon=client.lon,
            window_s=(_seconds(visit.window_start, now), _seconds(visit.window_end, now)), service_s=service_s,
            kind="planned" if visit.kind == "planned" else "call", urgency=visit.urgency,
            skills=frozenset(visit.skills),
            nurse=nurse_key, locked=visit.locked or visit.state in UNDER_WAY_STATES, started=started,
            declined_by=frozenset(excluded.get(visit.id, ()))))  # type: ignore[arg-type]
    state = NightState(now_s=0, nurses=list(nurses.values()), visits=states, speed_kmh=settings.speed_kmh,
                       road_factor=settings.road_factor,
                       weights=Weights(u1=settings.weight_u1, u2=settings.weight_u2, u3=settings.weight_u3,
                                       planned=settings.weight_planned,
                                       urgent_waiting=settings.weight_urgent_waiting))
    return state, by_key


def _snapshot(visit: Visit) -> tuple:
    return (visit.state, visit.nurse_id, visit.locked, visit.window_end, visit.service_minutes, visit.client_id,
            tuple(visit.skills))


def replan(engine: Engine, settings: Settings, *, triggers: list[str], cache: MutableMapping | None = None,
           now: datetime | None = None) -> Decision:
    """Re-plan open work and apply it. Visits not yet accepted may move; accepted and locked ones stay.

    Three steps, so that no transaction is held while the solver runs: read the night, solve, then apply
    in a new transaction that locks each visit and skips any that changed meanwhile (a nurse accepted, an
    operator moved it): that change has asked for its own re-plan, which will see it. Each move goes through
    the visits' own service (dispatch/visits/service.py), which tells the phones and the board.
    """
    started = time.perf_counter()
    now = now or utcnow()
    with Session(engine, expire_on_commit=False) as session:
        state, visits = night_state(session, settings, now)
        seen = {key: _snapshot(v) for key, v in visits.items()}
        session.rollback()
    problem, result = plan(state, Options(time_limit_s=settings.solve_time_limit_s), cache)
    routed: dict[str, tuple[str, int]] = {}
    for route in result.routes:
        for stop in route.stops:
            routed[stop.job] = (route.nurse, stop.arrival_s)
    with Session(engine, expire_on_commit=False) as session:
        decision = Decision(at=now, triggers=triggers[-50:], problem=to_dict(problem), plan=result.to_dict(),
                            solver=str(result.solver.get("name", "")),
                            status=str(result.solver.get("status", ""))[:200],
                            solve_ms=int(result.solver.get("solve_ms", 0)))
        session.add(decision)
        session.flush()
        assert decision.id is not None
        ids = [int(key.split("-")[1]) for key in seen]
        locked = {v.id: v for v in session.exec(select(Visit).where(col(Visit.id).in_(ids))
                                                 .order_by(col(Visit.id)).with_for_update())}
        # The clients in one query (held here: the session's identity map keeps only what is referenced),
        # as messages to the phones carry their addresses.
        clients = session.exec(select(Client).where(col(Client.id).in_({v.client_id for v in locked.values()}))).all()
        for key, before in seen.items():
            visit = locked[int(key.split("-")[1])]
            if _snapshot(visit) != before:
                continue  # changed since the state was read
            nurse_key, arrival = routed.get(key, (None, None))
            eta = now + timedelta(seconds=arrival) if arrival is not None else None
            nurse_id = int(nurse_key.split("-")[1]) if nurse_key else None
            movable = not (visit.state in UNDER_WAY_STATES or visit.locked)
            try:
                if movable and nurse_id is not None and nurse_id != visit.nurse_id:
                    visit.eta, visit.decision_id = eta, decision.id
                    visits_service.move(session, SYSTEM, visit, Move.offer, nurse_id=nurse_id, by_planner=True)
                elif movable and nurse_id is None and visit.state == VisitState.assigned.value:
                    visit.decision_id = decision.id
                    visits_service.move(session, SYSTEM, visit, Move.withdraw, by_planner=True,
                                        reason=_unassigned_reason(result.unassigned, key))
                else:  # (a locked job whose nurse is off duty may be routed to another: no arrival of hers then)
                    visits_service.replanned(session, visit, eta=eta if nurse_id == visit.nurse_id else None,
                                             decision_id=decision.id)
            except AppError as exc:  # e.g. the nurse was deactivated meanwhile: the next re-plan sees it
                log.info("re-plan left visit %s as it was: %s", visit.id, exc.detail)
        told = outbox.told(session)
        for route in result.routes:
            nurse_id = int(route.nurse.split("-")[1])
            if nurse_id in told:
                outbox.plan_changed(session, nurse_id, decision.id, [
                    (int(stop.job.split("-")[1]), now + timedelta(seconds=stop.arrival_s)) for stop in route.stops])
        board_after_commit(session, "plan.changed", decision_id=decision.id)
        del clients
        decision.decision_ms = round((time.perf_counter() - started) * 1000)
        session.add(decision)
        session.commit()
    return decision


def _unassigned_reason(unassigned: list[dict[str, str]], key: str) -> str:
    return next((u["reason"] for u in unassigned if u["job"] == key), "no nurse can take it now")
