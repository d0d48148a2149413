"""The coordinator's figures over HTTP (partners: their own organisation's)."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from dispatch.apidoc import refused
from dispatch.auth.deps import roles
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.db import SessionDep
from dispatch.insight import service
from dispatch.insight.schemas import KpisOut
from dispatch.timeutil import utcnow

router = APIRouter(prefix="/api/insight", tags=["insight"])
Readers = Annotated[Principal, roles(Role.coordinator, Role.partner)]


@router.get("/kpis", response_model=KpisOut, response_model_by_alias=True, responses=refused(
    422, "`from` after `to`, more than 92 nights, or a night outside 2000-2100 (rules between the two dates "
    "and on the range, which JSON Schema cannot state for a date)"))
def kpis(request: Request, session: SessionDep, principal: Readers,
         first: Annotated[date | None, Query(alias="from", description="first night, YYYY-MM-DD (the night that "
                                                                       "begins that day); default: `to`")] = None,
         last: Annotated[date | None, Query(alias="to", description="last night, included; default: the last "
                                                                    "finished night")] = None) -> dict[str, Any]:
    """Response times per urgency (p50, p90, share within the region's target), calls per urgency and outcome, per
    organisation and per hour of the night, and the night team's utilisation, for nights `from` to `to` (at most
    92). A night runs from 07:00 to 07:00 the next morning, region time. A partner sees its own clients' calls."""
    return service.kpi_report(session, principal, first=first, last=last, settings=request.app.state.settings,
                              now=utcnow())
