"""A job not accepted in time: first an SMS to the nurse, then the operators are alerted and the job goes to
another nurse. The time counts from when the job is due: at once for a call's visit, from `offer_lead_minutes`
before its window for a planned one. A hand assignment (locked) stays with her, and so does a job no other nurse
on duty can take (an unanswered offer is not a decline): the operators are alerted once, and decide.
`tick` is one pass at a given moment (tests drive it with their own clock);
`Escalator` runs it every few seconds in the service."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.alerts.models import Alert
from dispatch.alerts.service import raise_alert, raised_since
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.clients.models import Client
from dispatch.nurses.models import Nurse
from dispatch.nurses.service import on_duty
from dispatch.ports import SmsFailed, SmsNotConfigured, SmsSender
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
    released: list[int] = field(default_factory=list)  # taken back from her and re-planned
    kept: list[int] = field(default_factory=list)  # alerted, but left with her (a hand assignment, or nobody else)


@dataclass(frozen=True)
class Waiting:
    visit_id: int
    nurse_id: int
    offered_at: datetime
    due_at: datetime  # the moment the accept deadline starts counting


def due_at(visit: Visit, settings: Settings) -> datetime:
    """When an offer's deadline starts: at the offer for a call's visit (urgent by nature); for a planned visit
    not before `offer_lead_minutes` ahead of its window (an offer hours ahead waits without escalation)."""
    assert visit.offered_at is not None
    if visit.call_id is not None or visit.kind != "planned":
        return visit.offered_at
    return max(visit.offered_at, visit.window_start - timedelta(minutes=settings.offer_lead_minutes))


def _waiting(session: Session, settings: Settings, now: datetime) -> list[Waiting]:
    """Offers not accepted whose deadline has started (planned visits far ahead are not even read)."""
    soon = now + timedelta(minutes=settings.offer_lead_minutes)
    rows = session.exec(select(Visit).where(Visit.state == VisitState.assigned.value,
                                            col(Visit.offered_at).is_not(None), col(Visit.nurse_id).is_not(None),
                                            or_(col(Visit.call_id).is_not(None), col(Visit.kind) != "planned",
                                                col(Visit.window_start) <= soon))
                        .order_by(col(Visit.offered_at)))
    return [Waiting(v.id, v.nurse_id, v.offered_at, due_at(v, settings)) for v in rows
            if v.id is not None and v.nurse_id is not None and v.offered_at is not None]


def _others_able(session: Session, visit: Visit, nurse_id: int, now: datetime) -> bool:
    """Is another nurse on duty able to take it: her skills, and she has neither declined it nor let it go
    unanswered herself? (Otherwise it would only go round the same silent phones every few minutes.)"""
    passed = set(session.exec(select(VisitDecline.nurse_id).where(VisitDecline.visit_id == visit.id)).all())
    return any(n.id != nurse_id and n.id not in passed and set(visit.skills) <= set(n.skills)
               for n, _ in on_duty(session, now))


def tick(engine: Engine, settings: Settings, sms: SmsSender, *, now: datetime | None = None) -> TickResult:
    now = now or utcnow()
    result = TickResult()
    sms_due = now - timedelta(seconds=settings.offer_sms_after_s)
    alert_due = now - timedelta(seconds=settings.offer_alert_after_s)
    with Session(engine, expire_on_commit=False) as session:
        waiting = [w for w in _waiting(session, settings, now) if w.due_at <= sms_due]
        nurses = {n.id: (n.name, n.phone) for n in session.exec(select(Nurse))}
        session.rollback()
    for w in waiting:
        if w.due_at > alert_due:
            continue
        with Session(engine, expire_on_commit=False) as session:
            visit = session.exec(select(Visit).where(Visit.id == w.visit_id).with_for_update()
                                 .execution_options(populate_existing=True)).one()
            if visit.state != VisitState.assigned.value or visit.nurse_id != w.nurse_id \
                    or visit.offered_at != w.offered_at:
                continue  # accepted or moved meanwhile
            if _unanswered(session, settings, visit, nurse_name(nurses, w.nurse_id), w, now):
                result.released.append(w.visit_id)
            else:
                result.kept.append(w.visit_id)
            session.commit()
    for w in waiting:
        if w.visit_id in result.released:
            continue
        with Session(engine, expire_on_commit=False) as session:
            current = session.get(Visit, w.visit_id)
            if current is None or current.state != VisitState.assigned.value or current.nurse_id != w.nurse_id \
                    or current.sms_at is not None:
                continue
            session.rollback()  # no transaction held while Twilio answers
        try:
            sms.send(nurses[w.nurse_id][1], sms_text(w.visit_id))
        except SmsFailed as exc:
            with Session(engine) as session:
                _sms_failed(session, settings, exc, nurse_name(nurses, w.nurse_id), w, now)
                _sms_tried(session, w.visit_id, now)
                session.commit()
            result.sms_failed.append(w.visit_id)
            continue
        with Session(engine) as session:
            _sms_tried(session, w.visit_id, now)
            session.commit()
        result.sms_sent.append(w.visit_id)
    return result


def _unanswered(session: Session, settings: Settings, visit: Visit, name: str, w: Waiting, now: datetime) -> bool:
    """Her time to accept is up: the operators are told (once), and the job is re-planned to another nurse —
    unless an operator gave it to her by hand (it stays until an operator acts) or nobody else on duty can take
    it (it stays offered to her: an unanswered offer is not a decline). True when it was taken back."""
    minutes = settings.offer_alert_after_s // 60 or 1
    if visit.locked:
        release, then = False, "assigned to her by hand, it stays with her until an operator reassigns or releases it"
    elif _others_able(session, visit, w.nurse_id, now):
        release, then = True, "offered to another nurse"
    else:
        release, then = False, ("no other nurse on duty can take it (skills, declined or not answered either): "
                                "it stays offered to her")
    if release:
        visits.move(session, ESCALATION, visit, Move.unanswered, reason=f"not accepted within {minutes} min")
    if not raised_since(session, kind="offer_unanswered", visit_id=w.visit_id, nurse_id=w.nurse_id,
                        since=w.due_at):
        raise_alert(session, kind="offer_unanswered", visit_id=w.visit_id, nurse_id=w.nurse_id,
                    call_id=visit.call_id, at=now,
                    message=f"{name} did not accept {describe(session, settings, visit)} within {minutes} min; {then}")
    return release


def _sms_failed(session: Session, settings: Settings, exc: SmsFailed, name: str, w: Waiting, now: datetime) -> None:
    """A refused or unreachable SMS is an alert for that nurse and visit (once); no SMS provider at all is one
    alert a night, not one per offer."""
    if isinstance(exc, SmsNotConfigured):
        if not raised_since(session, kind="sms_not_configured", since=now - timedelta(hours=12)):
            raise_alert(session, kind="sms_not_configured", at=now,
                        message=f"SMS is not set up ({exc}): a nurse who does not accept an offer in the app gets "
                                "no SMS; offers not accepted in time are alerted here")
        return
    if raised_since(session, kind="sms_failed", visit_id=w.visit_id, nurse_id=w.nurse_id, since=w.due_at):
        return
    visit = session.get(Visit, w.visit_id)
    assert visit is not None
    raise_alert(session, kind="sms_failed", visit_id=w.visit_id, nurse_id=w.nurse_id, call_id=visit.call_id, at=now,
                message=f"SMS to {name} about {describe(session, settings, visit)} failed: {exc}")


def nurse_name(nurses: dict[int | None, tuple[str, str]], nurse_id: int | None) -> str:
    """Her name, as the operators know her."""
    return nurses[nurse_id][0] if nurse_id in nurses else f"nurse {nurse_id}"


def describe(session: Session, settings: Settings, visit: Visit) -> str:
    """The visit in an operator's words: what, for whom, where and when (and its number, to find it on the board)."""
    client = session.get(Client, visit.client_id)
    who = f"{client.given_name} {client.family_name} in {client.city}" if client is not None else "a client"
    if visit.call_id is not None or visit.kind != "planned":
        what = f"the {visit.urgency + ' ' if visit.urgency else ''}visit to {who} for call {visit.call_id}"
    else:
        tz = ZoneInfo(settings.region_timezone)
        what = (f"the planned visit to {who} at {visit.window_start.astimezone(tz):%H:%M}–"
                f"{visit.window_end.astimezone(tz):%H:%M}")
    return f"{what} (visit {visit.id})"


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
        known = (set(session.exec(select(Alert.call_id).where(
            Alert.kind == "call_past_target", col(Alert.call_id).in_({v.call_id for v in late}))).all())
                 if late else set())  # only these calls' alerts, not every one of the past
        for visit in late:
            if visit.call_id is None or visit.call_id in known:  # (the query asks for calls' visits)
                continue
            minutes = round((now - visit.window_end).total_seconds() / 60)
            nurse = session.get(Nurse, visit.nurse_id) if visit.nurse_id else None
            who = (f"{nurse.name if nurse else 'nurse ' + str(visit.nurse_id)} {visit.state.replace('_', ' ')}"
                   if visit.nurse_id else "no nurse yet")
            client = session.get(Client, visit.client_id)
            whom = f", {client.given_name} {client.family_name} in {client.city}" if client is not None else ""
            raise_alert(session, kind="call_past_target", call_id=visit.call_id, visit_id=visit.id,
                        nurse_id=visit.nurse_id, at=now,
                        message=f"call {visit.call_id} ({visit.urgency}{whom}): past its target by {minutes} min; "
                                f"{who}")
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
                log.info("escalation: %d offers released, %d SMS not sent", len(result.released),
                         len(result.sms_failed))
