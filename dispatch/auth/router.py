from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel

from dispatch.auth import service
from dispatch.auth.deps import (
    CurrentPrincipal,
    LoginGuardDep,
    oauth2_scheme,
    source_address,
)
from dispatch.auth.login import login
from dispatch.db import ReaderEngine, SessionDep, WriterEngine

router = APIRouter(prefix="/api", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    role: str


class MeOut(BaseModel):
    username: str
    role: str
    organisation_id: int | None
    nurse_id: int | None


_LOGIN_ERRORS = {
    401: {"description": "wrong username or password (the same answer for an unknown or disabled user)"},
    429: {"description": "too many failed logins for this username or address, or too many logins at once; "
                         "see Retry-After (seconds)"},
}


@router.post("/auth/token", response_model=TokenOut, responses=_LOGIN_ERRORS)
async def token(
    request: Request,
    guard: LoginGuardDep,
    engine: WriterEngine,
    reader_engine: ReaderEngine,
    username: Annotated[str, Form(min_length=1, max_length=80)],
    password: Annotated[str, Form(min_length=1, max_length=200)],
) -> TokenOut:
    """OAuth2 password flow: form fields `username` and `password`. Failed logins are throttled per
    username and per source address (429 with Retry-After, growing as the failures go on)."""
    access_token, record, user = await login(
        guard=guard, engine=engine, reader_engine=reader_engine, settings=request.app.state.settings,
        username=username, password=password, address=source_address(request))
    return TokenOut(access_token=access_token, expires_at=record.expires_at, role=user.role.value)


@router.post("/auth/logout", status_code=204)
def logout(session: SessionDep, principal: CurrentPrincipal,
           token: Annotated[str | None, Depends(oauth2_scheme)]) -> None:
    if token:
        service.revoke(session, token)


@router.get("/me", response_model=MeOut)
def me(principal: CurrentPrincipal) -> MeOut:
    return MeOut(username=principal.username, role=principal.role.value,
                 organisation_id=principal.organisation_id, nurse_id=principal.nurse_id)
