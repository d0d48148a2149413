"""A client's night summary for the operator taking a call: the record (as much as consent allows), the calls
about this client in the last 24 hours and 30 days with their outcomes, and what night nurses wrote after
their visits. Read for a call (or break-glass), scoped and audited like the record itself."""
from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlmodel import col, select

from dispatch.audit import service as audit
from dispatch.auth.deps import CurrentPrincipal
from dispatch.board.rows import call_rows
from dispatch.calls.models import Call
from dispatch.clients import service as clients
from dispatch.clients.access import visible_client
from dispatch.db import SessionDep
from dispatch.timeutil import utcnow
from dispatch.validation import ShortText
from dispatch.visits.models import Visit

router = APIRouter(prefix="/api/clients", tags=["clients"])
RECENT = timedelta(days=30)
TODAY = timedelta(hours=24)


@router.get("/{client_id}/night")
def night_summary(client_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep,
                  principal: CurrentPrincipal,
                  call_id: Annotated[int | None,
                                     Query(ge=1, le=2**31 - 1, description="the call this read is for")] = None,
                  break_glass_reason: Annotated[ShortText | None, Query()] = None) -> dict[str, Any]:
    access = visible_client(session, principal, client_id, call_id=call_id, break_glass_reason=break_glass_reason,
                            data="client.night")
    now = utcnow()
    record = clients.client_out(session, access.client, full=access.full)
    summary: dict[str, Any] = {"client": record.model_dump(mode="json"), "restricted": not access.full,
                               "calls_24h": [], "calls_30d": [], "night_notes": []}
    if access.full:
        earlier = list(session.exec(select(Call).where(Call.client_id == client_id, Call.received_at >= now - RECENT,
                                                       Call.id != (call_id or 0))
                                    .order_by(col(Call.received_at).desc()).limit(50)))
        rows = call_rows(session, earlier, now)
        summary["calls_24h"] = [r for r, c in zip(rows, earlier, strict=True) if c.received_at >= now - TODAY]
        summary["calls_30d"] = rows
        summary["night_notes"] = [
            {"visit_id": v.id, "completed_at": v.completed_at.isoformat() if v.completed_at else None,
             "note": v.handover_note}
            for v in session.exec(select(Visit).where(Visit.client_id == client_id, Visit.state == "completed",
                                                      col(Visit.completed_at) >= now - RECENT,
                                                      Visit.handover_note != "")
                                  .order_by(col(Visit.completed_at).desc()).limit(10))]
    audit.record(session, principal, action="read", data="client.night" if access.full else "client.identity",
                 client_ids=[client_id], reason=access.reason, break_glass=access.break_glass)
    return summary
