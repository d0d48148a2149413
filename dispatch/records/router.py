from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from dispatch.auth.deps import CurrentPrincipal
from dispatch.clients.router import BreakGlass, CallIdQuery
from dispatch.db import SessionDep
from dispatch.keysafes.crypto import KeysafeCipher
from dispatch.ports import RecordSources
from dispatch.records import service
from dispatch.records.schemas import SummaryOut
from dispatch.settings import Settings

router = APIRouter(prefix="/api/clients", tags=["records"])


def _sources(request: Request) -> RecordSources:
    return request.app.state.record_sources


def _cipher(request: Request) -> KeysafeCipher:
    return request.app.state.cipher


def _settings(request: Request) -> Settings:
    return request.app.state.settings


@router.get("/{client_id}/summary", response_model=SummaryOut)
def read_summary(client_id: Annotated[int, Path(ge=1, le=2**31 - 1)], request: Request, session: SessionDep,
                 principal: CurrentPrincipal, sources: Annotated[RecordSources, Depends(_sources)],
                 cipher: Annotated[KeysafeCipher, Depends(_cipher)],
                 settings: Annotated[Settings, Depends(_settings)], call_id: CallIdQuery = None,
                 visit_id: Annotated[int | None,
                                     Query(ge=1, le=2**31 - 1, description="the job this read is for")] = None,
                 break_glass_reason: BreakGlass = None) -> SummaryOut:
    """The client's summary from her organisation's record system, alerts first (for a call, a job, or by
    break-glass, as her record). A source that fails or is slower than NIGHTCARE_RECORD_TIMEOUT_S answers
    `available: false` with the reason and what the night team has: never an error, never a wait."""
    return service.summary_for(session, principal, client_id, call_id=call_id, visit_id=visit_id,
                               break_glass_reason=break_glass_reason, sources=sources, cipher=cipher,
                               settings=settings, base_url=str(request.base_url))
