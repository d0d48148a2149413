"""What the operators' board shows, row by row: the same rows in `GET /api/board` and in the live events on
`/ws/operators`, so the console never fetches a call per event. Built in batches (a handful of queries for
the whole board, whatever its size)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from dispatch.alerts.models import Alert
from dispatch.assignment.models import Decision
from dispatch.calls.lifecycle import CallState, allowed_from
from dispatch.calls.models import Call, CallEscalation
from dispatch.clients.models import Client
from dispatch.nightbag.models import BagCheck
from dispatch.nurses.models import Nurse, Shift
from dispatch.organisations.models import Organisation
from dispatch.protocol_versions import service as versions
from dispatch.triage.models import Triage, TriageDraft
from dispatch.visits.lifecycle import OPEN_STATES as OPEN_VISIT_STATES
from dispatch.visits.lifecycle import UNDER_WAY_STATES
from dispatch.visits.models import Visit

WAITING_FOR_TRIAGE = (CallState.received.value, CallState.triaging.value)
NOT_YET_THERE = ("open", "assigned", "accepted", "en_route")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _by_id(session: Session, model: Any, ids: Iterable[int | None]) -> dict[int, Any]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {row.id: row for row in session.exec(select(model).where(col(model.id).in_(wanted)))}


def _complaint_title(protocol_id: str, version: int, complaint: str, session: Session,
                     cache: dict[tuple[str, int], Any]) -> str:
    key = (protocol_id, version)
    if key not in cache:
        cache[key] = versions.as_protocol(versions.get(session, protocol_id, version))
    found = cache[key].complaints.get(complaint)
    return found.title if found else complaint


def call_rows(session: Session, calls: list[Call], now: datetime) -> list[dict[str, Any]]:
    """One row per call: who (once identified), what (the complaint), how urgent, where it stands, the nurse and
    her ETA, and whether it waits for triage or is past its target."""
    ids = [c.id for c in calls if c.id is not None]
    if not ids:
        return []
    clients = _by_id(session, Client, (c.client_id for c in calls))
    orgs = _by_id(session, Organisation, [*(c.organisation_id for c in calls),
                                         *(cl.organisation_id for cl in clients.values())])
    latest: dict[int, TriageDraft | Triage] = {}
    for run in [*session.exec(select(TriageDraft).where(col(TriageDraft.call_id).in_(ids))),
                *session.exec(select(Triage).where(col(Triage.call_id).in_(ids)))]:
        if run.call_id not in latest or (run.id or 0) > (latest[run.call_id].id or 0):
            latest[run.call_id] = run
    visits: dict[int, Visit] = {}
    for stored in session.exec(select(Visit).where(col(Visit.call_id).in_(ids)).order_by(col(Visit.id))):
        if stored.call_id is not None:
            visits[stored.call_id] = stored  # the newest visit of the call
    nurses = _by_id(session, Nurse, (v.nurse_id for v in visits.values()))
    escalations: dict[int, list[CallEscalation]] = {}
    for esc in session.exec(select(CallEscalation).where(col(CallEscalation.call_id).in_(ids))
                            .order_by(col(CallEscalation.id))):
        escalations.setdefault(esc.call_id, []).append(esc)
    protocols: dict[tuple[str, int], Any] = {}
    rows = []
    for call in calls:
        assert call.id is not None  # stored calls
        client = clients.get(call.client_id) if call.client_id else None
        org = orgs.get(call.organisation_id) if call.organisation_id else None
        run = latest.get(call.id)
        visit = visits.get(call.id)
        decided = run if isinstance(run, Triage) else None
        urgency = visit.urgency if visit is not None and visit.urgency else (decided.final_urgency if decided else None)
        nurse = nurses.get(visit.nurse_id) if visit is not None and visit.nurse_id else None
        deadline = visit.window_end if visit is not None and visit.kind == "acute" else None
        rows.append({
            "id": call.id, "source": call.source, "received_at": _iso(call.received_at), "state": call.state,
            "phone_status": call.phone_status, "caller_phone": call.caller_phone, "client_match": call.client_match,
            "text": call.text[:300], "team": call.team,
            "client": None if client is None else {
                "id": client.id, "name": f"{client.given_name} {client.family_name}",
                "date_of_birth": client.date_of_birth.isoformat() if client.date_of_birth else None,
                "address": f"{client.street} {client.house_number}, {client.city}",
                "organisation_id": client.organisation_id},
            "organisation": None if org is None else {"id": org.id, "code": org.code, "name": org.name},
            "triage": None if run is None else {
                "id": run.id, "state": "decided" if decided else "in_progress",
                "complaint": _complaint_title(run.protocol_id, run.protocol_version, run.complaint, session,
                                              protocols),
                "urgency": decided.final_urgency if decided else None,
                "disposition": decided.final_disposition if decided else None},
            "urgency": urgency,
            "visit": None if visit is None else {
                "id": visit.id, "state": visit.state, "nurse_id": visit.nurse_id,
                "nurse": nurse.name if nurse else None, "eta": _iso(visit.eta), "deadline": _iso(deadline),
                "locked": visit.locked},
            "escalations": [{"to": e.to, "called_at": _iso(e.called_at), "contact": e.contact, "by": e.by}
                            for e in escalations.get(call.id, [])],
            "waiting_for_triage": call.state in WAITING_FOR_TRIAGE,
            "past_target": bool(deadline and deadline < now and visit is not None and visit.state in NOT_YET_THERE),
            "allowed_transitions": [s.value for s in allowed_from(CallState(call.state))],
        })
    return rows


def visit_rows(session: Session, visits: list[Visit]) -> list[dict[str, Any]]:
    """Open visits on the map: where, how urgent, whose, when she is expected."""
    clients = _by_id(session, Client, (v.client_id for v in visits))
    nurses = _by_id(session, Nurse, (v.nurse_id for v in visits))
    rows = []
    for visit in visits:
        client = clients[visit.client_id]
        rows.append({
            "id": visit.id, "kind": visit.kind, "call_id": visit.call_id, "state": visit.state,
            "urgency": visit.urgency, "notes": visit.notes, "locked": visit.locked,
            "nurse_id": visit.nurse_id, "nurse": nurses[visit.nurse_id].name if visit.nurse_id in nurses else None,
            "eta": _iso(visit.eta), "window_start": _iso(visit.window_start), "window_end": _iso(visit.window_end),
            "service_minutes": visit.service_minutes, "skills": visit.skills,
            "client": {"id": client.id, "name": f"{client.given_name} {client.family_name}",
                       "address": f"{client.street} {client.house_number}, {client.city}",
                       "lat": client.lat, "lon": client.lon}})
    return rows


def open_visits(session: Session, *, until: datetime) -> list[Visit]:
    return list(session.exec(select(Visit).where(col(Visit.state).in_(OPEN_VISIT_STATES), Visit.window_start <= until)
                             .order_by(col(Visit.window_start), col(Visit.id))))


def nurse_rows(session: Session, now: datetime, *, nurse_ids: Iterable[int] | None = None) -> list[dict[str, Any]]:
    """The night team: on duty or not, where she is, her job now and her next ones, what her bag check flagged."""
    stmt = select(Nurse).where(Nurse.active).order_by(Nurse.name)
    if nurse_ids is not None:
        stmt = stmt.where(col(Nurse.id).in_(list(nurse_ids)))
    nurses = list(session.exec(stmt))
    ids = [n.id for n in nurses]
    shifts: dict[int, Shift] = {}
    for upcoming in session.exec(select(Shift).where(col(Shift.nurse_id).in_(ids), Shift.ends_at > now)
                                 .order_by(col(Shift.starts_at).desc())):
        shifts[upcoming.nurse_id] = upcoming  # the earliest shift not yet over
    jobs: dict[int, list[Visit]] = {}
    for job in session.exec(select(Visit).where(col(Visit.nurse_id).in_(ids),
                                                col(Visit.state).in_(("assigned", *UNDER_WAY_STATES)))):
        if job.nurse_id is not None:
            jobs.setdefault(job.nurse_id, []).append(job)
    checks: dict[int, BagCheck] = {}
    shift_ids = [s.id for s in shifts.values()]
    for check in session.exec(select(BagCheck).where(col(BagCheck.shift_id).in_(shift_ids)).order_by(col(BagCheck.id))):
        checks[check.nurse_id] = check
    rows = []
    for nurse in nurses:
        assert nurse.id is not None  # stored nurses
        shift = shifts.get(nurse.id)
        mine = sorted(jobs.get(nurse.id, []), key=lambda v: (v.state not in UNDER_WAY_STATES,
                                                              v.eta or v.window_start))
        current = next((v for v in mine if v.state in UNDER_WAY_STATES), None)
        rows.append({
            "id": nurse.id, "name": nurse.name, "skills": nurse.skills, "available": nurse.available,
            "lat": nurse.lat, "lon": nurse.lon, "position_at": _iso(nurse.position_at),
            "on_duty": bool(shift and shift.starts_at <= now and nurse.available),
            "shift": None if shift is None else {"id": shift.id, "starts_at": _iso(shift.starts_at),
                                                 "ends_at": _iso(shift.ends_at), "state": shift.state},
            "current": None if current is None else {"visit_id": current.id, "state": current.state,
                                                     "eta": _iso(current.eta)},
            "next": [{"visit_id": v.id, "state": v.state, "eta": _iso(v.eta)} for v in mine if v is not current],
            "bag_flags": checks[nurse.id].flags if nurse.id in checks else [],
        })
    return rows


def routes(session: Session) -> dict[str, Any]:
    """Each nurse's planned route in order, from the newest decision."""
    decision = session.exec(select(Decision).order_by(col(Decision.id).desc()).limit(1)).first()
    if decision is None:
        return {"decision_id": None, "at": None, "routes": {}}
    return {"decision_id": decision.id, "at": _iso(decision.at), "routes": {
        route["nurse"].split("-")[1]: [{"visit_id": int(stop["job"].split("-")[1]),
                                        "eta": _iso(decision.at + timedelta(seconds=stop["arrival_s"]))}
                                       for stop in route["stops"]]
        for route in decision.plan.get("routes", [])}}


def alert_rows(alerts: list[Alert]) -> list[dict[str, Any]]:
    return [{"id": a.id, "at": _iso(a.at), "kind": a.kind, "message": a.message, "visit_id": a.visit_id,
             "nurse_id": a.nurse_id, "call_id": a.call_id, "resolved_at": _iso(a.resolved_at),
             "resolved_by": a.resolved_by} for a in alerts]
