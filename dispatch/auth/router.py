from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import BaseModel

from dispatch.auth.deps import CurrentPrincipal, oauth2_scheme
from dispatch.auth import service
from dispatch.db import SessionDep

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


@router.post("/auth/token", response_model=TokenOut)
def token(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(min_length=1, max_length=80)],
    password: Annotated[str, Form(min_length=1, max_length=200)],
) -> TokenOut:
    """OAuth2 password flow: form fields `username` and `password`."""
    settings = request.app.state.settings
    access_token, record = service.login(session, settings=settings, username=username, password=password)
    principal = service.principal_for_token(session, access_token)
    return TokenOut(access_token=access_token, expires_at=record.expires_at, role=principal.role.value)


@router.post("/auth/logout", status_code=204)
def logout(session: SessionDep, principal: CurrentPrincipal,
           token: Annotated[str | None, Depends(oauth2_scheme)]) -> None:
    if token:
        service.revoke(session, token)


@router.get("/me", response_model=MeOut)
def me(principal: CurrentPrincipal) -> MeOut:
    return MeOut(username=principal.username, role=principal.role.value,
                 organisation_id=principal.organisation_id, nurse_id=principal.nurse_id)
