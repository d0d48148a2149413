"""Twilio's webhooks: a phone call comes in (voice), its status changes, a nurse answers an SMS.

Every request must carry a valid X-Twilio-Signature (the SDK's RequestValidator over the public URL and
the form parameters); anything else is refused with 403 and logged, without its parameters.
"""
from __future__ import annotations

import logging
import re

from fastapi import APIRouter, Request, Response
from sqlmodel import Session, select
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Dial, VoiceResponse

from adapters.twilio import signature_valid
from dispatch.assignment.router import request_replan
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.calls import service as calls
from dispatch.calls.models import Call
from dispatch.calls.schemas import CallIn, CallSource
from dispatch.db import SessionDep
from dispatch.errors import AppError, Forbidden, ServiceUnavailable
from dispatch.nurses.models import Nurse
from dispatch.responders.hub import board_after_commit
from dispatch.responders.jobs import advance
from dispatch.visits.models import Visit

router = APIRouter(prefix="/twilio", tags=["twilio"], include_in_schema=False)
log = logging.getLogger("nightcare.twilio")
TWILIO = Principal(user_id=None, username="twilio", role=Role.operator, organisation_id=None, nurse_id=None)
KEYWORD = re.compile(r"^\s*(ok|ja|yes|accept)\b\W*(\d+)?\s*$", re.IGNORECASE)
STATUSES = {"queued", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled"}


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


def _xml(twiml: object) -> Response:
    return Response(content=str(twiml), media_type="application/xml")


@router.post("/voice")
async def incoming_call(request: Request, session: SessionDep) -> Response:
    """A call to the region's number: recorded (idempotent on CallSid) before the caller is put through."""
    form = await _form(request)
    sid = form.get("CallSid", "")
    if not re.fullmatch(r"CA[0-9a-fA-F]{32}", sid):
        raise Forbidden("CallSid missing or malformed", field="CallSid")
    body = CallIn(source=CallSource.phone, source_ref=sid, caller_phone=form.get("From") or None)
    try:
        call, _ = calls.create_call(session, TWILIO, body, phone_region=request.app.state.settings.default_phone_region)
    except AppError:  # an unusable caller number (withheld, "anonymous"): still a call, without one
        call, _ = calls.create_call(session, TWILIO, CallIn(source=CallSource.phone, source_ref=sid),
                                    phone_region=request.app.state.settings.default_phone_region)
    call.phone_status = (form.get("CallStatus") or "ringing")[:20]
    session.add(call)
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
async def call_status(request: Request, session: SessionDep) -> Response:
    """Twilio's status callback: the call's phone status follows (a caller who hung up is called back)."""
    form = await _form(request)
    status = form.get("CallStatus", "")
    call = session.exec(select(Call).where(Call.source == CallSource.phone.value, Call.origin == "",
                                           Call.source_ref == form.get("CallSid", ""))).first()
    if call is not None and status in STATUSES:
        call.phone_status = status
        session.add(call)
        board_after_commit(session, "call.phone", call_id=call.id, phone_status=status)
    return Response(status_code=204)


def _nurse_job(session: Session, nurse: Nurse, visit_id: int | None) -> Visit | None:
    stmt = select(Visit).where(Visit.nurse_id == nurse.id, Visit.state == "assigned")
    if visit_id is not None:
        stmt = stmt.where(Visit.id == visit_id)
    return session.exec(stmt.order_by(Visit.offered_at, Visit.id)).first()


@router.post("/sms")
async def incoming_sms(request: Request, session: SessionDep) -> Response:
    """A nurse's SMS reply: "OK 123" (or "ja 123") accepts job 123; "OK" alone her oldest offered job."""
    form = await _form(request)
    reply = MessagingResponse()
    nurse = session.exec(select(Nurse).where(Nurse.phone == form.get("From", ""), Nurse.active)).first()
    match = KEYWORD.match(form.get("Body", ""))
    if nurse is None:
        return _xml(reply)  # not one of ours: no answer at all
    if match is None:
        reply.message("nightcare: reply OK followed by the job number to accept it.")
        return _xml(reply)
    visit = _nurse_job(session, nurse, int(match.group(2)) if match.group(2) else None)
    if visit is None:
        reply.message("nightcare: no job waiting for you with that number. Open the app for your jobs.")
        return _xml(reply)
    principal = Principal(user_id=None, username=f"sms:nurse-{nurse.id}", role=Role.nurse, organisation_id=None,
                          nurse_id=nurse.id)
    advance(session, principal, visit, "accepted", reason="accepted by SMS")
    request_replan(request, session, f"nurse {nurse.id} accepted visit {visit.id} by SMS")
    reply.message(f"nightcare: job {visit.id} accepted. Open the app for the address.")
    return _xml(reply)
