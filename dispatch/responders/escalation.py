"""A job not accepted in time: first an SMS to the nurse, then the operators are alerted and the job goes to
another nurse (or, when no other nurse on duty can take it, is offered to her again: an unanswered offer is not
a decline). `tick` is one pass at a given moment (tests drive it with their own clock);
`Escalator` runs it every few seconds in the service."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.alerts.models import Alert
from dispatch.alerts.service import raise_alert
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.nurses.models import Nurse
from dispatch.nurses.service import on_duty
from dispatch.ports import SmsFailed, SmsSender
from dispatch.records.service import purge_expired
from dispatch.responders import outbox
from dispatch.settings import Settings
from dispatch.timeutil import utcnow
from dispatch.visits import service as visits
from dispatch.visits.lifecycle import Move, VisitState
from dispatch.visits.models import Visit, VisitDecline

log = logging.getLogger("nightcare.responders")
PRUNE_EVERY_S = 600
ESCALATION = Principal(user_id=None, username="escalation", role=Role.coordinator, organisation_id=None, nurse_id=None)


def sms_text(visit_id: int) -> str:
    """Minimal on purpose: no name, address, complaint or code (an SMS is neither private nor audited)."""
    return f"nightcare: new job {visit_id} is waiting for you. Open the app, or reply OK {visit_id} to accept."


@dataclass
class TickResult:
    sms_sent: list[int] = field(default_factory=list)
    sms_failed: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)


def _unanswered(session: Session) -> list[Visit]:
    return list(session.exec(select(Visit).where(Visit.state == VisitState.assigned.value,
                                                 col(Visit.offered_at).is_not(None))
                             .order_by(col(Visit.offered_at))))


def _others_able(session: Session, visit: Visit, nurse_id: int, now: datetime) -> bool:
    """Is another nurse on duty able to take it (her skills, and she has not declined it)?"""
    declined = set(session.exec(select(VisitDecline.nurse_id).where(VisitDecline.visit_id == visit.id,
                                                                    VisitDecline.kind == "declined")).all())
    return any(n.id != nurse_id and n.id not in declined and set(visit.skills) <= set(n.skills)
               for n, _ in on_duty(session, now))


def tick(engine: Engine, settings: Settings, sms: SmsSender, *, now: datetime | None = None) -> TickResult:
    now = now or utcnow()
    result = TickResult()
    sms_due = now - timedelta(seconds=settings.offer_sms_after_s)
    alert_due = now - timedelta(seconds=settings.offer_alert_after_s)
    with Session(engine, expire_on_commit=False) as session:
        waiting = [(v.id, v.nurse_id, v.offered_at) for v in _unanswered(session)
                   if v.id is not None and v.nurse_id is not None and v.offered_at is not None]
        phones = {n.id: n.phone for n in session.exec(select(Nurse))}
        session.rollback()
    for visit_id, nurse_id, offered_at in waiting:
        if offered_at > alert_due:
            continue
        with Session(engine, expire_on_commit=False) as session:
            visit = session.exec(select(Visit).where(Visit.id == visit_id).with_for_update()
                                 .execution_options(populate_existing=True)).one()
            if visit.state != VisitState.assigned.value or visit.nurse_id != nurse_id or visit.offered_at != offered_at:
                continue  # accepted or moved meanwhile
            minutes = settings.offer_alert_after_s // 60 or 1
            if _others_able(session, visit, nurse_id, now):
                then = "offered to another nurse"
            else:
                then = "no other nurse on duty can take it: offered to her again"
            message = f"visit {visit.id}: nurse {nurse_id} did not accept within {minutes} min; {then}"
            visits.move(session, ESCALATION, visit, Move.unanswered, reason=f"not accepted within {minutes} min")
            raise_alert(session, kind="offer_unanswered", message=message, visit_id=visit.id, nurse_id=nurse_id,
                        call_id=visit.call_id)
            session.commit()
            result.released.append(visit_id)
    for visit_id, nurse_id, offered_at in waiting:
        if visit_id in result.released or offered_at > sms_due:
            continue
        with Session(engine, expire_on_commit=False) as session:
            current = session.get(Visit, visit_id)
            if current is None or current.state != VisitState.assigned.value or current.nurse_id != nurse_id \
                    or current.sms_at is not None:
                continue
            session.rollback()  # no transaction held while Twilio answers
        try:
            sms.send(phones[nurse_id], sms_text(visit_id))
        except SmsFailed as exc:
            with Session(engine) as session:
                raise_alert(session, kind="sms_failed",
                            message=f"visit {visit_id}: SMS to nurse {nurse_id} failed: {exc}",
                            visit_id=visit_id, nurse_id=nurse_id)
                _sms_tried(session, visit_id, now)
                session.commit()
            result.sms_failed.append(visit_id)
            continue
        with Session(engine) as session:
            _sms_tried(session, visit_id, now)
            session.commit()
        result.sms_sent.append(visit_id)
    return result


def _sms_tried(session: Session, visit_id: int, now: datetime) -> None:
    """Sent, or tried once: the alert timer takes it from here."""
    visit = session.get(Visit, visit_id)
    if visit is not None:
        visit.sms_at = now
        session.add(visit)


def past_target(engine: Engine, *, now: datetime | None = None) -> list[int]:
    """Alert the operators, once per call, when a call's nurse has not arrived by its target."""
    now = now or utcnow()
    raised: list[int] = []
    with Session(engine) as session:
        late = session.exec(select(Visit).where(Visit.kind == "acute", col(Visit.call_id).is_not(None),
                                                col(Visit.state).in_(("open", "assigned", "accepted", "en_route")),
                                                Visit.window_end < now)).all()
        known = (set(session.exec(select(Alert.call_id).where(Alert.kind == "call_past_target")).all())
                 if late else set())
        for visit in late:
            if visit.call_id is None or visit.call_id in known:  # (the query asks for calls' visits)
                continue
            minutes = round((now - visit.window_end).total_seconds() / 60)
            who = f"nurse {visit.nurse_id} {visit.state.replace('_', ' ')}" if visit.nurse_id else "no nurse yet"
            raise_alert(session, kind="call_past_target", call_id=visit.call_id, visit_id=visit.id,
                        nurse_id=visit.nurse_id,
                        message=f"call {visit.call_id} ({visit.urgency}): past its target by {minutes} min; {who}")
            raised.append(visit.call_id)
        session.commit()
    return raised


