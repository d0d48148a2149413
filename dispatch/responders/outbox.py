"""Messages to a nurse's phone, written to the outbox in the transaction that caused them.

Each nurse has her own sequence (1, 2, 3, …) kept in `nurse_channels`; the row is locked while a number is
handed out, so two transactions never give out the same one. Connected sockets are woken after the commit
(`hub.wake_after_commit`); a phone that was away asks for everything after the last number it saw.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlmodel import Session, col, select

from dispatch.clients.models import Client
from dispatch.responders import hub
from dispatch.responders.models import NurseChannel, OutboxMessage
from dispatch.timeutil import utcnow
from dispatch.visits.models import Visit

KINDS = ("job.offered", "job.updated", "job.cancelled", "plan.changed")
ETA_CHANGE_S = 120  # an ETA that moves less than this is not news to the nurse


def publish(session: Session, nurse_id: int, kind: str, payload: dict[str, Any]) -> OutboxMessage:
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind}")
    channel = _channel(session, nurse_id)
    channel.last_seq += 1
    message = OutboxMessage(nurse_id=nurse_id, seq=channel.last_seq, kind=kind, payload=payload)
    session.add(message)  # written with the rest of the transaction (a re-plan's messages in one batch)
    woken = session.info.setdefault("outbox_woken", set())
    if nurse_id not in woken:  # one wake-up per nurse and transaction is enough: she reads all that is new
        woken.add(nurse_id)
        hub.wake_after_commit(session, nurse_id)
    return message


def _channel(session: Session, nurse_id: int) -> NurseChannel:
    """Her channel row, locked once per transaction and kept until it ends (a re-plan may publish dozens)."""
    channels = session.info.get("outbox_channels")
    if channels is None:
        channels = session.info["outbox_channels"] = {}
        if not session.info.get("outbox_listening"):
            session.info["outbox_listening"] = True
            event.listen(session, "after_transaction_end", _forget)
    channel = channels.get(nurse_id)
    if channel is None:
        channel = session.exec(select(NurseChannel).where(NurseChannel.nurse_id == nurse_id).with_for_update()).first()
        if channel is None:
            channel = NurseChannel(nurse_id=nurse_id)
        session.add(channel)
        channels[nurse_id] = channel
    return channel


def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is not None:
        return  # a savepoint: the outer transaction still holds the lock
    session.info.pop("outbox_channels", None)
    session.info.pop("outbox_woken", None)


def after(session: Session, nurse_id: int, seq: int, *, limit: int = 500) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).where(OutboxMessage.nurse_id == nurse_id, OutboxMessage.seq > seq)
                             .order_by(col(OutboxMessage.seq)).limit(limit)))


def acknowledge(session: Session, nurse_id: int, seq: int) -> None:
    channel = session.get(NurseChannel, nurse_id)
    if channel is not None and channel.acked_seq < seq <= channel.last_seq:
        channel.acked_seq, channel.acked_at = seq, utcnow()
        session.add(channel)


def job(session: Session, visit: Visit) -> dict[str, Any]:
    """What the phone needs to show a job: where and how urgent, never health details or the key-safe code
    (the nurse opens the client summary and the code through the API, which audits it)."""
    client = session.get(Client, visit.client_id)
    assert client is not None
    return {"visit_id": visit.id, "kind": visit.kind, "urgency": visit.urgency, "state": visit.state,
            "window_start": _iso(visit.window_start), "window_end": _iso(visit.window_end), "eta": _iso(visit.eta),
            "service_minutes": visit.service_minutes, "client_id": client.id,
            "address": f"{client.street} {client.house_number}, {client.postcode} {client.city}",
            "lat": client.lat, "lon": client.lon, "has_keysafe": client.keysafe_code_encrypted is not None}


def assignment_changed(session: Session, visit: Visit, *, before: int | None, eta_before: datetime | None = None,
                       reason: str = "") -> set[int]:
    """Tell the nurses what a change of this visit means for them: offered to the new one, withdrawn from the
    previous one, or (same nurse) a new time. Returns the nurses told."""
    told: set[int] = set()
    if before is not None and before != visit.nurse_id:
        publish(session, before, "job.cancelled", {"visit_id": visit.id, "reason": reason or "re-planned"})
        told.add(before)
    if visit.nurse_id is None or visit.state == "cancelled":
        if before is not None and before == visit.nurse_id:
            publish(session, before, "job.cancelled", {"visit_id": visit.id, "reason": reason or "cancelled"})
            told.add(before)
        return told
    if before != visit.nurse_id:
        visit.offered_at, visit.sms_at = utcnow(), None
        session.add(visit)
        publish(session, visit.nurse_id, "job.offered", job(session, visit))
        told.add(visit.nurse_id)
    elif visit.eta is not None and (eta_before is None or abs((visit.eta - eta_before).total_seconds()) >= ETA_CHANGE_S):
        publish(session, visit.nurse_id, "job.updated", job(session, visit))
        told.add(visit.nurse_id)
    return told


def plan_changed(session: Session, nurse_id: int, decision_id: int, route: list[tuple[int, datetime | None]]) -> None:
    """Her route in the new plan, in order (sent when a re-plan changed any of her jobs)."""
    publish(session, nurse_id, "plan.changed", {"decision_id": decision_id,
                                                "route": [{"visit_id": v, "eta": _iso(eta)} for v, eta in route]})


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
