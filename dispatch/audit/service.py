"""Writing and reading the audit log (NEN 7513: event, when, client, user, on whose behalf, why)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from dispatch.audit.models import AuditEntry
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.clients.models import Client
from dispatch.errors import AppError


def _entry(principal: Principal, *, action: str, data: str, client_id: int | None, reason: str,
           break_glass: bool, outcome: str, on_behalf_of: str) -> AuditEntry:
    return AuditEntry(
        user_id=principal.user_id,
        username=principal.username,
        role=principal.role.value,
        organisation_id=principal.organisation_id,
        on_behalf_of=on_behalf_of,
        client_id=client_id,
        action=action,
        data=data,
        reason=reason[:1000],
        break_glass=break_glass,
        outcome=outcome,
        source_address=principal.source_address,
    )


def record(session: Session, principal: Principal, *, action: str, data: str, client_ids: Iterable[int | None],
           reason: str = "", break_glass: bool = False, on_behalf_of: str = "") -> None:
    """Audit an allowed access, in the same transaction as the access itself."""
    for client_id in dict.fromkeys(client_ids):  # once per client, order kept
        session.add(_entry(principal, action=action, data=data, client_id=client_id, reason=reason,
                           break_glass=break_glass, outcome="allowed", on_behalf_of=on_behalf_of))
    session.flush()


def refused(exc: AppError, principal: Principal, *, action: str, data: str, client_id: int | None,
            reason: str) -> AppError:
    """Attach the audit entry of a refused access to the error refusing it.

    The request's transaction is rolled back; the session dependency then commits the entry alone.
    """
    exc.keep.append(_entry(principal, action=action, data=data, client_id=client_id, reason=reason,
                           break_glass=False, outcome="denied", on_behalf_of=""))
    return exc


def query(session: Session, principal: Principal, *, client_id: int | None = None, username: str | None = None,
          since: datetime | None = None, until: datetime | None = None, limit: int = 100,
          offset: int = 0) -> list[AuditEntry]:
    stmt = select(AuditEntry)
    if principal.role == Role.partner:
        # A partner sees who accessed its own clients, nothing else.
        own = select(Client.id).where(Client.organisation_id == principal.organisation_id)
        stmt = stmt.where(col(AuditEntry.client_id).in_(own))
    if client_id is not None:
        stmt = stmt.where(AuditEntry.client_id == client_id)
    if username:
        stmt = stmt.where(AuditEntry.username == username)
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at < until)
    stmt = stmt.order_by(col(AuditEntry.id).desc()).offset(offset).limit(limit)
    return list(session.exec(stmt))
