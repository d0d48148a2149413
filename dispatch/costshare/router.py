"""Cost share: the coordinator sets the agreement per period; partners read their own monthly statement
(coordinators every organisation's) as JSON, CSV or PDF."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlmodel import col, select

from dispatch.apidoc import refused, responses
from dispatch.auth.deps import Coordinators, roles
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.costshare import render, service
from dispatch.costshare.models import CostAgreement
from dispatch.costshare.schemas import AgreementIn, AgreementOut, Month
from dispatch.db import SessionDep
from dispatch.validation import Code

router = APIRouter(prefix="/api/cost-share", tags=["cost share"])
Readers = Annotated[Principal, roles(Role.partner, Role.coordinator)]
MonthQ = Annotated[Month, Query(description="the calendar month, YYYY-MM, in the region's time zone")]
OrgQ = Annotated[Code | None, Query(description="coordinators: one organisation (partners: their own)")]


@router.post("/agreements", status_code=201, response_model=AgreementOut, responses=responses(
    refused(409, "the period overlaps another agreement"),
    refused(422, "rules between fields and on the organisations: `last_month` not before `first_month`; `runner`, "
                 "`participants` and the keys of `shares` are codes of existing organisations; `fixed` needs "
                 "`shares` (percent per organisation), `mix` needs `weights` per basis (at least one above 0), other "
                 "models take neither")))
def create_agreement(body: AgreementIn, session: SessionDep, principal: Coordinators) -> dict[str, Any]:
    """Set how the night team's cost is shared for a period of months (periods may not overlap)."""
    agreement = service.create_agreement(session, principal, **body.model_dump())
    return service.agreement_out(session, agreement)


@router.get("/agreements", response_model=list[AgreementOut])
def list_agreements(session: SessionDep, principal: Readers) -> list[dict[str, Any]]:
    rows = session.exec(select(CostAgreement).order_by(col(CostAgreement.first_month).desc()))
    return [service.agreement_out(session, a) for a in rows]


@router.delete("/agreements/{agreement_id}", status_code=204)
def delete_agreement(agreement_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep,
                     principal: Coordinators) -> Response:
    service.delete_agreement(session, agreement_id)
    return Response(status_code=204)


def _statement(request: Request, session, principal, month: str, organisation: str | None) -> dict[str, Any]:
    return service.statement(session, principal, month_text_=month, organisation=organisation,
                             tz_name=request.app.state.settings.region_timezone)


@router.get("/statement")
def statement(request: Request, session: SessionDep, principal: Readers, month: MonthQ,
              organisation: OrgQ = None) -> dict[str, Any]:
    """The month's statement with the figures it rests on: calls, visits, care and travel minutes, clients in care."""
    return _statement(request, session, principal, month, organisation)


@router.get("/statement.csv")
def statement_csv(request: Request, session: SessionDep, principal: Readers, month: MonthQ,
                  organisation: OrgQ = None) -> Response:
    data = _statement(request, session, principal, month, organisation)
    return Response(render.to_csv(data), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="cost-share-{data["month"]}.csv"'})


@router.get("/statement.pdf")
def statement_pdf(request: Request, session: SessionDep, principal: Readers, month: MonthQ,
                  organisation: OrgQ = None) -> Response:
    data = _statement(request, session, principal, month, organisation)
    return Response(render.to_pdf(data), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="cost-share-{data["month"]}.pdf"'})
