from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from dispatch.apidoc import NOT_FOUND, link, links, refused, responses
from dispatch.audit import service as audit
from dispatch.auth.deps import Operators
from dispatch.auth.service import Principal
from dispatch.calls import service as calls
from dispatch.calls.models import Call
from dispatch.db import SessionDep
from dispatch.triage import runs, service
from dispatch.triage.runs import Run
from dispatch.validation import ShortText, Text
from protocols.model import DISPOSITIONS_FOR

router = APIRouter(prefix="/api/calls/{call_id}", tags=["triage"])
CallId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Identifier = Annotated[str, Text(80, 1)]
Urgency = Literal["U0", "U1", "U2", "U3", "U4", "U5"]
Disposition = Literal["call_112", "gp_post", "nurse_visit", "defer_to_day", "advice"]
Signal = Literal["second_call_24h", "severe_pain_or_anxiety", "rapid_deterioration", "operator_concern",
                 "known_high_risk"]


# Where a triage's answer goes next: its current question and answer options into the answer, its call into the
# decision (OpenAPI links; schemathesis' stateful phase follows them through the protocol).
_CALL = "$response.body#/call_id"
TRIAGE_LINKS = {
    "AnswerFirstOption": link("POST", "/api/calls/{call_id}/triage/answers", "answer the current question",
                              call_id=_CALL, body={"node": "$response.body#/step/node",
                                                   "answer": "$response.body#/step/answers/0/id"}),
    "AnswerSecondOption": link("POST", "/api/calls/{call_id}/triage/answers", "answer the current question",
                               call_id=_CALL, body={"node": "$response.body#/step/node",
                                                    "answer": "$response.body#/step/answers/1/id"}),
    "Decide": link("POST", "/api/calls/{call_id}/triage/decision", "accept or override the outcome", call_id=_CALL),
    "SetSignals": link("PUT", "/api/calls/{call_id}/triage/signals", "note alarm signals", call_id=_CALL),
    "GoBack": link("POST", "/api/calls/{call_id}/triage/back", "take back the last answer", call_id=_CALL),
    "ReadTriage": link("GET", "/api/calls/{call_id}/triage", "the triage as it stands", call_id=_CALL),
}
_STATE = refused(409, "the triage is not in a state for this: decided, superseded, or the call cannot be triaged "
                      "now (the error says which)")


class StartIn(BaseModel):
    complaint: Identifier = Field(description="entry complaint id, see GET /api/protocols/current")


class AnswerIn(BaseModel):
    node: Identifier = Field(description="the question being answered")
    answer: Identifier


class SignalsIn(BaseModel):
    signals: list[Signal] = Field(max_length=5, description="the operator's alarm signals; detected ones "
                                  "(second call, known high risk) are kept whatever is sent")
    concern_to_112_reason: ShortText | None = Field(
        default=None, description="the operator's concern raises the call to U1 (112, a nurse as well) with this "
                                  "reason; an empty text takes it back; absent leaves it as it is")


class DecisionIn(BaseModel):
    # Given together, the disposition fits the urgency (DISPOSITIONS_FOR), else 422.
    model_config = ConfigDict(json_schema_extra={"allOf": [
        {"if": {"required": ["urgency", "disposition"], "properties": {"urgency": {"const": urgency}}},
         "then": {"properties": {"disposition": {"enum": [*fitting, None]}}}}
        for urgency, fitting in DISPOSITIONS_FOR.items()]})

    urgency: Urgency | None = Field(default=None, description="override of the computed urgency")
    disposition: Disposition | None = Field(default=None, description="override of the computed disposition")
    reason: ShortText = Field(default="", description="required when lowering the urgency, and to decide before "
                                                      "the protocol reached an outcome")


class TriageOut(BaseModel):
    id: int
    call_id: int
    state: str
    protocol: dict[str, Any]
    complaint: dict[str, str]
    answers: list[dict[str, str]]
    signals: list[str]
    concern_reason: str
    step: dict[str, Any]
    decision: dict[str, Any] | None
    started_at: datetime
    started_by: str


def _call(session: Session, principal: Principal, call_id: int, action: str) -> Call:
    call = calls.get_visible_call(session, principal, call_id)
    audit.record(session, principal, action=action, data="call.triage", client_ids=[call.client_id],
                 reason=f"call {call.id}")
    return call


