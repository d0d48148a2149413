from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from dispatch.apidoc import NOT_FOUND, refused, responses
from dispatch.auth import service
from dispatch.auth.deps import (
    Coordinators,
    CurrentPrincipal,
    LoginGuardDep,
    oauth2_scheme,
    source_address,
)
from dispatch.auth.login import login
from dispatch.db import ReaderEngine, SessionDep, WriterEngine
from dispatch.timeutil import utcnow
from dispatch.validation import Text, not_blank

Profession = Annotated[str, Text(80)]
FullName = Annotated[str, Text(120)]

router = APIRouter(prefix="/api", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_at: datetime
    role: str


class MeOut(BaseModel):
    username: str
    role: str
    organisation_id: int | None
    nurse_id: int | None
    clinician: bool = False
    now: datetime | None = Field(default=None, description="the service's clock (pages show its times, not the PC's)")
    timezone: str = Field(default="Europe/Amsterdam", description="the region's time zone; times are shown in it")


class ClinicianIn(BaseModel):
    # A clinician's profession, when given, is not blank (when left out, the stored one must not be: 422).
    model_config = ConfigDict(json_schema_extra={
        "if": {"properties": {"clinician": {"const": True}}},
        "then": {"properties": {"profession": {"anyOf": [{"type": "string", "pattern": not_blank()},
                                                         {"type": "null"}]}}}})
    clinician: bool
    profession: Profession | None = None  # kept when not given
    full_name: FullName | None = None


class ClinicianOut(BaseModel):
    username: str
    role: str
    clinician: bool
    profession: str
    full_name: str


_LOGIN_ERRORS: dict[int | str, dict[str, Any]] = {
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
def me(principal: CurrentPrincipal, request: Request) -> MeOut:
    return MeOut(username=principal.username, role=principal.role.value,
                 organisation_id=principal.organisation_id, nurse_id=principal.nurse_id, clinician=principal.clinician,
                 now=utcnow(), timezone=request.app.state.settings.region_timezone)


@router.put("/users/{username}/clinician", response_model=ClinicianOut, responses=responses(
    NOT_FOUND, refused(422, "a clinician needs a profession: none is given and none is recorded for the user (a "
                            "rule on the stored user)")))
def set_clinician(username: Annotated[str, Path(min_length=1, max_length=80)], body: ClinicianIn,
                  session: SessionDep, principal: Coordinators) -> ClinicianOut:
    """Coordinators: whether a user is a clinician (who may draft protocol versions and sign them off), with the
    profession and full name recorded on their sign-offs."""
    user = service.set_clinician(session, username=username, clinician=body.clinician, profession=body.profession,
                                 full_name=body.full_name)
    return ClinicianOut(username=user.username, role=user.role, clinician=user.clinician,
                        profession=user.profession, full_name=user.full_name)
