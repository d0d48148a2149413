from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from dispatch.audit import service as audit
from dispatch.auth.deps import CurrentPrincipal, require
from dispatch.auth.models import Role
from dispatch.calls.lifecycle import OPEN_STATES
from dispatch.calls.models import Call
from dispatch.clients import service
from dispatch.clients.access import break_glass_ok, visible_client
from dispatch.clients.schemas import ClientIn, ClientListItem, ClientOut, ClientPatch
from dispatch.db import SessionDep
from dispatch.errors import Forbidden
from dispatch.validation import ShortText, normalise_phone

router = APIRouter(prefix="/api/clients", tags=["clients"])
ClientId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CallIdQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="the call this read is for")]
BreakGlass = Annotated[ShortText | None, Query(description="emergency access outside a call or job; flagged")]
ClientManagers = require(Role.coordinator, Role.partner)
ClientSearchers = require(Role.coordinator, Role.partner, Role.operator)


@router.post("", response_model=ClientOut, status_code=201)
def create_client(body: ClientIn, request: Request, session: SessionDep, principal: ClientManagers) -> ClientOut:
    client = service.create_client(session, principal, request.app.state.cipher, body)
    return service.client_out(session, client)


@router.get("", response_model=list[ClientListItem])
def search_clients(
    session: SessionDep,
    principal: ClientSearchers,
    q: Annotated[ShortText | None, Query(description="words in name, street or city")] = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    postcode: Annotated[ShortText | None, Query()] = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    call_id: CallIdQuery = None,
    break_glass_reason: BreakGlass = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
) -> list[ClientListItem]:
    """Find clients. Operators search to identify the client of an open call (`call_id`)."""
    reason, break_glass = "client search", False
    if principal.role == Role.operator:
        call = session.get(Call, call_id) if call_id else None
        if call is not None and call.state in OPEN_STATES:
            reason = f"identify client of call {call_id}"
        elif break_glass_ok(break_glass_reason):
            reason, break_glass = break_glass_reason, True
        else:
            raise Forbidden("operators search clients to identify an open call: give call_id "
                            "(or a break_glass_reason of at least 10 characters)", field="call_id")
    if principal.role == Role.partner and organisation_id not in (None, principal.organisation_id):
        raise Forbidden("partners see only their own organisation's clients", field="organisation_id")
    phone_e164 = normalise_phone(phone) if phone else None
    if phone and phone_e164 is None:
        return []
    clients = service.search_clients(session, principal, q=q, phone=phone_e164, postcode=postcode,
                                     organisation_id=organisation_id, limit=limit, offset=offset)
    audit.record(session, principal, action="search", data="client.identity", client_ids=[c.id for c in clients],
                 reason=reason, break_glass=break_glass)
    return [ClientListItem.model_validate(c, from_attributes=True) for c in clients]


@router.get("/{client_id}", response_model=ClientOut)
def read_client(client_id: ClientId, request: Request, session: SessionDep, principal: CurrentPrincipal,
                call_id: CallIdQuery = None, break_glass_reason: BreakGlass = None) -> ClientOut:
    client, reason, break_glass = visible_client(
        session, principal, client_id, call_id=call_id,
        break_glass_reason=break_glass_reason, data="client.record")
    audit.record(session, principal, action="read", data="client.record", client_ids=[client.id], reason=reason,
                 break_glass=break_glass)
    return service.client_out(session, client)


@router.patch("/{client_id}", response_model=ClientOut)
def update_client(client_id: ClientId, body: ClientPatch, request: Request, session: SessionDep,
                  principal: ClientManagers) -> ClientOut:
    client, _, _ = visible_client(session, principal, client_id, data="client.record")
    client = service.update_client(session, principal, request.app.state.cipher,
                                   client, body)
    return service.client_out(session, client)



