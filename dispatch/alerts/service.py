"""Alerts for the operators: raised by the service, listed on the board, acknowledged by a person."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from dispatch.alerts.models import Alert
from dispatch.auth.service import Principal
from dispatch.errors import Conflict, NotFound
from dispatch.events import AlertChanged, publish
from dispatch.timeutil import utcnow


def raise_alert(session: Session, *, kind: str, message: str, visit_id: int | None = None,
                nurse_id: int | None = None, call_id: int | None = None, at: datetime | None = None) -> Alert:
    alert = Alert(kind=kind, message=message[:500], visit_id=visit_id, nurse_id=nurse_id, call_id=call_id,
                  at=at or utcnow())
    session.add(alert)
    session.flush()
    assert alert.id is not None
    publish(session, AlertChanged(alert_id=alert.id))
    return alert


def raised_since(session: Session, *, kind: str, since: datetime, visit_id: int | None = None,
                 nurse_id: int | None = None) -> bool:
    """Is this alert already before the operators: still unacknowledged, or raised at or after `since`? (The same
    escalation is not alerted twice.)"""
    stmt = select(Alert.id).where(Alert.kind == kind, (col(Alert.resolved_at).is_(None)) | (Alert.at >= since))
    if visit_id is not None:
        stmt = stmt.where(Alert.visit_id == visit_id)
    if nurse_id is not None:
        stmt = stmt.where(Alert.nurse_id == nurse_id)
    return session.exec(stmt.limit(1)).first() is not None


def list_alerts(session: Session, *, open_only: bool, limit: int) -> list[Alert]:
    stmt = select(Alert)
    if open_only:
        stmt = stmt.where(col(Alert.resolved_at).is_(None))
    return list(session.exec(stmt.order_by(col(Alert.id).desc()).limit(limit)))


def acknowledge(session: Session, principal: Principal, alert_id: int) -> Alert:
    alert = session.exec(select(Alert).where(Alert.id == alert_id).with_for_update()).first()
    if alert is None:
        raise NotFound(f"no alert {alert_id}", field="alert_id")
    if alert.resolved_at is not None:
        raise Conflict(f"alert {alert_id} was acknowledged by {alert.resolved_by}", field="alert_id")
    alert.resolved_at, alert.resolved_by = utcnow(), principal.username
    session.add(alert)
    session.flush()
    publish(session, AlertChanged(alert_id=alert_id))
    return alert


def resolve_alerts(session: Session, principal: Principal, *, kind: str, call_id: int) -> list[Alert]:
    """A call's open alerts of a kind whose request was met (the client it asked for is named): resolved by
    whoever met it, gone from every board."""
    alerts = list(session.exec(select(Alert).where(Alert.kind == kind, Alert.call_id == call_id,
                                                   col(Alert.resolved_at).is_(None)).with_for_update()))
    for alert in alerts:
        alert.resolved_at, alert.resolved_by = utcnow(), principal.username
        session.add(alert)
        session.flush()
        assert alert.id is not None
        publish(session, AlertChanged(alert_id=alert.id))
    return alerts
