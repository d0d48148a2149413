"""Reports for coordinators."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from dispatch.apidoc import refused
from dispatch.auth.deps import Coordinators
from dispatch.db import SessionDep
from dispatch.reports import service

router = APIRouter(prefix="/api/reports", tags=["reports"])


class ComplianceFigures(BaseModel):
    triages: int
    questions_asked: int
    questions_skipped: int
    compliance: float | None  # asked / (asked + skipped); None without questions
    nothing_skipped_share: float | None
    dont_know: int
    overrides: int
    overrides_lowering: int
    overrides_raising: int


class OperatorWeek(ComplianceFigures):
    operator: str
    week: str  # ISO week in the region's time zone, e.g. 2026-W48


class RegionWeek(ComplianceFigures):
    week: str


class ComplianceOut(BaseModel):
    from_: str = Field(alias="from")
    to: str
    time_zone: str
    rows: list[OperatorWeek]
    weeks: list[RegionWeek]
    total: ComplianceFigures


@router.get("/triage-compliance", response_model=ComplianceOut, responses=refused(
    422, "`from` lies after `to`, or the period spans more than 366 days (rules between two parameters)"))
def triage_compliance(request: Request, session: SessionDep, principal: Coordinators,
                      start: Annotated[date, Query(alias="from", description="first day, YYYY-MM-DD (region date)")],
                      end: Annotated[date, Query(alias="to", description="last day, YYYY-MM-DD (included)")]) -> dict:
    """How closely each operator followed the protocol, per ISO week: questions asked and skipped, compliance,
    "don't know" answers, overrides (and how many lowered the protocol's urgency); with the region's totals."""
    return service.triage_compliance(session, start=start, end=end, tz=request.app.state.settings.region_timezone)
