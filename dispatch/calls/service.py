"""Call intake (idempotent, client matching) and the event-sourced lifecycle."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dispatch.alerts.service import raise_alert
from dispatch.auth.models import Role, Team
from dispatch.auth.service import Principal
from dispatch.calls.lifecycle import (
    OPEN_STATES,
    VISIT_DRIVEN,
    CallState,
    allowed_from,
    path,
)
from dispatch.calls.models import Call, CallEscalation, CallEvent
from dispatch.calls.overflow import team_for_new_call
from dispatch.calls.schemas import CallIn, CallSource
from dispatch.clients.models import Client, ClientExternalId, ClientPhone
from dispatch.clients.service import organisation_by_code
from dispatch.errors import Conflict, Forbidden, Invalid, NotFound
from dispatch.events import CallChanged, publish
from dispatch.organisations.models import Organisation
from dispatch.triage.models import Triage
from dispatch.validation import normalise_phone
from dispatch.visits.models import Visit


def _find(session: Session, source: str, origin: str, source_ref: str) -> Call | None:
    return session.exec(select(Call).where(Call.source == source, Call.origin == origin,
                                           Call.source_ref == source_ref)).first()


def create_call(session: Session, principal: Principal, body: CallIn, *, phone_region: str = "NL") -> tuple[Call, bool]:
    """Take a call from any source. Returns (call, created); a retry returns the existing call."""
    if principal.role == Role.partner:
        if body.source != CallSource.partner:
            raise Forbidden("a partner organisation submits calls with source 'partner'", field="source")
        if body.organisation not in (None, _org_code(session, principal.organisation_id)):
            raise Forbidden("a partner submits calls for its own organisation only", field="organisation")
        org_id: int | None = principal.organisation_id
    elif body.organisation:
        org_id = organisation_by_code(session, body.organisation).id
    else:
        org_id = None
    if body.source == CallSource.partner and org_id is None:
        raise Invalid("a partner call names its organisation", field="organisation")

    if body.source_ref is None and body.source != CallSource.manual:
        raise Invalid(f"source_ref is required for {body.source.value} calls (the source's own id)",
                      field="source_ref")
    source_ref = body.source_ref or f"manual-{uuid.uuid4()}"
    # A partner's refs are its own namespace; phone/alarm/manual refs are region-wide.
    origin = f"org:{org_id}" if body.source == CallSource.partner else ""

    existing = _find(session, body.source.value, origin, source_ref)
    if existing is not None:
        return existing, False

    caller = normalise_phone(body.caller_phone, phone_region) if body.caller_phone else None
    # Matching is confined to the sender's organisation when one is given.
    client, match = _match_client(session, principal, body, caller, scope_org=org_id)
    call = Call(
        source=body.source.value,
        origin=origin,
        source_ref=source_ref,
        caller_phone=caller or body.caller_phone,
        client_id=client.id if client else None,
        organisation_id=client.organisation_id if client else org_id,
        client_match=match,
        text=body.text,
        state=CallState.received.value,
        created_by_user_id=principal.user_id,
        team=team_for_new_call(session).value,
    )
    try:
        with session.begin_nested():
            session.add(call)
            session.flush()
    except IntegrityError:
        # A concurrent retry of the same source_ref won the race: return its call.
        existing = _find(session, body.source.value, origin, source_ref)
        if existing is None:
            raise
        return existing, False
    _append_event(session, principal, call, None, CallState.received, reason=f"{body.source.value} intake")
    _alert_if_called_again(session, call)
    return call, True


URGENT = ("U0", "U1", "U2")
AGAIN_WITHIN = timedelta(hours=24)


def _alert_if_called_again(session: Session, call: Call) -> None:
    """A second call about a client whose earlier call (within 24 h) was urgent: the operators must know at once."""
    if call.client_id is None:
        return
    earlier = session.exec(select(Triage.call_id, Triage.final_urgency)
                           .join(Call, col(Call.id) == Triage.call_id).where(
        Call.client_id == call.client_id, Call.id != call.id, Call.received_at >= call.received_at - AGAIN_WITHIN,
        col(Triage.final_urgency).in_(URGENT)).order_by(col(Triage.id).desc())).first()
    if earlier is not None:
        raise_alert(session, kind="second_call_urgent", call_id=call.id,
                    message=f"call {call.id}: the client called before, within 24 h (call {earlier[0]}, "
                            f"{earlier[1]})")


def _org_code(session: Session, organisation_id: int | None) -> str | None:
    org = session.get(Organisation, organisation_id) if organisation_id else None
    return org.code if org else None


def _match_client(session: Session, principal: Principal, body: CallIn, caller: str | None,
                  *, scope_org: int | None) -> tuple[Client | None, str]:
    if body.client_id is not None:
        client = session.get(Client, body.client_id)
        if client is None or (scope_org is not None and client.organisation_id != scope_org):
            raise Invalid(f"no client {body.client_id}" + (" in this organisation" if scope_org else ""),
                          field="client_id")
        return client, "given"
    if body.client_external_id:
        if scope_org is None:
            raise Invalid("an external client id needs the organisation it belongs to", field="organisation")
        stmt = select(ClientExternalId).where(ClientExternalId.organisation_id == scope_org,
                                              ClientExternalId.value == body.client_external_id)
        if body.client_external_system:
            stmt = stmt.where(ClientExternalId.system == body.client_external_system)
        ext = session.exec(stmt).all()
        if len(ext) == 1:
            return session.get(Client, ext[0].client_id), "external_id"
    if caller:
        by_phone = select(ClientPhone.client_id).where(ClientPhone.number == caller).distinct()
        if scope_org is not None:
            by_phone = by_phone.join(Client, col(Client.id) == ClientPhone.client_id).where(
                Client.organisation_id == scope_org)
        ids = session.exec(by_phone).all()
        if len(ids) == 1:
            return session.get(Client, ids[0]), "phone"
        if len(ids) > 1:
            return None, "ambiguous"  # e.g. a couple sharing one line: the operator identifies
    return None, "none"


def _append_event(session: Session, principal: Principal, call: Call, from_state: CallState | None,
                  to_state: CallState, *, reason: str, team_changed: bool = False) -> CallEvent:
    assert call.id is not None  # flushed when created
    last = session.exec(select(func.max(CallEvent.seq)).where(CallEvent.call_id == call.id)).one()
    event = CallEvent(call_id=call.id, seq=(last or 0) + 1, actor_user_id=principal.user_id,
                      actor=principal.username, actor_role=principal.role.value,
                      from_state=from_state.value if from_state else None, to_state=to_state.value, reason=reason)
    call.state = to_state.value
    session.add(event)
    session.add(call)
    session.flush()
    assert call.id is not None
    publish(session, CallChanged(call_id=call.id, from_state=event.from_state, to_state=event.to_state,
                                 reason=reason, by=principal, team_changed=team_changed))
    return event


def _lock(session: Session, call: Call) -> None:
    """Serialise concurrent changes of one call (PostgreSQL row lock; SQLite writes are serial)."""
    session.exec(select(Call.id).where(Call.id == call.id).with_for_update()).first()
    session.refresh(call)


def transition(session: Session, principal: Principal, call: Call, to: CallState, *, reason: str = "") -> CallEvent:
    """Move a call to `to`, or refuse with 409 naming the transitions that are allowed."""
    _lock(session, call)
    _check_may_transition(principal, call, to)
    current = CallState(call.state)
    allowed = allowed_from(current)
    if to not in allowed:
        names = ", ".join(s.value for s in allowed) or "none (the call is closed)"
        raise Conflict(f"a call cannot go from {current.value} to {to.value}; allowed: {names}", field="to",
                       allowed=[s.value for s in allowed], state=current.value)
    if to == CallState.cancelled and not reason.strip():
        raise Invalid("cancelling a call needs a reason", field="reason")
    return _append_event(session, principal, call, current, to, reason=reason)


def move_by_hand(session: Session, principal: Principal, call: Call, to: CallState, *, reason: str = "") -> CallEvent:
    """A move asked for through the API: the states that follow the call's visit are not set by hand."""
    if to in VISIT_DRIVEN or (to == CallState.completed and call.state == CallState.on_scene.value):
        raise Conflict(f"a call goes to {to.value} with its visit (the nurse accepts, sets off, arrives, completes; "
                       "an operator assigns or cancels the visit)", field="to", state=call.state,
                       allowed=[s.value for s in allowed_from(CallState(call.state))
                                if s not in VISIT_DRIVEN and not (s == CallState.completed
                                                                  and call.state == CallState.on_scene.value)])
    return transition(session, principal, call, to, reason=reason)


