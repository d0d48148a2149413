"""The operators' board over HTTP: everything the console needs to draw the night in one answer, and the
planned routes on their own (fetched again when a re-plan says so). Live changes come over /ws/operators in the
same row shapes (dispatch/board/rows.py)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from sqlmodel import col, select

from dispatch.alerts import service as alerts
from dispatch.audit import service as audit
from dispatch.auth.deps import Operators, RegionalOperators
from dispatch.auth.models import Role, Team
from dispatch.board import rows
from dispatch.calls import overflow
from dispatch.calls.lifecycle import OPEN_STATES
from dispatch.calls.models import Call
from dispatch.calls.service import visible_calls_filter
from dispatch.db import SessionDep
from dispatch.timeutil import utcnow

router = APIRouter(prefix="/api/board", tags=["board"])


def tile_origin(tile_url: str) -> str:
    """The tile server's origin (scheme://host[:port]), for the pages' content security policy."""
    parts = urlsplit(tile_url.replace("{s}", "a"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


@router.get("")
def board(request: Request, session: SessionDep, principal: Operators) -> dict[str, Any]:
    """The night at a glance: every open call (the backup team: the calls handed to it), the open visits with
    their places, the nurses, their routes, the alerts to acknowledge, the counts at the top, and what the
    console needs to draw it (the service's time and zone, the map's tiles, when to offer overflow)."""
    settings = request.app.state.settings
    now = utcnow()
    stmt = select(Call).where(col(Call.state).in_(OPEN_STATES))
    scope = visible_calls_filter(principal)
    if scope is not None:
        stmt = stmt.where(scope)
    calls = list(session.exec(stmt.order_by(col(Call.received_at), col(Call.id)).limit(1000)))
    call_rows = rows.call_rows(session, calls, now)
    follows_night = not (principal.role == Role.operator and principal.team == Team.backup)
    visits = rows.open_visits(session, until=now + timedelta(hours=settings.plan_lookahead_hours)) \
        if follows_night else []
    shown = {c.client_id for c in calls if c.client_id} | {v.client_id for v in visits}
    if shown:
        audit.record(session, principal, action="list", data="board", client_ids=sorted(shown),
                     reason="operators' board")
    counts = {"waiting_for_triage": sum(r["waiting_for_triage"] for r in call_rows),
              **{state: sum(r["state"] == state for r in call_rows)
                 for state in ("queued", "assigned", "accepted", "en_route", "on_scene", "escalated")},
              "past_target": sum(r["past_target"] for r in call_rows)}
    until = overflow.backup_until(session, now)
    return {
        "now": now.isoformat(), "timezone": settings.region_timezone,
        "me": {"username": principal.username, "role": principal.role.value, "team": principal.team.value},
        "calls": call_rows, "counts": counts,
        "visits": rows.visit_rows(session, visits),
        "nurses": rows.nurse_rows(session, now) if follows_night else [],
        "routes": rows.routes(session) if follows_night else {"decision_id": None, "at": None, "routes": {}},
        "alerts": rows.alert_rows(alerts.list_alerts(session, open_only=True, limit=200)) if follows_night else [],
        "overflow": {"backup_until": until.isoformat() if until else None,
                     "offer_after_s": settings.overflow_after_s, "offer_when_waiting": settings.overflow_waiting_calls},
        "map": {"tile_url": settings.map_tile_url, "attribution": settings.map_attribution,
                "center": [settings.base_lat, settings.base_lon]},
    }


@router.get("/routes")
def planned_routes(session: SessionDep, principal: RegionalOperators) -> dict[str, Any]:
    """Each nurse's planned route in order (visit ids and ETAs), from the newest decision."""
    return rows.routes(session)
