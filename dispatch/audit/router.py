from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import col, select

from dispatch.audit import service
from dispatch.auth.deps import roles
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.clients.models import Client
from dispatch.db import SessionDep
from dispatch.validation import Moment

router = APIRouter(prefix="/api/audit", tags=["audit"])
AuditReaders = Annotated[Principal, roles(Role.coordinator, Role.partner)]


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    username: str
    role: str
    organisation_id: int | None
    on_behalf_of: str
    client_id: int | None
    action: str
    data: str
    reason: str
    break_glass: bool
    outcome: str
    source_address: str
    client_name: str = ""  # whose data, for people reading the log


@router.get("", response_model=list[AuditEntryOut])
def list_audit(
    session: SessionDep,
    principal: AuditReaders,
    client_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    username: Annotated[str | None, Query(max_length=80)] = None,
    since: Moment | None = None,
    until: Moment | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
) -> list[AuditEntryOut]:
    """Coordinators see the whole log; a partner sees every access to its own clients."""
    entries = service.query(session, principal, client_id=client_id, username=username, since=since,
                            until=until, limit=limit, offset=offset)
    ids = {e.client_id for e in entries if e.client_id is not None}
    names = {c.id: f"{c.given_name} {c.family_name}" for c in session.exec(
        select(Client).where(col(Client.id).in_(ids)))} if ids else {}
    return [AuditEntryOut(**AuditEntryOut.model_validate(e, from_attributes=True).model_dump(exclude={"client_name"}),
                          client_name=names.get(e.client_id, "") if e.client_id else "") for e in entries]
