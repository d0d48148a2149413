"""The coordinator's figures for a run of nights: the facts read from what the nights recorded, counted by kpis.py.

Scoping is here, once: a coordinator reads the region's figures; a partner organisation reads the same figures
of its own clients' calls only (no other organisation's row, no nurses' utilisation: the night team is the
region's). The figures hold no client's data (counts and durations), so reading them is not audited.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.calls.models import Call
from dispatch.errors import Invalid
from dispatch.handover.service import last_finished_night, night_of
from dispatch.insight import kpis
from dispatch.nurses.models import Nurse, Shift
from dispatch.organisations.models import Organisation
from dispatch.settings import Settings
from dispatch.triage.models import Triage
from dispatch.visits.models import Visit, VisitEvent

MAX_NIGHTS = 92
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)  # nights this service can have seen (or plan)


def targets(settings: Settings) -> dict[str, int]:
    """The region's response targets in minutes, per urgency a nurse may be sent to (region settings)."""
    return {u: settings.target_minutes(u) for u in kpis.RESPONSE_URGENCIES}


def _facts(session: Session, since: datetime, until: datetime, org_id: int | None,
           codes: dict[int, str]) -> list[kpis.CallFact]:
    in_period = (col(Call.received_at) >= since, col(Call.received_at) < until)
    mine = (Call.organisation_id == org_id,) if org_id is not None else ()
    calls = session.exec(select(Call.id, Call.organisation_id, Call.received_at)
                         .where(*in_period, *mine).order_by(col(Call.received_at))).all()
    current: dict[int, tuple[str | None, str | None]] = {}  # call → its last decided run's urgency and disposition
    for call_id, urgency, disposition in session.exec(
            select(Triage.call_id, Triage.final_urgency, Triage.final_disposition)
            .join(Call, col(Call.id) == col(Triage.call_id)).where(*in_period, *mine)
            .order_by(col(Triage.decided_at), col(Triage.id))):
        current[call_id] = (urgency, disposition)
    sent = {call_id for call_id in session.exec(select(Visit.call_id).join(Call, col(Call.id) == col(Visit.call_id))
                                                .where(*in_period, *mine)) if call_id is not None}
    arrived: dict[int, datetime] = {}
    for visit_call, at in session.exec(
            select(Visit.call_id, VisitEvent.at).join(Visit, col(Visit.id) == col(VisitEvent.visit_id))
            .join(Call, col(Call.id) == col(Visit.call_id))
            .where(*in_period, *mine, VisitEvent.to_state == "on_scene")):
        if visit_call is not None and (visit_call not in arrived or at < arrived[visit_call]):
            arrived[visit_call] = at
    facts = []
    for cid, org, received in calls:
        assert cid is not None
        decided = current.get(cid, (None, None))
        facts.append(kpis.CallFact(id=cid, organisation=codes.get(org) if org is not None else None,
                                   received_at=received, urgency=decided[0], disposition=decided[1],
                                   nurse_sent=cid in sent, arrived_at=arrived.get(cid)))
    return facts


