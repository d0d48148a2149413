from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from dispatch.alerts import service
from dispatch.alerts.models import Alert
from dispatch.auth.deps import RegionalOperators
from dispatch.db import SessionDep

router = APIRouter(prefix="/api/alerts", tags=["alerts"])


class AlertOut(BaseModel):
    id: int
    at: datetime
    kind: str
    message: str
    visit_id: int | None
    nurse_id: int | None
    call_id: int | None
    resolved_at: datetime | None
    resolved_by: str | None


@router.get("", response_model=list[AlertOut])
def list_alerts(session: SessionDep, principal: RegionalOperators,
                open: Annotated[bool, Query(description="only alerts not yet acknowledged")] = True,
                limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[Alert]:
    """What the operators must see: unaccepted offers, failed SMS, … newest first."""
    return service.list_alerts(session, open_only=open, limit=limit)


@router.post("/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge(alert_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep,
                principal: RegionalOperators) -> Alert:
    return service.acknowledge(session, principal, alert_id)