def follow(session: Session, principal: Principal, call: Call, goal: CallState, *, reason: str) -> list[CallEvent]:
    """Bring an open call to `goal` along the dispatch track, as its visit moved (no way there: it stays)."""
    _lock(session, call)
    if call.state not in OPEN_STATES:
        return []
    if goal == CallState.cancelled:
        return [_append_event(session, principal, call, CallState(call.state), goal, reason=reason)]
    return [_append_event(session, principal, call, CallState(call.state), step, reason=reason)
            for step in path(CallState(call.state), goal)]


def note(session: Session, principal: Principal, call: Call, reason: str, *, team_changed: bool = False) -> CallEvent:
    """Something happened to the call that is not a move (a manual reassignment, a hand-over): an event in its
    history with the state unchanged."""
    _lock(session, call)
    state = CallState(call.state)
    return _append_event(session, principal, call, state, state, reason=reason, team_changed=team_changed)


def hand_over(session: Session, principal: Principal, call: Call, to: Team, *, reason: str = "") -> Call:
    """Hand a call to the backup triage team, or back to the region's own (an event in the call's history)."""
    _lock(session, call)
    if call.state not in OPEN_STATES:
        raise Conflict(f"call {call.id} is closed ({call.state})", field="to")
    if call.team == to.value:
        raise Conflict(f"call {call.id} is already with the {to.value} team", field="to")
    if principal.role == Role.operator and principal.team == Team.backup and to == Team.backup:
        raise Forbidden("the backup team hands calls back; the regional team hands them over", field="to")
    call.team = to.value
    session.add(call)
    session.flush()
    what = "handed to the backup triage team" if to == Team.backup else "handed back to the regional team"
    note(session, principal, call, what + (f": {reason.strip()}" if reason.strip() else ""), team_changed=True)
    return call


