"""What an organisation's day team needs to know in the morning: the night of each of its clients.

The night of day D runs from D at `handover_at` (07:00) local time to D+1 at that time; its handover is final from
its end on. Everything is read from what the night recorded: calls with their triage runs (the questions asked
and answers given, the protocol's trace, the outcome and the advice), visits with their moves, NEWS2
observations, materials and the nurse's handover note, the day tasks left for the day team and what the GP post
was told. Scoping is here, once: a partner reads its own organisation's handover only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, or_, select

from dispatch.audit import service as audit
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.calls.models import Call
from dispatch.clients.models import Client, ClientExternalId
from dispatch.daytasks.models import DayTask
from dispatch.errors import NotFound
from dispatch.nightbag.models import BagItem, MaterialUse
from dispatch.nurses.models import Nurse
from dispatch.organisations.models import Organisation
from dispatch.settings import Settings
from dispatch.triage.models import GpNotification, Triage
from dispatch.visits.models import Observation, Visit, VisitEvent

REASON = "morning handover"


@dataclass(frozen=True)
class Night:
    day: date
    start: datetime  # UTC
    end: datetime  # UTC
    tz: str

    def final(self, now: datetime) -> bool:
        return now >= self.end


def night_of(day: date, settings: Settings) -> Night:
    tz = ZoneInfo(settings.region_timezone)
    start = datetime.combine(day, settings.handover_at, tz)
    end = datetime.combine(day + timedelta(days=1), settings.handover_at, tz)
    return Night(day=day, start=start.astimezone(ZoneInfo("UTC")), end=end.astimezone(ZoneInfo("UTC")),
                 tz=settings.region_timezone)


def last_finished_night(now: datetime, settings: Settings) -> date:
    """The night whose handover was due most recently at `now` (after 07:00 on D+1: night D)."""
    tz = ZoneInfo(settings.region_timezone)
    local = now.astimezone(tz)
    shifted = local - timedelta(hours=settings.handover_at.hour, minutes=settings.handover_at.minute)
    return shifted.date() - timedelta(days=1)


def organisations_for(session: Session, principal: Principal, code: str | None) -> list[Organisation]:
    """The organisations whose handover the principal may read: a partner its own, a coordinator any (all, or the
    one named). Another organisation's code gives a partner the same 404 as an unknown one."""
    if principal.role == Role.partner:
        org = session.get(Organisation, principal.organisation_id)
        if org is None or (code is not None and code != org.code):
            raise NotFound(f"no organisation {code!r}", field="organisation")
        return [org]
    stmt = select(Organisation).order_by(col(Organisation.code))
    if code is not None:
        stmt = stmt.where(Organisation.code == code)
    orgs = list(session.exec(stmt))
    if code is not None and not orgs:
        raise NotFound(f"no organisation {code!r}", field="organisation")
    return orgs


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _triage(t: Triage, current: bool) -> dict[str, Any]:
    computed = t.computed or {}
    trace = [{"node": s.get("node"), "question": s.get("question"), "answer": s.get("answer"),
              "label": s.get("label")} for s in computed.get("trace", [])]
    return {
        "id": t.id, "protocol": f"{t.protocol_id} v{t.protocol_version}", "complaint": t.complaint,
        "questions": trace, "answers": t.answers, "signals": t.signals,
        "computed_urgency": computed.get("urgency"), "computed_disposition": computed.get("disposition"),
        "final_urgency": t.final_urgency, "final_disposition": t.final_disposition,
        "override_reason": t.override_reason, "concern_reason": t.concern_reason, "advice_given": t.advice_given,
        "explanation": list(computed.get("explanation", [])), "decided_at": _iso(t.decided_at),
        "decided_by": t.decided_by, "current": current,
    }


def _observation(o: Observation) -> dict[str, Any]:
    return {"id": o.id, "recorded_at": _iso(o.recorded_at), "recorded_by": o.recorded_by,
            "respiration_rate": o.respiration_rate, "spo2": o.spo2, "spo2_scale": o.spo2_scale,
            "on_oxygen": o.on_oxygen, "systolic_bp": o.systolic_bp, "pulse": o.pulse,
            "consciousness": o.consciousness, "temperature": o.temperature, "news2_total": o.news2_total,
            "news2_risk": o.news2_risk}


def _night_rows(session: Session, org_id: int, night: Night) -> tuple[list[Call], list[Visit], list[DayTask]]:
    in_night = (night.start, night.end)
    calls = list(session.exec(select(Call).where(Call.organisation_id == org_id,
                                                 col(Call.received_at) >= in_night[0],
                                                 col(Call.received_at) < in_night[1]).order_by(col(Call.received_at))))
    call_ids = [c.id for c in calls]
    visit_filter = or_(col(Visit.call_id).in_(call_ids),
                       (col(Visit.window_start) >= in_night[0]) & (col(Visit.window_start) < in_night[1]))
    visits = list(session.exec(select(Visit).where(Visit.organisation_id == org_id, visit_filter)
                               .order_by(col(Visit.window_start), col(Visit.id))))
    tasks = list(session.exec(select(DayTask).where(
        DayTask.organisation_id == org_id,
        or_(col(DayTask.call_id).in_(call_ids),
            (col(DayTask.created_at) >= in_night[0]) & (col(DayTask.created_at) < in_night[1])))
        .order_by(col(DayTask.created_at))))
    return calls, visits, tasks


