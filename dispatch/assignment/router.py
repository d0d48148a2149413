from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel
from sqlmodel import Session, col, select

from dispatch.assignment import service
from dispatch.assignment.models import Decision
from dispatch.audit import service as audit
from dispatch.auth.deps import RegionalOperators
from dispatch.auth.service import Principal
from dispatch.db import SessionDep
from dispatch.errors import NotFound
from dispatch.nurses.models import Nurse
from dispatch.visits.models import Visit
from routing.explain import etas
from routing.problem import Plan, Route, Stop, from_dict

router = APIRouter(prefix="/api", tags=["assignment"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


class DecisionSummary(BaseModel):
    id: int
    at: datetime
    triggers: list[str]
    solver: str
    status: str
    solve_ms: int
    decision_ms: int
    assigned: int
    unassigned: list[dict[str, str]]


def _summary(d: Decision) -> dict[str, Any]:
    return {**d.model_dump(include={"id", "at", "triggers", "solver", "status", "solve_ms", "decision_ms"}),
            "assigned": sum(len(r["stops"]) for r in d.plan["routes"]), "unassigned": d.plan["unassigned"]}


@router.post("/assignment/replan", response_model=DecisionSummary)
def replan_now(request: Request, session: SessionDep, principal: RegionalOperators) -> dict[str, Any]:
    """Re-plan now and return the decision (re-plans also run by themselves on every change)."""
    # End this request's own transaction first: the re-plan reads and writes in transactions of its own,
    # and on SQLite this one would otherwise hold the write lock they wait for.
    session.commit()
    decision = service.replan(request.app.state.engine, request.app.state.settings,
                              triggers=[f"operator {principal.username}"], cache=request.app.state.travel_cache)
    return _summary(decision)


@router.get("/assignment/decisions", response_model=list[DecisionSummary])
def list_decisions(session: SessionDep, principal: RegionalOperators,
                   limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[dict[str, Any]]:
    rows = session.exec(select(Decision).order_by(col(Decision.id).desc()).limit(limit))
    return [_summary(d) for d in rows]


@router.get("/assignment/decisions/{decision_id}")
def read_decision(decision_id: Id, session: SessionDep, principal: RegionalOperators) -> dict[str, Any]:
    """The decision with its routing problem and plan, as `nightcare solve` reads and writes them."""
    d = session.get(Decision, decision_id)
    if d is None:
        raise NotFound(f"no decision {decision_id}", field="decision_id")
    _audit_decision(session, principal, d, f"decision {d.id}")
    return {**_summary(d), "problem": d.problem, "plan": d.plan}


def _audit_decision(session: Session, principal: Principal, decision: Decision, reason: str) -> None:
    """A decision holds the home coordinates of every client planned in it: reading it is audited per client."""
    visit_ids = [int(j["id"].split("-")[1]) for j in decision.problem.get("jobs", []) if j["id"].startswith("visit-")]
    clients = session.exec(select(Visit.client_id).where(col(Visit.id).in_(visit_ids))).all() if visit_ids else []
    audit.record(session, principal, action="read", data="assignment.decision", client_ids=sorted(set(clients)),
                 reason=reason)


def _plan(raw: dict[str, Any]) -> Plan:
    return Plan(routes=[Route(nurse=r["nurse"], stops=tuple(Stop(**s) for s in r["stops"])) for r in raw["routes"]],
                unassigned=raw["unassigned"], travel_s=raw["travel_s"], lateness_s=raw["lateness_s"])


@router.get("/visits/{visit_id}/explanation")
def explain_visit(visit_id: Id, request: Request, session: SessionDep, principal: RegionalOperators) -> dict[str, Any]:
    """Why this nurse: the decision behind the assignment and every nurse's ETA for this visit."""
    visit = session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"no visit {visit_id}", field="visit_id")
    decision = session.get(Decision, visit.decision_id) if visit.decision_id is not None else None
    if decision is None:
        return {"visit_id": visit.id, "decision_id": None, "nurse_id": visit.nurse_id, "eta": None, "nurses": [],
                "unassigned_reason": None, "detail": "not planned yet"}
    _audit_decision(session, principal, decision, f"explanation of visit {visit.id}")
    if not decision.problem.get("nurses"):
        reason = next((u["reason"] for u in decision.plan["unassigned"] if u["job"] == f"visit-{visit.id}"),
                      "no nurse on duty")
        return {"visit_id": visit.id, "decision_id": decision.id, "decided_at": decision.at,
                "triggers": decision.triggers, "nurse_id": visit.nurse_id, "eta": visit.eta,
                "deadline": visit.window_end, "unassigned_reason": reason, "nurses": [],
                "detail": f"no nurse was on duty when it was planned: {reason}"}
    problem, plan = from_dict(decision.problem), _plan(decision.plan)
    key = f"visit-{visit.id}"
    names = {f"nurse-{n.id}": n.name for n in session.exec(select(Nurse))}
    chosen = plan.assignment().get(key)
    known = any(j.id == key for j in problem.jobs)
    per_nurse = etas(problem, plan, key, request.app.state.travel_cache) if known else {}
    deadline = visit.window_end
    nurses = []
    for nurse_key, arrival in sorted(per_nurse.items(), key=lambda kv: (kv[1] is None, kv[1] or 0)):
        eta = decision.at + timedelta(seconds=arrival) if arrival is not None else None
        nurses.append({"nurse_id": int(nurse_key.split("-")[1]), "name": names.get(nurse_key, nurse_key),
                       "eta": eta, "chosen": nurse_key == chosen,
                       "late_s": max(0, round((eta - deadline).total_seconds())) if eta else None})
    reason = next((u["reason"] for u in plan.unassigned if u["job"] == key), None)
    return {"visit_id": visit.id, "decision_id": decision.id, "decided_at": decision.at, "triggers": decision.triggers,
            "nurse_id": int(chosen.split("-")[1]) if chosen else None, "eta": visit.eta, "deadline": deadline,
            "unassigned_reason": reason, "nurses": nurses}
