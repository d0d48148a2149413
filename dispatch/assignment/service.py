"""Assignment in the service: live state → routing problem → plan → visits; every decision stored."""
from __future__ import annotations

import time
from collections.abc import MutableMapping
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.assignment.core import NightState, NurseState, VisitState, Weights, plan
from dispatch.assignment.models import Decision
from dispatch.auth.service import SYSTEM
from dispatch.calls import service as calls
from dispatch.calls.lifecycle import CallState
from dispatch.calls.models import Call
from dispatch.clients.models import Client
from dispatch.nurses.models import Nurse, Shift
from dispatch.responders import outbox
from dispatch.responders.hub import board_after_commit
from dispatch.responders.models import VisitDecline
from dispatch.settings import Settings
from dispatch.timeutil import utcnow
from dispatch.visits.models import Visit
from routing.problem import to_dict
from routing.solver import Options

PLANNABLE = ("open", "assigned", "accepted", "en_route", "on_scene")
LOCKED_STATES = ("accepted", "en_route", "on_scene")


def _seconds(moment: datetime, epoch: datetime) -> int:
    return round((moment - epoch).total_seconds())


def night_state(session: Session, settings: Settings, now: datetime) -> tuple[NightState, dict[str, Visit]]:
    """The night as the dispatch core sees it; times are seconds from `now`."""
    on_duty = session.exec(select(Nurse, Shift).join(Shift, Shift.nurse_id == Nurse.id).where(
        Shift.starts_at <= now + timedelta(minutes=15), Shift.ends_at > now, Nurse.active, Nurse.available)).all()
    visits = list(session.exec(select(Visit).where(
        col(Visit.state).in_(PLANNABLE), Visit.window_start <= now + timedelta(hours=settings.plan_lookahead_hours))))
    clients = {c.id: c for c in session.exec(select(Client).where(col(Client.id).in_({v.client_id for v in visits})))}
    nurses: dict[str, NurseState] = {}
    for nurse, shift in on_duty:
        key = f"nurse-{nurse.id}"
        lat = nurse.lat if nurse.lat is not None else settings.base_lat
        lon = nurse.lon if nurse.lon is not None else settings.base_lon
        available = max(0, _seconds(shift.starts_at, now))
        nurses[key] = NurseState(id=key, lat=lat, lon=lon, shift_end_s=_seconds(shift.ends_at, now),
                                 skills=frozenset(nurse.skills), available_from_s=available)
    declined: dict[int, set[str]] = {}
    for visit_id, nurse_id in session.exec(select(VisitDecline.visit_id, VisitDecline.nurse_id).where(
            col(VisitDecline.visit_id).in_([v.id for v in visits]))):
        declined.setdefault(visit_id, set()).add(f"nurse-{nurse_id}")
    states, by_key = [], {}
    for visit in visits:
        client = clients[visit.client_id]
        key = f"visit-{visit.id}"
        by_key[key] = visit
        service_s = visit.service_minutes * 60
        started = visit.state == "on_scene"
        if started and visit.on_scene_at is not None:
            service_s = max(0, service_s - _seconds(now, visit.on_scene_at))
        nurse_key = f"nurse-{visit.nurse_id}" if visit.nurse_id else None
        if started and nurse_key in nurses:  # she is at the client
            n = nurses[nurse_key]
            nurses[nurse_key] = NurseState(id=n.id, lat=client.lat, lon=client.lon, shift_end_s=n.shift_end_s,
                                           skills=n.skills, available_from_s=n.available_from_s)
        states.append(VisitState(
            id=key, lat=client.lat, lon=client.lon,
            window_s=(_seconds(visit.window_start, now), _seconds(visit.window_end, now)), service_s=service_s,
            kind="planned" if visit.kind == "planned" else "call", urgency=visit.urgency, skills=frozenset(visit.skills),
            nurse=nurse_key, locked=visit.locked or visit.state in LOCKED_STATES, started=started,
            declined_by=frozenset(declined.get(visit.id, ()))))
    state = NightState(now_s=0, nurses=list(nurses.values()), visits=states, speed_kmh=settings.speed_kmh,
                       road_factor=settings.road_factor,
                       weights=Weights(u1=settings.weight_u1, u2=settings.weight_u2, u3=settings.weight_u3,
                                       planned=settings.weight_planned,
                                       urgent_waiting=settings.weight_urgent_waiting))
    return state, by_key


def _snapshot(visit: Visit) -> tuple:
    return (visit.state, visit.nurse_id, visit.locked, visit.window_end, visit.service_minutes)


def replan(engine: Engine, settings: Settings, *, triggers: list[str], cache: MutableMapping | None = None,
           now: datetime | None = None) -> Decision:
    """Re-plan open work and apply it. Visits not yet accepted may move; accepted ones stay locked.

    Three steps, so that no transaction is held while the solver runs: read the night, solve, then apply
    in a new transaction that locks each visit and skips any that changed meanwhile (a nurse accepted, an
    operator moved it): that change has asked for its own re-plan, which will see it.
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
                            solver=str(result.solver.get("name", "")), status=str(result.solver.get("status", ""))[:200],
                            solve_ms=int(result.solver.get("solve_ms", 0)))
        session.add(decision)
        session.flush()
        ids = [int(key.split("-")[1]) for key in seen]
        locked = {v.id: v for v in session.exec(select(Visit).where(col(Visit.id).in_(ids))
                                                 .order_by(col(Visit.id)).with_for_update())}
        # The clients in one query (held here: the session's identity map keeps only what is referenced),
        # as messages to the phones carry their addresses.
        clients = session.exec(select(Client).where(col(Client.id).in_({v.client_id for v in locked.values()}))).all()
        told: set[int] = set()
        for key, before in seen.items():
            visit = locked[int(key.split("-")[1])]
            if _snapshot(visit) != before:
                continue  # changed since the state was read
            nurse_key, arrival = routed.get(key, (None, None))
            before, eta_before = visit.nurse_id, visit.eta
            visit.eta = now + timedelta(seconds=arrival) if arrival is not None else None
            visit.decision_id = decision.id
            if not (visit.state in LOCKED_STATES or visit.locked):
                nurse_id = int(nurse_key.split("-")[1]) if nurse_key else None
                if nurse_id != visit.nurse_id or (nurse_id is None) != (visit.state == "open"):
                    visit.nurse_id = nurse_id
                    visit.state = "assigned" if nurse_id else "open"
                    follow_call(session, visit)
            session.add(visit)
            told |= outbox.assignment_changed(session, visit, before=before, eta_before=eta_before)
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


def follow_call(session: Session, visit: Visit) -> None:
    """Keep the call's state in step with its visit's assignment."""
    if visit.call_id is None:
        return
    call = session.get(Call, visit.call_id)
    if call is None:
        return
    if visit.state == "assigned" and call.state == CallState.queued.value:
        calls.transition(session, SYSTEM, call, CallState.assigned, reason=f"planned for nurse {visit.nurse_id}")
    elif visit.state == "open" and call.state == CallState.assigned.value:
        calls.transition(session, SYSTEM, call, CallState.queued, reason="re-planned: no nurse can take it now")
