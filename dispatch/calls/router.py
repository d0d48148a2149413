from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlmodel import Session

from dispatch.apidoc import NOT_FOUND, link, refused, responses
from dispatch.audit import service as audit
from dispatch.auth.deps import CurrentPrincipal, Operators, roles
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.calls import service
from dispatch.calls.lifecycle import CallState, allowed_from
from dispatch.calls.models import Call, CallEvent
from dispatch.calls.schemas import (
    CallEventOut,
    CallIn,
    CallOut,
    EscalationIn,
    EscalationOut,
    HandoverIn,
    IdentifyIn,
    TransitionIn,
)
from dispatch.clients.models import Client
from dispatch.db import SessionDep
from dispatch.errors import Forbidden, NotFound
from dispatch.timeutil import utcnow
from dispatch.triage import service as triage
from dispatch.validation import Moment
from dispatch.visits import service as visits

router = APIRouter(prefix="/api/calls", tags=["calls"])
CallId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Intake = Annotated[Principal, roles(Role.operator, Role.coordinator, Role.partner)]

# Where a call's id goes next (OpenAPI links; schemathesis' stateful phase follows them).
_ID = "$response.body#/id"
CALL_LINKS = {
    "StartTriage": link("POST", "/api/calls/{call_id}/triage", "triage the call", call_id=_ID),
    "ReadCall": link("GET", "/api/calls/{call_id}", "the call and its history", call_id=_ID),
    "IdentifyClient": link("POST", "/api/calls/{call_id}/client", "name the client who called", call_id=_ID),
    "RecordEscalation": link("POST", "/api/calls/{call_id}/escalations", "record a call to 112 or the GP post",
                             call_id=_ID),
    "MoveCall": link("POST", "/api/calls/{call_id}/transitions", "move the call along its life", call_id=_ID),
}
_UNKNOWN_REFERENCE = refused(422, "a name in the body refers to nothing you may use: `client_id` (no such client, "
                                  "or not in the organisation), `organisation` (no such code), `client_external_id` "
                                  "without `client_external_system`; and `source_ref` is required except for manual "
                                  "entry. The error names the field.")


def call_out(call: Call, events: list[CallEvent]) -> CallOut:
    return CallOut(
        **call.model_dump(include=set(CallOut.model_fields) - {"allowed_transitions", "events"}),
        allowed_transitions=[s.value for s in allowed_from(CallState(call.state))],
        events=[CallEventOut.model_validate(e, from_attributes=True) for e in events],
    )


def _outs(session: Session, calls: list[Call]) -> list[CallOut]:
    """The calls with their histories (stored calls: each has its id)."""
    events = service.events_of(session, [c.id for c in calls if c.id is not None])
    return [call_out(c, events[c.id] if c.id is not None else []) for c in calls]


def _audit_calls(session: Session, principal: Principal, calls: list[Call], action: str) -> None:
    audit.record(session, principal, action=action, data="call", client_ids=[c.client_id for c in calls],
                 reason="calls " + ",".join(str(c.id) for c in calls[:20]) + ("…" if len(calls) > 20 else ""))


@router.post("", response_model=CallOut, status_code=201, responses=responses(
    {201: {"description": "the call, taken", "links": CALL_LINKS},
     200: {"model": CallOut, "description": "a retry: the call already exists", "links": CALL_LINKS}},
    _UNKNOWN_REFERENCE))
def create_call(body: CallIn, request: Request, response: Response, session: SessionDep,
                principal: Intake) -> CallOut:
    """Take a call from any source. Idempotent on (source, source_ref): a retry returns the same call
    with status 200. The call is committed before the response is sent."""
    call, created = service.create_call(session, principal, body,
                                        phone_region=request.app.state.settings.default_phone_region)
    if not created:
        response.status_code = 200
    _audit_calls(session, principal, [call], "create" if created else "read")
    return _outs(session, [call])[0]


@router.get("", response_model=list[CallOut])
def list_calls(
    session: SessionDep,
    principal: CurrentPrincipal,
    state: Annotated[list[CallState] | None, Query()] = None,
    open: Annotated[bool, Query(description="only calls that are not closed")] = False,
    organisation_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    client_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    since: Moment | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
) -> list[CallOut]:
    if principal.role == Role.partner and organisation_id not in (None, principal.organisation_id):
        raise Forbidden("partners see only their own organisation's calls", field="organisation_id")
    calls = service.list_calls(session, principal, states=state, organisation_id=organisation_id,
                               client_id=client_id, since=since, open_only=open, limit=limit, offset=offset)
    if calls:
        _audit_calls(session, principal, calls, "list")
    return _outs(session, calls)


