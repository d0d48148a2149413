"""Who may read which client, and why. Every decision is audited (refusals too)."""
from __future__ import annotations

from sqlmodel import Session, col, select

from dispatch.audit import service as audit
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.calls.lifecycle import OPEN_STATES
from dispatch.calls.models import Call
from dispatch.clients.models import Client
from dispatch.errors import AppError, Forbidden, NotFound
from dispatch.visits.models import Visit

ACTIVE_VISIT_STATES = ("open", "assigned", "accepted", "en_route", "on_scene")
MIN_BREAK_GLASS_REASON = 10


def visible_client(session: Session, principal: Principal, client_id: int, *,
                   call_id: int | None = None, break_glass_reason: str | None = None,
                   data: str = "client") -> tuple[Client, str, bool]:
    """Load a client the principal may read; returns (client, reason, break_glass) for the audit entry.

    A client outside the principal's scope is reported as not found, so ids cannot be probed.
    """
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound(f"no client {client_id}", field="client_id")

    def refuse(why: str, exc: AppError) -> AppError:
        return audit.refused(exc, principal, action="read", data=data, client_id=client.id, reason=why)

    if principal.role == Role.coordinator:
        return client, break_glass_reason or "regional administration", False
    if principal.role == Role.partner:
        if client.organisation_id != principal.organisation_id:
            raise refuse("client of another organisation", NotFound(f"no client {client_id}", field="client_id"))
        return client, "own organisation's client", False

    # Night staff (operator, nurse) see a client in the context of a call or job, or break glass.
    if call_id is not None:
        call = session.get(Call, call_id)
        ok = call is not None and call.state in OPEN_STATES and call.client_id in (None, client.id)
        if ok and principal.role == Role.nurse:
            ok = _nurse_has_job(session, principal, client.id, call_id=call_id)
        if ok:
            return client, f"call {call_id}", False
        raise refuse(f"call {call_id} gives no access to this client",
               Forbidden(f"call {call_id} is not an open call about this client", field="call_id"))
    if principal.role == Role.nurse and _nurse_has_job(session, principal, client.id):
        return client, "assigned job", False
    if break_glass_reason:
        if not break_glass_ok(break_glass_reason):
            raise refuse("break-glass reason too short",
                   Forbidden(f"a break-glass reason needs at least {MIN_BREAK_GLASS_REASON} characters",
                             field="break_glass_reason"))
        return client, break_glass_reason, True
    raise refuse("no call, job or break-glass reason given",
                 Forbidden("night staff read a client for a call (call_id) or a job, or give a break_glass_reason",
                           field="call_id"))


def break_glass_ok(reason: str | None) -> bool:
    """Emergency access outside a call or job needs a real reason."""
    return bool(reason) and len(reason.strip()) >= MIN_BREAK_GLASS_REASON


def _nurse_has_job(session: Session, principal: Principal, client_id: int, *, call_id: int | None = None) -> bool:
    stmt = select(Visit.id).where(
        Visit.client_id == client_id,
        Visit.nurse_id == principal.nurse_id,
        col(Visit.state).in_(ACTIVE_VISIT_STATES),
    )
    if call_id is not None:
        stmt = stmt.where(Visit.call_id == call_id)
    return principal.nurse_id is not None and session.exec(stmt).first() is not None
