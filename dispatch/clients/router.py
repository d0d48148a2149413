from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from dispatch.apidoc import refused
from dispatch.audit import service as audit
from dispatch.auth.deps import CurrentPrincipal, roles
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.clients import service
from dispatch.clients.access import break_glass_ok, open_call_of, visible_client
from dispatch.clients.schemas import ClientIn, ClientListItem, ClientOut, ClientPatch
from dispatch.db import SessionDep
from dispatch.errors import Forbidden
from dispatch.validation import ExternalValue, HouseNumber, ShortText, normalise_phone

router = APIRouter(prefix="/api/clients", tags=["clients"])
ClientId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CallIdQuery = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="the call this read is for")]
BreakGlass = Annotated[ShortText | None, Query(description="emergency access outside a call or job; flagged")]
ClientManagers = Annotated[Principal, roles(Role.coordinator, Role.partner)]
ClientSearchers = Annotated[Principal, roles(Role.coordinator, Role.partner, Role.operator)]
OPERATOR_SEARCH_LIMIT = 20


@router.post("", response_model=ClientOut, status_code=201, responses=refused(
    422, "`organisation` is the code of no organisation (or, for a partner, not her own)"))
def create_client(body: ClientIn, request: Request, session: SessionDep, principal: ClientManagers) -> ClientOut:
    client = service.create_client(session, principal, request.app.state.cipher, body)
    return service.client_out(session, client)


@router.get("", response_model=list[ClientListItem])
def search_clients(
    session: SessionDep,
    principal: ClientSearchers,
    q: Annotated[ShortText | None, Query(description="words in name, street or city")] = None,
    date_of_birth: Annotated[date | None, Query()] = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    postcode: Annotated[ShortText | None, Query()] = None,
    house_number: Annotated[HouseNumber | None, Query()] = None,
    external_id: Annotated[ExternalValue | None, Query(description="the client's id at its organisation")] = None,
    organisation_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    call_id: CallIdQuery = None,
    break_glass_reason: BreakGlass = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**7)] = 0,
) -> list[ClientListItem]:
    """Find clients by name, date of birth, phone, address or the organisation's id. Operators search identities
    to identify the client of an open call (`call_id`), at most 20 at a time; the search is audited, and it
    opens no record."""
    reason, break_glass = "client search", False
    if principal.role == Role.operator:
        limit = min(limit, OPERATOR_SEARCH_LIMIT)
        call = open_call_of(session, principal, call_id) if call_id else None
        if call is not None:
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
                                     date_of_birth=date_of_birth, house_number=house_number,
                                     external_id=external_id, organisation_id=organisation_id, limit=limit,
                                     offset=offset)
    audit.record(session, principal, action="search", data="client.identity", client_ids=[c.id for c in clients],
                 reason=reason, break_glass=break_glass)
    return [ClientListItem.model_validate(c, from_attributes=True) for c in clients]


@router.get("/{client_id}", response_model=ClientOut)
def read_client(client_id: ClientId, session: SessionDep, principal: CurrentPrincipal,
                call_id: CallIdQuery = None, break_glass_reason: BreakGlass = None) -> ClientOut:
    """The client's record. Night staff read it for an open call identified as this client (`call_id`), the
    nurse for her own open job, anyone else by break-glass; without the client's consent night staff see
    identity, address and access instructions only (`restricted`), unless they break the glass."""
    access = visible_client(session, principal, client_id, call_id=call_id,
                            break_glass_reason=break_glass_reason, data="client.record")
    audit.record(session, principal, action="read", data="client.record" if access.full else "client.identity",
                 client_ids=[access.client.id], reason=access.reason, break_glass=access.break_glass)
    return service.client_out(session, access.client, full=access.full)


@router.patch("/{client_id}", response_model=ClientOut)
def update_client(client_id: ClientId, body: ClientPatch, request: Request, session: SessionDep,
                  principal: ClientManagers) -> ClientOut:
    client = visible_client(session, principal, client_id, data="client.record").client
    client = service.update_client(session, principal, request.app.state.cipher,
                                   client, body)
    return service.client_out(session, client)



