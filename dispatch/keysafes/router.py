"""The key-safe code: shown to the nurse of an accepted job while it is hers and open, and to nobody else."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel

from dispatch.audit import service as audit
from dispatch.auth.deps import roles
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.calls.lifecycle import OPEN_STATES as OPEN_CALL_STATES
from dispatch.calls.models import Call
from dispatch.clients.models import Client
from dispatch.db import SessionDep
from dispatch.errors import Forbidden, NotFound
from dispatch.visits import service as visits
from dispatch.visits.lifecycle import UNDER_WAY_STATES

router = APIRouter(prefix="/api/visits", tags=["key safes"])
Nurses = Annotated[Principal, roles(Role.nurse)]


class KeysafeOut(BaseModel):
    visit_id: int
    code: str


@router.post("/{visit_id}/keysafe", response_model=KeysafeOut)
def reveal_keysafe(visit_id: Annotated[int, Path(ge=1, le=2**31 - 1)], request: Request, response: Response,
                   session: SessionDep, principal: Nurses) -> KeysafeOut:
    """The key-safe code, for the nurse assigned to an accepted, open job at this client (and, for a visit that
    came from a call, while the call is open). Every reveal and every refused attempt is audited; the code
    appears in no other response or log."""
    visit = visits.get_own(session, principal, visit_id, action="reveal")
    client = session.get(Client, visit.client_id)
    assert client is not None
    call = session.get(Call, visit.call_id) if visit.call_id is not None else None
    why = None
    if visit.state not in UNDER_WAY_STATES:
        why = "accept the job first" if visit.state == "assigned" else f"the job is {visit.state}"
    elif call is not None and call.state not in OPEN_CALL_STATES:
        why = f"its call is {call.state}"
    if why is not None:
        raise audit.refused(Forbidden(f"the key-safe code is shown only on an accepted, open job: {why}",
                                      field="visit_id"),
                            principal, action="reveal", data="keysafe", client_id=client.id,
                            reason=f"visit {visit.id}: {why}")
    if client.keysafe_code_encrypted is None:
        raise NotFound("this client has no key safe registered", field="visit_id")
    code = request.app.state.cipher.decrypt(client.keysafe_code_encrypted)
    audit.record(session, principal, action="reveal", data="keysafe", client_ids=[client.id],
                 reason=f"visit {visit.id}")
    response.headers["Cache-Control"] = "no-store"
    return KeysafeOut(visit_id=visit.id, code=code)
