from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import select

from dispatch.auth.deps import Coordinators, CurrentPrincipal
from dispatch.db import SessionDep
from dispatch.errors import Conflict
from dispatch.organisations.models import Organisation
from dispatch.validation import Code, ShortText

router = APIRouter(prefix="/api/organisations", tags=["organisations"])


class OrganisationIn(BaseModel):
    code: Code
    name: ShortText


class OrganisationOut(BaseModel):
    id: int
    code: str
    name: str


@router.get("", response_model=list[OrganisationOut])
def list_organisations(session: SessionDep, principal: CurrentPrincipal) -> list[Organisation]:
    """The region's member organisations (names are public within the region)."""
    return list(session.exec(select(Organisation).order_by(Organisation.name)))


@router.post("", response_model=OrganisationOut, status_code=201)
def create_organisation(body: OrganisationIn, session: SessionDep, principal: Coordinators) -> Organisation:
    if session.exec(select(Organisation).where(Organisation.code == body.code)).first():
        raise Conflict(f"organisation code {body.code!r} is taken", field="code")
    org = Organisation(code=body.code, name=body.name)
    session.add(org)
    session.flush()
    return org
