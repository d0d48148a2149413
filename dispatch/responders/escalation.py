"""A job not accepted in time: first an SMS to the nurse, then the operators are alerted and the job is
re-planned to another nurse. `tick` is one pass at a given moment (tests drive it with their own clock);
`Escalator` runs it every few seconds in the service."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.nurses.models import Nurse
from dispatch.ports import SmsFailed, SmsSender
from dispatch.responders.hub import board_after_commit
from dispatch.responders.jobs import release
from dispatch.responders.models import Alert
from dispatch.settings import Settings
from dispatch.timeutil import utcnow
from dispatch.visits.models import Visit

log = logging.getLogger("nightcare.responders")


def sms_text(visit_id: int) -> str:
    """Minimal on purpose: no name, address, complaint or code (an SMS is neither private nor audited)."""
    return f"nightcare: new job {visit_id} is waiting for you. Open the app, or reply OK {visit_id} to accept."


@dataclass
class TickResult:
    sms_sent: list[int] = field(default_factory=list)
    sms_failed: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)


def _unanswered(session: Session) -> list[Visit]:
    return list(session.exec(select(Visit).where(Visit.state == "assigned", col(Visit.offered_at).is_not(None))
                             .order_by(col(Visit.offered_at))))


def tick(engine: Engine, settings: Settings, sms: SmsSender, *, now: datetime | None = None) -> TickResult:
    now = now or utcnow()
    result = TickResult()
    sms_due = now - timedelta(seconds=settings.offer_sms_after_s)
    alert_due = now - timedelta(seconds=settings.offer_alert_after_s)
    with Session(engine, expire_on_commit=False) as session:
        waiting = [(v.id, v.nurse_id, v.offered_at) for v in _unanswered(session)]
        phones = {n.id: n.phone for n in session.exec(select(Nurse))}
        session.rollback()
    for visit_id, nurse_id, offered_at in waiting:
        if offered_at > alert_due:
            continue
        with Session(engine, expire_on_commit=False) as session:
            visit = session.exec(select(Visit).where(Visit.id == visit_id).with_for_update()).one()
            if visit.state != "assigned" or visit.nurse_id != nurse_id or visit.offered_at != offered_at:
                continue  # accepted or moved meanwhile
            minutes = settings.offer_alert_after_s // 60 or 1
            message = f"visit {visit.id}: nurse {nurse_id} did not accept within {minutes} min; re-planned"
            session.add(Alert(kind="offer_unanswered", visit_id=visit.id, nurse_id=nurse_id, message=message))
            release(session, visit, reason=f"not accepted within {minutes} min", by="escalation")
            board_after_commit(session, "alert", kind_of_alert="offer_unanswered", visit_id=visit.id,
                               nurse_id=nurse_id, message=message)
            session.commit()
            result.released.append(visit_id)
    for visit_id, nurse_id, offered_at in waiting:
        if visit_id in result.released or offered_at > sms_due:
            continue
        with Session(engine, expire_on_commit=False) as session:
            visit = session.get(Visit, visit_id)
            if visit is None or visit.state != "assigned" or visit.nurse_id != nurse_id or visit.sms_at is not None:
                continue
            session.rollback()  # no transaction held while Twilio answers
        try:
            sms.send(phones[nurse_id], sms_text(visit_id))
        except SmsFailed as exc:
            with Session(engine) as session:
                session.add(Alert(kind="sms_failed", visit_id=visit_id, nurse_id=nurse_id,
                                  message=f"visit {visit_id}: SMS to nurse {nurse_id} failed: {exc}"[:500]))
                board_after_commit(session, "alert", kind_of_alert="sms_failed", visit_id=visit_id, nurse_id=nurse_id)
                visit = session.get(Visit, visit_id)
                if visit is not None:  # tried once; the alert timer takes it from here
                    visit.sms_at = now
                    session.add(visit)
                session.commit()
            result.sms_failed.append(visit_id)
            continue
        with Session(engine) as session:
            visit = session.get(Visit, visit_id)
            if visit is not None:
                visit.sms_at = now
                session.add(visit)
                session.commit()
        result.sms_sent.append(visit_id)
    return result


class Escalator:
    """Runs `tick` every `settings.escalation_tick_s` off the event loop; asks for a re-plan after releases."""

    def __init__(self, engine: Engine, settings: Settings, sms: SmsSender,
                 replan: Callable[[str], None]) -> None:
        self.engine, self.settings, self.sms, self.replan = engine, settings, sms, replan
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.escalation_tick_s)
            try:
                result = await asyncio.to_thread(tick, self.engine, self.settings, self.sms)
            except Exception:  # noqa: BLE001 - the next tick tries again; never end escalation
                log.exception("escalation pass failed")
                continue
            if result.released:
                self.replan(f"jobs {result.released} not accepted in time")