def _nurse_time(session: Session, since: datetime, until: datetime, now: datetime) -> dict[str, kpis.NurseTime]:
    """Shift minutes within the period (up to `now` while it goes on); travel and care minutes of the visits whose
    nurse arrived in it."""
    names = {n.id: n.name for n in session.exec(select(Nurse))}
    until = min(until, now)
    shifts: dict[int, list[tuple[datetime, datetime]]] = {}
    for s in session.exec(select(Shift).where(col(Shift.starts_at) < until, col(Shift.ends_at) > since)):
        shifts.setdefault(s.nurse_id, []).append((s.starts_at, s.ends_at))
    shift = {nurse: kpis.shift_minutes(spans, since=since, until=until, now=now) for nurse, spans in shifts.items()}
    arrivals = select(VisitEvent.visit_id).where(VisitEvent.to_state == "on_scene", col(VisitEvent.at) >= since,
                                                 col(VisitEvent.at) < until)
    moves: dict[int, list[tuple[datetime, str, int | None]]] = {}
    for visit_id, at, to, nurse in session.exec(
            select(VisitEvent.visit_id, VisitEvent.at, VisitEvent.to_state, Visit.nurse_id)
            .join(Visit, col(Visit.id) == col(VisitEvent.visit_id))
            .where(col(VisitEvent.visit_id).in_(arrivals), col(VisitEvent.to_state).in_(
                ("en_route", "on_scene", "completed"))).order_by(col(VisitEvent.at), col(VisitEvent.id))):
        moves.setdefault(visit_id, []).append((at, to, nurse))
    travel: dict[int, float] = {}
    care: dict[int, float] = {}
    for events in moves.values():
        nurse = events[-1][2]
        if nurse is None:
            continue
        on_scene = next(at for at, to, _ in events if to == "on_scene")
        left = [at for at, to, _ in events if to == "en_route" and at <= on_scene]
        done = [at for at, to, _ in events if to == "completed" and at >= on_scene]
        if left:
            travel[nurse] = travel.get(nurse, 0.0) + (on_scene - left[-1]).total_seconds() / 60
        if done:
            care[nurse] = care.get(nurse, 0.0) + (done[0] - on_scene).total_seconds() / 60
    ids = set(shift) | set(travel) | set(care)
    return {names.get(i, f"nurse {i}"): kpis.NurseTime(shift.get(i, 0.0), travel.get(i, 0.0), care.get(i, 0.0))
            for i in ids}


def period(*, first: date | None, last: date | None, now: datetime, settings: Settings) -> tuple[date, date]:
    """The nights asked for: `last` defaults to the last finished night, `first` to `last`."""
    for name, day in (("from", first), ("to", last)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise Invalid(f"{name}: {day} is not a night from {EARLIEST} to {LATEST}", field=name)
    last = last or (first if first is not None else last_finished_night(now, settings))
    first = first or last
    if first > last:
        raise Invalid(f"from ({first}) is after to ({last})", field="from")
    if (last - first).days >= MAX_NIGHTS:
        raise Invalid(f"at most {MAX_NIGHTS} nights at a time", field="to")
    return first, last


def kpi_report(session: Session, principal: Principal, *, first: date | None, last: date | None,
               settings: Settings, now: datetime) -> dict[str, Any]:
    """The figures of the nights `first` to `last` (both included) as the principal may read them."""
    first, last = period(first=first, last=last, now=now, settings=settings)
    since, until = night_of(first, settings).start, night_of(last, settings).end
    partner = principal.role == Role.partner
    stmt = select(Organisation).order_by(col(Organisation.code))
    if partner:
        stmt = stmt.where(Organisation.id == principal.organisation_id)
    orgs = list(session.exec(stmt))
    codes = {o.id: o.code for o in orgs if o.id is not None}
    org_id = principal.organisation_id if partner else None
    facts = _facts(session, since, until, org_id, codes)
    tz = ZoneInfo(settings.region_timezone)
    figures = kpis.compute(facts, tz=tz, handover_at=settings.handover_at, targets_min=targets(settings),
                           organisations={o.code: o.name for o in orgs}, now=now)
    current = kpis.night_day(now, tz, settings.handover_at)
    return {
        "from": first.isoformat(), "to": last.isoformat(), "nights": (last - first).days + 1,
        "period_start": since.isoformat(), "period_end": until.isoformat(), "time_zone": settings.region_timezone,
        "handover_at": settings.handover_at.strftime("%H:%M"), "generated_at": now.isoformat(),
        "last_finished_night": last_finished_night(now, settings).isoformat(), "current_night": current.isoformat(),
        "complete": now >= until, "scope": "organisation" if partner else "region",
        "targets_min": targets(settings), **figures,
        "utilisation": None if partner else kpis.utilisation(_nurse_time(session, since, until, now)),
    }