def prune_outbox(engine: Engine, settings: Settings, *, now: datetime | None = None) -> int:
    """Forget the nurses' messages of nights gone by (`outbox_keep_hours`)."""
    with Session(engine) as session:
        removed = outbox.prune(session, before=(now or utcnow()) - timedelta(hours=settings.outbox_keep_hours))
        session.commit()
    return removed


class Escalator:
    """Runs `tick` every `settings.escalation_tick_s` off the event loop (its moves ask for their own re-plans),
    and prunes the outbox every few minutes."""

    def __init__(self, engine: Engine, settings: Settings, sms: SmsSender) -> None:
        self.engine, self.settings, self.sms = engine, settings, sms
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        pruned_at = 0.0
        while True:
            await asyncio.sleep(self.settings.escalation_tick_s)
            if time.monotonic() - pruned_at > PRUNE_EVERY_S:
                pruned_at = time.monotonic()
                try:
                    await asyncio.to_thread(prune_outbox, self.engine, self.settings)
                    await asyncio.to_thread(purge_expired, self.engine)  # the night's record summaries
                except Exception:
                    log.exception("pruning the outbox failed")
            try:
                await asyncio.to_thread(past_target, self.engine)
                result = await asyncio.to_thread(tick, self.engine, self.settings, self.sms)
            except Exception:
                log.exception("escalation pass failed")
                continue
            if result.released or result.sms_failed:
                log.info("escalation: %d offers released, %d SMS failed", len(result.released),
                         len(result.sms_failed))