def record_escalation(session: Session, principal: Principal, call: Call, *, to: str, called_at: datetime,
                      contact: str, note_text: str = "") -> CallEscalation:
    """The operator called 112 or the GP post: when, whom, what was agreed (and an event in the call's history)."""
    if call.state not in OPEN_STATES and call.state != CallState.completed.value:
        raise Conflict(f"call {call.id} is {call.state}", field="call_id")
    assert call.id is not None
    escalation = CallEscalation(call_id=call.id, to=to, called_at=called_at, contact=contact, note=note_text,
                                by=principal.username)
    session.add(escalation)
    session.flush()
    label = "112" if to == "call_112" else "the GP out-of-hours post"
    note(session, principal, call, f"{label} called at {called_at.isoformat(timespec='minutes')}: {contact}"
         + (f" ({note_text})" if note_text else ""))
    return escalation


def escalations_of(session: Session, call_id: int) -> list[CallEscalation]:
    return list(session.exec(select(CallEscalation).where(CallEscalation.call_id == call_id)
                             .order_by(col(CallEscalation.id))))


def _check_may_transition(principal: Principal, call: Call, to: CallState) -> None:
    if principal.role in (Role.operator, Role.coordinator):
        return
    if principal.role == Role.partner and to == CallState.cancelled and call.source == CallSource.partner.value:
        return  # a partner system may withdraw a call it raised itself
    raise Forbidden(f"a {principal.role.value} cannot move this call to {to.value}", field="to")