def collect(session: Session, org: Organisation, night: Night, *, now: datetime) -> dict[str, Any]:
    """The organisation's handover of the night: one entry per client with anything recorded that night."""
    assert org.id is not None
    calls, visits, tasks = _night_rows(session, org.id, night)
    call_ids = [c.id for c in calls]
    visit_ids = [v.id for v in visits]
    triages: dict[int, list[Triage]] = {}
    for t in session.exec(select(Triage).where(col(Triage.call_id).in_(call_ids)).order_by(col(Triage.decided_at))):
        triages.setdefault(t.call_id, []).append(t)
    gp: dict[int, list[dict[str, Any]]] = {}
    for n in session.exec(select(GpNotification).where(col(GpNotification.call_id).in_(call_ids))
                          .order_by(col(GpNotification.created_at))):
        gp.setdefault(n.call_id, []).append({"id": n.id, "text": n.text, "created_at": _iso(n.created_at),
                                             "created_by": n.created_by})
    events: dict[int, list[dict[str, Any]]] = {}
    for e in session.exec(select(VisitEvent).where(col(VisitEvent.visit_id).in_(visit_ids))
                          .order_by(col(VisitEvent.at), col(VisitEvent.id))):
        events.setdefault(e.visit_id, []).append({"at": _iso(e.at), "move": e.move, "from": e.from_state,
                                                  "to": e.to_state, "by": e.actor, "reason": e.reason})
    observations: dict[int, list[dict[str, Any]]] = {}
    for o in session.exec(select(Observation).where(col(Observation.visit_id).in_(visit_ids))
                          .order_by(col(Observation.recorded_at))):
        observations.setdefault(o.visit_id, []).append(_observation(o))
    materials: dict[int, list[dict[str, Any]]] = {}
    for use, item in session.exec(select(MaterialUse, BagItem).where(col(MaterialUse.visit_id).in_(visit_ids),
                                                                      MaterialUse.item_id == BagItem.id)
                                  .order_by(col(MaterialUse.at))):
        materials.setdefault(use.visit_id, []).append({"item": item.name, "quantity": use.quantity,
                                                       "recorded_by": use.recorded_by, "at": _iso(use.at)})
    nurses = {n.id: n.name for n in session.exec(select(Nurse))} if visits else {}

    client_ids = list(dict.fromkeys([c.client_id for c in calls if c.client_id is not None]
                                    + [v.client_id for v in visits] + [t.client_id for t in tasks]))
    clients = {c.id: c for c in session.exec(select(Client).where(col(Client.id).in_(client_ids)))}
    external: dict[int, dict[str, str]] = {}
    for x in session.exec(select(ClientExternalId).where(col(ClientExternalId.client_id).in_(client_ids),
                                                         ClientExternalId.organisation_id == org.id)):
        external.setdefault(x.client_id, {"system": x.system, "value": x.value})

    out_clients = []
    for cid in sorted(client_ids, key=lambda i: (clients[i].family_name, clients[i].given_name, i)):
        c = clients[cid]
        client_calls = []
        for call in (x for x in calls if x.client_id == cid):
            runs = triages.get(call.id, []) if call.id is not None else []
            client_calls.append({
                "id": call.id, "received_at": _iso(call.received_at), "source": call.source, "state": call.state,
                "text": call.text, "triages": [_triage(t, i == len(runs) - 1) for i, t in enumerate(runs)],
                "gp_notifications": gp.get(call.id, []) if call.id is not None else [],
            })
        client_visits = [{
            "id": v.id, "kind": v.kind, "call_id": v.call_id, "state": v.state, "urgency": v.urgency,
            "nurse": nurses.get(v.nurse_id) if v.nurse_id else None, "window_start": _iso(v.window_start),
            "window_end": _iso(v.window_end), "notes": v.notes, "on_scene_at": _iso(v.on_scene_at),
            "completed_at": _iso(v.completed_at), "handover_note": v.handover_note,
            "events": events.get(v.id or 0, []), "observations": observations.get(v.id or 0, []),
            "materials": materials.get(v.id or 0, []),
        } for v in visits if v.client_id == cid]
        client_tasks = [{"id": t.id, "call_id": t.call_id, "summary": t.summary, "advice_given": t.advice_given,
                         "state": t.state, "created_at": _iso(t.created_at), "done_at": _iso(t.done_at),
                         "done_by": t.done_by} for t in tasks if t.client_id == cid]
        out_clients.append({
            "client": {"id": c.id, "given_name": c.given_name, "family_name": c.family_name,
                       "date_of_birth": c.date_of_birth.isoformat() if c.date_of_birth else None,
                       "address": f"{c.street} {c.house_number}, {c.postcode} {c.city}",
                       "identifier": external.get(cid)},
            "calls": client_calls, "visits": client_visits, "day_tasks": client_tasks,
        })
    return {
        "organisation": {"id": org.id, "code": org.code, "name": org.name},
        "night": night.day.isoformat(), "from": night.start.isoformat(), "to": night.end.isoformat(),
        "time_zone": night.tz, "final": night.final(now), "generated_at": now.isoformat(),
        "totals": {"clients": len(out_clients), "calls": len(calls), "visits": len(visits), "day_tasks": len(tasks)},
        "clients": out_clients,
    }


def read_handovers(session: Session, principal: Principal, *, day: date, settings: Settings, now: datetime,
                   organisation: str | None = None) -> list[dict[str, Any]]:
    """The handovers the principal may read for the night, audited: one entry per client read, reason
    "morning handover" with the night."""
    night = night_of(day, settings)
    handovers = [collect(session, org, night, now=now) for org in organisations_for(session, principal, organisation)]
    client_ids = [c["client"]["id"] for h in handovers for c in h["clients"]]
    if client_ids:
        audit.record(session, principal, action="read", data="handover", client_ids=client_ids,
                     reason=f"{REASON} (night {day.isoformat()})")
    return handovers
