"""POST /api/clients/import (CSV of clients, docs/clients-import.md) and PUT /api/clients/{id}/consent."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.datastructures import UploadFile

from dispatch.apidoc import refused
from dispatch.audit import service as audit
from dispatch.auth.deps import roles
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.clients import consent, importer, service
from dispatch.clients.access import visible_client
from dispatch.clients.schemas import ClientOut, ConsentsIn, ImportReport
from dispatch.db import SessionDep
from dispatch.errors import Forbidden, Invalid
from dispatch.organisations.models import Organisation
from dispatch.ports import Geocoder
from dispatch.validation import Code, SystemName

router = APIRouter(prefix="/api/clients", tags=["clients"])
ClientManagers = Annotated[Principal, roles(Role.coordinator, Role.partner)]


async def csv_upload(request: Request) -> bytes:
    """The CSV: a multipart form's `file`, or the body itself (text/csv). Read up to the import's limit."""
    limit = request.app.state.settings.import_max_bytes
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=5)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Invalid("send the CSV as the form's `file` (or as a text/csv body)", field="file")
        data = await upload.read(limit + 1)
    else:
        data = await request.body()
    if len(data) > limit:
        raise importer.TooLarge(f"the file is larger than {limit} bytes", field="file")
    return data


async def geocoder(request: Request) -> Geocoder:
    return request.app.state.geocoder


# The body is read by csv_upload, so FastAPI cannot see it: stated here.
_CSV_BODY = {"requestBody": {"required": True, "content": {
    "text/csv": {"schema": {"type": "string", "minLength": 1}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "additionalProperties": False,
                                       "properties": {"file": {"type": "string", "format": "binary"}}}}}}}


@router.post("/import", response_model=ImportReport, openapi_extra=_CSV_BODY, responses=refused(
    422, "`organisation` is the code of no organisation, or is missing for a coordinator (rules on the database and "
         "the role); or the file is not a UTF-8 CSV with the columns of docs/clients-import.md (`file`, `columns`)"))
def import_clients(
    request: Request,
    session: SessionDep,
    principal: ClientManagers,
    data: Annotated[bytes, Depends(csv_upload)],
    locator: Annotated[Geocoder, Depends(geocoder)],
    dry_run: Annotated[bool, Query(description="check and report, write nothing")] = False,
    organisation: Annotated[Code | None, Query(description="the organisation's code (a partner: her own)")] = None,
    system: Annotated[SystemName, Query(description="the record system the ids come from")] = "ecd",
) -> ImportReport:
    """Import clients from a CSV (columns: docs/clients-import.md). Good rows go in, bad rows are reported with
    row, field and reason; rows are matched on the organisation's own id, so a second import of the same file
    changes nothing."""
    if principal.role == Role.partner:
        org_id = principal.organisation_id
        if organisation is not None and service.organisation_by_code(session, organisation).id != org_id:
            raise Forbidden("a partner imports her own organisation's clients only", field="organisation")
        org = session.get(Organisation, org_id) if org_id is not None else None
        if org is None:
            raise Forbidden("your login belongs to no organisation", field="organisation")
    elif organisation is None:
        raise Invalid("name the organisation the clients belong to (its code)", field="organisation")
    else:
        org = service.organisation_by_code(session, organisation)
    settings = request.app.state.settings
    return importer.import_clients(session, principal, org, data, geocoder=locator, dry_run=dry_run, system=system,
                                   max_bytes=settings.import_max_bytes, max_rows=settings.import_max_rows)


@router.put("/{client_id}/consent", response_model=ClientOut)
def record_consent(client_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: ConsentsIn, session: SessionDep,
                   principal: ClientManagers) -> ClientOut:
    """Record the client's consents (share with the night team; share the summary), each with its date and
    source. The client's own organisation records them (or a coordinator); every change is kept."""
    client = visible_client(session, principal, client_id, data="client.consent").client
    changed = [kind for kind in consent.KINDS
               if consent.record(session, principal, client, kind, given=getattr(body, kind).given,
                                 on=getattr(body, kind).date, source=getattr(body, kind).source)]
    if changed:
        session.flush()
        audit.record(session, principal, action="update", data="client.consent:" + ",".join(changed),
                     client_ids=[client.id], reason="consent recorded by the client's organisation")
    return service.client_out(session, client)