def _out(session: Session, request: Request, run: Run) -> dict[str, Any]:
    return service.view(session, run, request.app.state.settings)


@router.post("/triage", response_model=TriageOut, status_code=201, responses=responses(
    links(201, "the triage, at its first question", **TRIAGE_LINKS), NOT_FOUND, _STATE))
def start_triage(call_id: CallId, body: StartIn, request: Request, session: SessionDep,
                 principal: Operators) -> dict[str, Any]:
    """Start triage with an entry complaint; a waiting call (triaged or queued) is re-triaged."""
    call = _call(session, principal, call_id, "triage")
    triage = service.start(session, principal, call, complaint=body.complaint, settings=request.app.state.settings)
    return _out(session, request, triage)


@router.get("/triage", response_model=TriageOut)
def read_triage(call_id: CallId, request: Request, session: SessionDep, principal: Operators) -> dict[str, Any]:
    call = _call(session, principal, call_id, "read")
    return _out(session, request, runs.current(session, call))


@router.get("/triages", response_model=list[TriageOut])
def triage_history(call_id: CallId, request: Request, session: SessionDep,
                   principal: Operators) -> list[dict[str, Any]]:
    """Every triage of the call, superseded ones included."""
    call = _call(session, principal, call_id, "read")
    return [_out(session, request, t) for t in runs.history(session, call)]


@router.post("/triage/answers", response_model=TriageOut, responses=responses(
    links(200, "the triage, at its next question or its outcome", **TRIAGE_LINKS), NOT_FOUND,
    refused(409, "the answer is not for the current question (the error names it), or comes after the outcome "
                 "was reached; or the triage is decided or superseded")))
def answer(call_id: CallId, body: AnswerIn, request: Request, session: SessionDep,
           principal: Operators) -> dict[str, Any]:
    call = _call(session, principal, call_id, "triage")
    triage = service.answer(session, runs.current(session, call), node=body.node, answer_id=body.answer)
    return _out(session, request, triage)


@router.post("/triage/back", response_model=TriageOut, responses=responses(
    links(200, "the triage, at the question taken back", **TRIAGE_LINKS), NOT_FOUND,
    refused(409, "no answer to take back, or the triage is decided or superseded")))
def go_back(call_id: CallId, request: Request, session: SessionDep, principal: Operators) -> dict[str, Any]:
    """Take back the last answer."""
    call = _call(session, principal, call_id, "triage")
    return _out(session, request, service.back(session, runs.current(session, call)))


@router.put("/triage/signals", response_model=TriageOut, responses=responses(
    links(200, "the triage with its signals", **TRIAGE_LINKS), NOT_FOUND, _STATE))
def set_signals(call_id: CallId, body: SignalsIn, request: Request, session: SessionDep,
                principal: Operators) -> dict[str, Any]:
    """Alarm signals the operator notes (they raise urgency). A second call within 24 h is detected."""
    call = _call(session, principal, call_id, "triage")
    return _out(session, request, service.set_signals(session, runs.current(session, call), list(body.signals),
                                                                concern_reason=body.concern_to_112_reason))


@router.post("/triage/decision", response_model=TriageOut, responses=responses(
    NOT_FOUND, refused(409, "the protocol has not reached an outcome and no reason is given, the client is not "
                            "identified for a visit or day task (112 and the GP post are recorded without her: "
                            "what needs her waits for her name), or the triage is decided or superseded"),
    refused(422, "a rule that depends on the protocol's outcome: lowering its urgency needs a `reason`; a "
                 "`disposition` given without `urgency` must fit the computed urgency")))
def decide(call_id: CallId, body: DecisionIn, request: Request, session: SessionDep,
           principal: Operators) -> dict[str, Any]:
    """Accept the outcome (or override it) and act: visit, day-team task, 112, GP post or advice. A call to 112
    or the GP post is recorded at once, client known or not; a nurse or day task it needs then waits for the
    client to be identified (an alert says so, and `decision.waiting_for_client` lists what waits)."""
    call = _call(session, principal, call_id, "triage")
    run = service.decide(session, principal, call, runs.current(session, call), urgency=body.urgency,
                         disposition=body.disposition, reason=body.reason, settings=request.app.state.settings)
    triage = run.decision
    assert triage is not None
    return _out(session, request, run)
