"""Twilio's webhooks: a phone call comes in (voice), its status changes, a nurse answers an SMS.

Every request must carry a valid X-Twilio-Signature (the SDK's RequestValidator over the public URL and
the form parameters); anything else is refused with 403 and logged, without its parameters. The form is read
on the event loop; the database work runs in the threadpool (it must not block the loop), and commits before
Twilio gets its answer.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Dial, VoiceResponse

from adapters.twilio import signature_valid
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.calls import service as calls
from dispatch.calls.models import Call
from dispatch.calls.schemas import CallIn, CallSource
from dispatch.errors import AppError, Forbidden, ServiceUnavailable
from dispatch.nurses.models import Nurse
from dispatch.responders.hub import board_after_commit
from dispatch.responders.models import InboundSms
from dispatch.visits import service as visits
from dispatch.visits.lifecycle import Move, VisitState
from dispatch.visits.models import Visit

router = APIRouter(prefix="/twilio", tags=["twilio"], include_in_schema=False)
log = logging.getLogger("nightcare.twilio")
TWILIO = Principal(user_id=None, username="twilio", role=Role.operator, organisation_id=None, nurse_id=None)
KEYWORD = re.compile(r"^\s*(ok|ja|yes|accept)\b\W*(\d+)?\s*$", re.IGNORECASE)
STATUSES = {"queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"}
T = TypeVar("T")


async def _form(request: Request) -> dict[str, str]:
    """The POSTed form, after the signature check."""
    settings = request.app.state.settings
    token = settings.twilio_auth_token.get_secret_value()
    if not token:
        raise ServiceUnavailable("Twilio is not configured on this service")
    form = {k: str(v) for k, v in (await request.form()).items()}
    url = (settings.public_base_url.rstrip("/") + request.url.path) if settings.public_base_url else str(request.url)
    if not signature_valid(token, url, form, request.headers.get("x-twilio-signature", "")):
        log.warning("refused a Twilio webhook with an invalid signature at %s from %s", request.url.path,
                    request.client.host if request.client else "?")
        raise Forbidden("invalid Twilio signature", field="X-Twilio-Signature")
    return form


async def _in_transaction(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work` in a session of its own in the threadpool; committed before the answer goes out."""
    def run() -> T:
        with Session(request.app.state.engine, expire_on_commit=False) as session:
            try:
                result = work(session)
                session.commit()
                return result
            except BaseException:
                session.rollback()
                raise
    return await run_in_threadpool(run)


def _xml(twiml: object) -> Response:
    return Response(content=str(twiml), media_type="application/xml")


@router.post("/voice")
async def incoming_call(request: Request) -> Response:
    """A call to the region's number: recorded (idempotent on CallSid) before the caller is put through."""
    form = await _form(request)
    sid = form.get("CallSid", "")
    if not re.fullmatch(r"CA[0-9a-fA-F]{32}", sid):
        raise Forbidden("CallSid missing or malformed", field="CallSid")
    region = request.app.state.settings.default_phone_region

    def record(session: Session) -> None:
        body = CallIn(source=CallSource.phone, source_ref=sid, caller_phone=form.get("From") or None)
        try:
            call, _ = calls.create_call(session, TWILIO, body, phone_region=region)
        except AppError:  # an unusable caller number (withheld, "anonymous"): still a call, without one
            call, _ = calls.create_call(session, TWILIO, CallIn(source=CallSource.phone, source_ref=sid),
                                        phone_region=region)
        call.phone_status = (form.get("CallStatus") or "ringing")[:20]
        session.add(call)

    await _in_transaction(request, record)
    line = request.app.state.settings.operator_line
    twiml = VoiceResponse()
    twiml.say("Night care. You are being put through to the night nurses' call centre.", language="en-GB")
    if line:
        dial = Dial(timeout=60)
        dial.number(line)
        twiml.append(dial)
    else:
        twiml.enqueue("nightcare-operators")
    return _xml(twiml)


@router.post("/voice/status")
async def call_status(request: Request) -> Response:
    """Twilio's status callback: the call's phone status follows (a caller who hung up is called back)."""
    form = await _form(request)
    status = form.get("CallStatus", "")

    def record(session: Session) -> None:
        call = session.exec(select(Call).where(Call.source == CallSource.phone.value, Call.origin == "",
                                               Call.source_ref == form.get("CallSid", ""))).first()
        if call is not None and status in STATUSES:
            call.phone_status = status
            session.add(call)
            board_after_commit(session, "call.phone", call_id=call.id, phone_status=status)

    await _in_transaction(request, record)
    return Response(status_code=204)


def _nurse_job(session: Session, nurse: Nurse, visit_id: int | None) -> Visit | None:
    stmt = select(Visit).where(Visit.nurse_id == nurse.id, Visit.state == VisitState.assigned.value)
    if visit_id is not None:
        stmt = stmt.where(Visit.id == visit_id)
    return session.exec(stmt.order_by(col(Visit.offered_at), col(Visit.id)).with_for_update()
                        .execution_options(populate_existing=True)).first()


def _first_time(session: Session, sid: str, nurse: Nurse) -> bool:
    """Twilio retries, and a signed request can be replayed: a reply is acted on once (by its MessageSid)."""
    if session.get(InboundSms, sid) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(InboundSms(message_sid=sid, nurse_id=nurse.id))
            session.flush()
    except IntegrityError:  # the same reply, delivered twice at once
        return False
    return True


@router.post("/sms")
async def incoming_sms(request: Request) -> Response:
    """A nurse's SMS reply: "OK 123" (or "ja 123") accepts job 123; "OK" alone her oldest offered job."""
    form = await _form(request)
    sid = form.get("MessageSid", "")
    if not re.fullmatch(r"[SM]M[0-9a-fA-F]{32}", sid):
        raise Forbidden("MessageSid missing or malformed", field="MessageSid")

    def answer(session: Session) -> MessagingResponse:
        reply = MessagingResponse()
        nurse = session.exec(select(Nurse).where(Nurse.phone == form.get("From", ""), Nurse.active)).first()
        match = KEYWORD.match(form.get("Body", ""))
        if nurse is None or not _first_time(session, sid, nurse):
            return reply  # not one of ours, or a reply already handled: no answer at all
        if match is None:
            reply.message("nightcare: reply OK followed by the job number to accept it.")
            return reply
        visit = _nurse_job(session, nurse, int(match.group(2)) if match.group(2) else None)
        if visit is None:
            reply.message("nightcare: no job waiting for you with that number. Open the app for your jobs.")
            return reply
        principal = Principal(user_id=None, username=f"sms:nurse-{nurse.id}", role=Role.nurse,
                              organisation_id=None, nurse_id=nurse.id)
        visits.move(session, principal, visit, Move.accept, reason="accepted by SMS")
        reply.message(f"nightcare: job {visit.id} accepted. Open the app for the address.")
        return reply

    return _xml(await _in_transaction(request, answer))