def visible_calls_filter(principal: Principal):
    """The WHERE clause limiting calls to the principal's scope (None: all calls). The backup triage team sees
    the calls handed to it."""
    if principal.role == Role.partner:
        return Call.organisation_id == principal.organisation_id
    if principal.role == Role.nurse:
        return col(Call.id).in_(select(Visit.call_id).where(Visit.nurse_id == principal.nurse_id))
    if principal.role == Role.operator and principal.team == Team.backup:
        return Call.team == Team.backup.value
    return None


def get_visible_call(session: Session, principal: Principal, call_id: int) -> Call:
    stmt = select(Call).where(Call.id == call_id)
    scope = visible_calls_filter(principal)
    if scope is not None:
        stmt = stmt.where(scope)
    call = session.exec(stmt).first()
    if call is None:  # also when out of scope: ids cannot be probed
        raise NotFound(f"no call {call_id}", field="call_id")
    return call


def list_calls(session: Session, principal: Principal, *, states: list[CallState] | None, organisation_id: int | None,
               client_id: int | None, since: datetime | None, open_only: bool, limit: int, offset: int) -> list[Call]:
    stmt = select(Call)
    scope = visible_calls_filter(principal)
    if scope is not None:
        stmt = stmt.where(scope)
    if states:
        stmt = stmt.where(col(Call.state).in_([s.value for s in states]))
    if open_only:
        stmt = stmt.where(col(Call.state).in_(OPEN_STATES))
    if organisation_id is not None:
        stmt = stmt.where(Call.organisation_id == organisation_id)
    if client_id is not None:
        stmt = stmt.where(Call.client_id == client_id)
    if since is not None:
        stmt = stmt.where(Call.received_at >= since)
    stmt = stmt.order_by(col(Call.received_at).desc(), col(Call.id).desc()).offset(offset).limit(limit)
    return list(session.exec(stmt))


def events_of(session: Session, call_ids: list[int]) -> dict[int, list[CallEvent]]:
    result: dict[int, list[CallEvent]] = {i: [] for i in call_ids}
    if call_ids:
        stmt = (select(CallEvent).where(col(CallEvent.call_id).in_(call_ids))
                .order_by(col(CallEvent.call_id), col(CallEvent.seq)))
        for event in session.exec(stmt):
            result[event.call_id].append(event)
    return result


def identify_client(session: Session, principal: Principal, call: Call, client: Client, *, reason: str = "") -> Call:
    """The operator names the call's client. Correcting an earlier match needs a reason; it is an event in the
    call's history either way. A call whose nurse is already sent keeps its client (cancel and take it anew)."""
    _lock(session, call)
    if call.state not in OPEN_STATES:
        raise Conflict(f"call {call.id} is closed ({call.state}); its client cannot change", field="client_id")
    if call.client_id == client.id:
        return call
    if call.client_id is not None and not reason.strip():
        raise Invalid(f"call {call.id} is already matched to client {call.client_id}; correcting it needs a reason",
                      field="reason")
    if CallState(call.state) in VISIT_DRIVEN:
        raise Conflict(f"call {call.id} has a nurse on the way ({call.state}); cancel its visit to change the "
                       "client", field="client_id")
    before = call.client_id
    call.client_id = client.id
    call.organisation_id = client.organisation_id
    call.client_match = "operator"
    session.add(call)
    session.flush()
    what = f"client identified: {client.id}" if before is None else f"client corrected: {before} → {client.id}"
    note(session, principal, call, what + (f" ({reason.strip()})" if reason.strip() else ""))
    _alert_if_called_again(session, call)
    return call
