"""Who may read which client, how much of the record, and why. Every decision is audited (refusals too).

- A coordinator reads any client (regional administration); a partner its own organisation's clients.
- Night staff (operators, nurses) read a client in the context of work: an open call identified as this client,
  the nurse's own open visit (for a visit that came from a call, while the call is open), or break-glass with a
  reason (flagged in the audit log). An operator with an unidentified call *searches* identities (see
  `clients/router.py`); that opens no record.
- Without the client's consent to share with the night team, night staff see identity, address and access
  instructions only; the rest of the record needs break-glass.
- A summary from the organisation's record system (cross-system, e.g. FHIR) is shown only when
  `Access.summary_allowed`: to the client's own organisation; to anyone else only with the client's consent to
  share the summary (and, for night staff, to share with the night team), or by break-glass.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

from sqlmodel import Session, col, select

from dispatch.audit import service as audit
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.calls.lifecycle import OPEN_STATES as OPEN_CALL_STATES
from dispatch.calls.models import Call
from dispatch.calls.service import visible_calls_filter
from dispatch.clients.models import Client
from dispatch.errors import AppError, Forbidden, NotFound
from dispatch.visits.lifecycle import OPEN_STATES as OPEN_VISIT_STATES
from dispatch.visits.models import Visit

MIN_BREAK_GLASS_REASON = 10


@dataclass(frozen=True)
class Access:
    client: Client
    reason: str  # for the audit entry: the call, the job, or the break-glass reason
    break_glass: bool = False
    full: bool = True  # False: identity, address and access instructions only (no consent, no break-glass)
    # The cross-system summary (dispatch/records, the organisation's FHIR record) may be fetched and shown.
    summary_allowed: bool = False


def visible_client(session: Session, principal: Principal, client_id: int, *,
                   call_id: int | None = None, break_glass_reason: str | None = None,
                   data: str = "client") -> Access:
    """Load a client the principal may read, or refuse (audited). A client outside the principal's scope is
    reported as not found, so ids cannot be probed."""
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"no client {client_id}", field="client_id")

    def refuse(why: str, exc: AppError) -> AppError:
        return audit.refused(exc, principal, action="read", data=data, client_id=client.id, reason=why)

    if principal.role == Role.coordinator:
        return Access(client, break_glass_reason or "regional administration",
                      summary_allowed=client.consent_summary)
    if principal.role == Role.partner:
        if client.organisation_id != principal.organisation_id:
            raise refuse("client of another organisation", NotFound(f"no client {client_id}", field="client_id"))
        return Access(client, "own organisation's client", summary_allowed=True)

    if break_glass_reason:
        if not break_glass_ok(break_glass_reason):
            raise refuse("break-glass reason too short",
                         Forbidden(f"a break-glass reason needs at least {MIN_BREAK_GLASS_REASON} characters",
                                   field="break_glass_reason"))
        return Access(client, break_glass_reason, break_glass=True, summary_allowed=True)
    if call_id is not None:
        call = open_call_of(session, principal, call_id)
        ok = call is not None and call.client_id == client.id
        if ok and principal.role == Role.nurse:
            ok = nurse_has_job(session, principal, client_id, call_id=call_id)
        if not ok:
            raise refuse(f"call {call_id} gives no access to this client",
                         Forbidden(f"call {call_id} is not an open call identified as this client (search to "
                                   "identify, or give a break_glass_reason)", field="call_id"))
        return Access(client, f"call {call_id}", full=client.consent_night_team,
                      summary_allowed=client.consent_night_team and client.consent_summary)
    if principal.role == Role.nurse and nurse_has_job(session, principal, client_id):
        return Access(client, "assigned job", full=client.consent_night_team,
                      summary_allowed=client.consent_night_team and client.consent_summary)
    raise refuse("no call, job or break-glass reason given",
                 Forbidden("night staff read a client for a call (call_id) or a job, or give a break_glass_reason",
                           field="call_id"))


def open_call_of(session: Session, principal: Principal, call_id: int) -> Call | None:
    """An open call in this person's scope (the backup triage team: the calls handed to it), or None."""
    stmt = select(Call).where(Call.id == call_id, col(Call.state).in_(OPEN_CALL_STATES))
    scope = visible_calls_filter(principal)
    if scope is not None:
        stmt = stmt.where(scope)
    return session.exec(stmt).first()


def break_glass_ok(reason: str | None) -> TypeGuard[str]:
    """Emergency access outside a call or job needs a real reason."""
    return reason is not None and len(reason.strip()) >= MIN_BREAK_GLASS_REASON


def nurse_has_job(session: Session, principal: Principal, client_id: int, *, call_id: int | None = None) -> bool:
    """The nurse has an open visit at this client (for a visit that came from a call, the call is open too)."""
    if principal.nurse_id is None:
        return False
    stmt = (select(Visit.id).outerjoin(Call, col(Call.id) == Visit.call_id)
            .where(Visit.client_id == client_id, Visit.nurse_id == principal.nurse_id,
                   col(Visit.state).in_(OPEN_VISIT_STATES),
                   (col(Visit.call_id).is_(None)) | (col(Call.state).in_(OPEN_CALL_STATES))))
    if call_id is not None:
        stmt = stmt.where(Visit.call_id == call_id)
    return session.exec(stmt).first() is not None