@router.get("/{call_id}", response_model=CallOut, responses=NOT_FOUND)
def read_call(call_id: CallId, session: SessionDep, principal: CurrentPrincipal) -> CallOut:
    call = service.get_visible_call(session, principal, call_id)
    _audit_calls(session, principal, [call], "read")
    return _outs(session, [call])[0]


@router.post("/{call_id}/transitions", response_model=CallOut, responses=responses(
    NOT_FOUND, refused(409, "the call cannot go there from its state (the error lists the allowed moves)")))
def transition_call(call_id: CallId, body: TransitionIn, session: SessionDep, principal: CurrentPrincipal) -> CallOut:
    """Move the call along its life; an illegal move is a 409 listing the allowed ones."""
    call = service.get_visible_call(session, principal, call_id)
    service.move_by_hand(session, principal, call, body.to, reason=body.reason)
    _audit_calls(session, principal, [call], "update")
    return _outs(session, [call])[0]


@router.post("/{call_id}/handover", response_model=CallOut, responses=responses(
    NOT_FOUND, refused(409, "the call is with that team already, or closed")))
def hand_over(call_id: CallId, body: HandoverIn, session: SessionDep, principal: Operators) -> CallOut:
    """Hand a call to the backup triage team (peaks, calamities), or back; an event in the call's history."""
    call = service.get_visible_call(session, principal, call_id)
    service.hand_over(session, principal, call, body.to, reason=body.reason)
    _audit_calls(session, principal, [call], "update")
    return _outs(session, [call])[0]


@router.post("/{call_id}/escalations", response_model=EscalationOut, status_code=201, responses=NOT_FOUND)
def record_escalation(call_id: CallId, body: EscalationIn, session: SessionDep, principal: Operators) -> EscalationOut:
    """Record a call to 112 or the GP out-of-hours post: when, whom, what was agreed."""
    call = service.get_visible_call(session, principal, call_id)
    escalation = service.record_escalation(session, principal, call, to=body.to, called_at=body.called_at or utcnow(),
                                           contact=body.contact, note_text=body.note)
    _audit_calls(session, principal, [call], "update")
    return EscalationOut.model_validate(escalation, from_attributes=True)


@router.get("/{call_id}/escalations", response_model=list[EscalationOut], responses=NOT_FOUND)
def list_escalations(call_id: CallId, session: SessionDep, principal: CurrentPrincipal) -> list[EscalationOut]:
    call = service.get_visible_call(session, principal, call_id)
    assert call.id is not None
    return [EscalationOut.model_validate(e, from_attributes=True) for e in service.escalations_of(session, call.id)]


@router.post("/{call_id}/client", response_model=CallOut, responses=responses(
    NOT_FOUND, refused(422, "the call is matched to another client already: correcting that needs a `reason` (a rule "
                            "on the call's state)")))
def identify_client(call_id: CallId, body: IdentifyIn, request: Request, session: SessionDep,
                    principal: Operators) -> CallOut:
    """The operator identifies the caller as one of the region's clients (found with a search), or corrects an
    earlier match with a reason. A waiting visit of the call goes with it to the right client; what a decided
    triage left waiting for her name (after 112 or the GP post was called) is done now: the nurse is sent, her
    own team asked."""
    call = service.get_visible_call(session, principal, call_id)
    client = session.get(Client, body.client_id)
    if client is None:
        raise NotFound(f"no client {body.client_id}", field="client_id")
    before = call.client_id
    service.identify_client(session, principal, call, client, reason=body.reason)
    visits.rebind_client(session, principal, call, client)
    triage.client_identified(session, principal, call, settings=request.app.state.settings)
    audit.record(session, principal, action="identify", data="call.client",
                 client_ids=[c for c in (before, client.id) if c is not None],
                 reason=f"call {call.id}" + (f": corrected from client {before}: {body.reason}"
                                             if before not in (None, client.id) else ""))
    return _outs(session, [call])[0]
