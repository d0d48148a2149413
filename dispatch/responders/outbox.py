"""Messages to a nurse's phone, written to the outbox in the transaction that caused them.

Each nurse has her own sequence (1, 2, 3, …) kept in `nurse_channels`; the row is locked while a number is
handed out, so two transactions never give out the same one. Connected sockets are woken after the commit
(`hub.wake_after_commit`); a phone that was away asks for everything after the last number it saw.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, event
from sqlmodel import Session, col, select

from dispatch.audit import service as audit
from dispatch.auth.models import Role
from dispatch.auth.service import SYSTEM
from dispatch.clients.models import Client
from dispatch.events import VisitChanged
from dispatch.responders import hub
from dispatch.responders.models import NurseChannel, OutboxMessage
from dispatch.timeutil import utcnow
from dispatch.visits.lifecycle import OPEN_STATES, VisitState, allowed_actions
from dispatch.visits.models import Visit

KINDS = ("job.offered", "job.updated", "job.cancelled", "plan.changed")
ADDRESSED = ("job.offered", "job.updated")  # these carry the client's address
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


@dataclass
class Page:
    messages: list[OutboxMessage]  # what the phone still needs, in order
    last_seq: int  # the last message read (sent or passed over)
    more: bool  # another page follows


def after(session: Session, nurse_id: int, seq: int, *, limit: int = 500) -> Page:
    """What the phone still needs after `seq`: a message that carries an address only while that visit is still
    hers and open (an offer she can no longer act on is passed over, so a phone back after hours, or a new one,
    is not sent every address of the night), the newest of her routes, and every withdrawal."""
    rows = list(session.exec(select(OutboxMessage).where(OutboxMessage.nurse_id == nurse_id, OutboxMessage.seq > seq)
                             .order_by(col(OutboxMessage.seq)).limit(limit)))
    about = {m.payload.get("visit_id") for m in rows if m.kind in ADDRESSED}
    current = set(session.exec(select(Visit.id).where(col(Visit.id).in_(about), Visit.nurse_id == nurse_id,
                                                      col(Visit.state).in_(OPEN_STATES)))) if about else set()
    newest_route = max((m.seq for m in rows if m.kind == "plan.changed"), default=None)
    needed = [m for m in rows if (m.kind not in ADDRESSED or m.payload.get("visit_id") in current)
              and (m.kind != "plan.changed" or m.seq == newest_route)]
    return Page(messages=needed, last_seq=rows[-1].seq if rows else seq, more=len(rows) == limit)


def prune(session: Session, *, before: datetime) -> int:
    """Forget messages written before `before` (the night is over: no phone needs them, and they hold addresses)."""
    result = session.execute(delete(OutboxMessage).where(col(OutboxMessage.created_at) < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def acknowledge(session: Session, nurse_id: int, seq: int) -> None:
    channel = session.get(NurseChannel, nurse_id)
    if channel is not None and channel.acked_seq < seq <= channel.last_seq:
        channel.acked_seq, channel.acked_at = seq, utcnow()
        session.add(channel)


def job(session: Session, visit: Visit) -> dict[str, Any]:
    """What the phone needs to show a job: where and how urgent, what she may do with it now — never health
    details or the key-safe code (the nurse opens the client and the code through the API, which audits it)."""
    client = session.get(Client, visit.client_id)
    assert client is not None
    return {"visit_id": visit.id, "kind": visit.kind, "urgency": visit.urgency, "state": visit.state,
            "window_start": _iso(visit.window_start), "window_end": _iso(visit.window_end), "eta": _iso(visit.eta),
            "service_minutes": visit.service_minutes, "client_id": client.id,
            "address": f"{client.street} {client.house_number}, {client.postcode} {client.city}",
            "lat": client.lat, "lon": client.lon, "has_keysafe": client.keysafe_code_encrypted is not None,
            "allowed_actions": allowed_actions(VisitState(visit.state), Role.nurse, own=True, locked=visit.locked)}


def _push_job(session: Session, visit: Visit, kind: str) -> None:
    """A message that carries the client's address: written, and recorded in the audit log as a disclosure."""
    assert visit.nurse_id is not None
    publish(session, visit.nurse_id, kind, job(session, visit))
    audit.record(session, SYSTEM, action="push", data="visit.address", client_ids=[visit.client_id],
                 reason=f"visit {visit.id}: {kind} to the phone of nurse {visit.nurse_id}",
                 on_behalf_of=f"nurse {visit.nurse_id}")


def visit_changed(session: Session, event: VisitChanged) -> None:
    """Tell the nurses what a change of a visit means for them, in the transaction that made it: offered to the
    new one, withdrawn from the previous one, cancelled, or (same nurse) a new state or time."""
    visit = session.get(Visit, event.visit_id)
    assert visit is not None
    before, now_with = event.nurse_before, visit.nurse_id
    closed = visit.state in (VisitState.completed.value, VisitState.cancelled.value)
    if before is not None and (before != now_with or visit.state == VisitState.cancelled.value):
        publish(session, before, "job.cancelled", {"visit_id": visit.id, "reason": event.reason or
                                                   ("cancelled" if visit.state == "cancelled" else "re-planned")})
    if now_with is None or closed:
        return
    if before != now_with:
        _push_job(session, visit, "job.offered")
    elif event.action == "eta":
        moved = (visit.eta is None) != (event.eta_before is None) or (
            visit.eta is not None and event.eta_before is not None
            and abs((visit.eta - event.eta_before).total_seconds()) >= ETA_CHANGE_S)
        if moved:
            _push_job(session, visit, "job.updated")
    else:
        _push_job(session, visit, "job.updated")


def told(session: Session) -> set[int]:
    """The nurses written to in this session's current transaction."""
    return set(session.info.get("outbox_woken", ()))


def plan_changed(session: Session, nurse_id: int, decision_id: int, route: list[tuple[int, datetime | None]]) -> None:
    """Her route in the new plan, in order (sent when a re-plan changed any of her jobs)."""
    publish(session, nurse_id, "plan.changed", {"decision_id": decision_id,
                                                "route": [{"visit_id": v, "eta": _iso(eta)} for v, eta in route]})


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
