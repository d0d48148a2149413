"""The demo region's record systems: a small FHIR R4 server per organisation under /demo-fhir/<code>/, served by
nightcare itself outside production (`make run` shows summaries out of the box; the tests read it over HTTP).

Two organisations offer the International Patient Summary (`Patient/<id>/$summary`), the others only searches,
so both of the adapter's paths run. drentsche-aa signs in with OAuth2 client credentials, the others with a bearer
token; both secrets come from NIGHTCARE_DEMO_FHIR_SECRET. `PUT /demo-fhir/<code>/_behaviour` makes one slow
(`delay_s`), failing (`fail`) or sending an invalid resource (`invalid`), for tests and demonstrations."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
from datetime import UTC
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session, col, select

from adapters.fhir import demo_data
from dispatch.clients.models import Client, ClientExternalId
from dispatch.organisations.models import Organisation
from dispatch.settings import FhirSource, Settings
from dispatch.timeutil import utcnow

SUMMARY_ORGS = frozenset({"de-brink", "midden-drenthe"})
OAUTH_ORGS = frozenset({"drentsche-aa"})
EXTERNAL_SYSTEM = "ecd"  # the demo seed's ClientExternalId.system
FHIR_JSON = "application/fhir+json"
router = APIRouter(prefix="/demo-fhir/{org_code}", include_in_schema=False)


def identifier_system(org_code: str) -> str:
    return f"urn:nightcare:demo:{org_code}:ecd"


def _access_token(settings: Settings, org_code: str) -> str:
    key = settings.demo_fhir_secret.get_secret_value().encode()
    return hmac.new(key, f"access:{org_code}".encode(), hashlib.sha256).hexdigest()


def demo_sources(settings: Settings, base_url: str, org_codes: list[str]) -> dict[str, FhirSource]:
    """Where each demo organisation's record system is, and how to sign in to it."""
    base = base_url.rstrip("/")
    sources = {}
    for code in org_codes:
        url = f"{base}/demo-fhir/{code}"
        systems = {EXTERNAL_SYSTEM: identifier_system(code)}
        if code in OAUTH_ORGS:
            sources[code] = FhirSource(base_url=url, client_id=f"nightcare-{code}",
                                       client_secret=settings.demo_fhir_secret, token_url=f"{url}/oauth/token",
                                       identifier_systems=systems)
        else:
            sources[code] = FhirSource(base_url=url, token=settings.demo_fhir_secret, identifier_systems=systems)
    return sources


def _outcome(status: int, text: str) -> JSONResponse:
    return JSONResponse({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "processing",
                                                                         "diagnostics": text}]},
                        status_code=status, media_type=FHIR_JSON)


def _bundle(kind: str, resources: list[dict], base: str) -> JSONResponse:
    entries = [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources]
    body: dict[str, Any] = {"resourceType": "Bundle", "type": kind, "entry": entries}
    if kind == "searchset":
        body["total"] = len(entries)
    else:
        body["timestamp"] = utcnow().astimezone(UTC).isoformat()
    return JSONResponse(body, media_type=FHIR_JSON)


def _behaviour(request: Request, org_code: str) -> dict:
    every = request.app.state.__dict__.setdefault("demo_fhir", {})
    return every.setdefault(org_code, {"delay_s": 0.0, "fail": False, "invalid": False})


async def _guard(request: Request, org_code: str, *, token: bool = True) -> JSONResponse | None:
    """The behaviour set for this organisation (delay, failure), then its credential."""
    behaviour = _behaviour(request, org_code)
    if behaviour["delay_s"]:
        await asyncio.sleep(behaviour["delay_s"])
    if behaviour["fail"]:
        return _outcome(503, "the demo record system is down (as asked)")
    if not token:
        return None
    settings: Settings = request.app.state.settings
    expected = (_access_token(settings, org_code) if org_code in OAUTH_ORGS
                else settings.demo_fhir_secret.get_secret_value())
    given = request.headers.get("authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {expected}".encode()):
        return _outcome(401, "a valid bearer token is needed")
    return None


def _load(request: Request, org_code: str, value: str) -> list[dict] | None:
    with Session(request.app.state.reader_engine) as session:
        row = session.exec(select(Client).join(ClientExternalId, col(ClientExternalId.client_id) == Client.id)
                           .join(Organisation, col(Organisation.id) == ClientExternalId.organisation_id)
                           .where(Organisation.code == org_code, ClientExternalId.system == EXTERNAL_SYSTEM,
                                  ClientExternalId.value == value)).first()
        if row is None:
            return None
        return demo_data.records(row, value, identifier_system(org_code), now=utcnow())


async def _records(request: Request, org_code: str, value: str) -> list[dict] | None:
    records = await asyncio.to_thread(_load, request, org_code, value)
    if records is not None and _behaviour(request, org_code)["invalid"]:
        records.append({"resourceType": "Flag", "id": "broken", "status": "active"})  # no code, no subject
    return records


def _base(request: Request, org_code: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/demo-fhir/{org_code}"


@router.put("/_behaviour")
async def set_behaviour(org_code: str, request: Request) -> JSONResponse:
    secret = request.app.state.settings.demo_fhir_secret.get_secret_value()  # the control needs the demo secret
    if not hmac.compare_digest(request.headers.get("authorization", "").encode(), f"Bearer {secret}".encode()):
        return _outcome(401, "a valid bearer token is needed")
    body = await request.json()
    behaviour = _behaviour(request, org_code)
    behaviour.update({k: body[k] for k in ("delay_s", "fail", "invalid") if k in body})
    return JSONResponse(behaviour)


@router.post("/oauth/token")
async def token(org_code: str, request: Request) -> JSONResponse:
    if (refused := await _guard(request, org_code, token=False)) is not None:
        return refused
    form = await request.form()
    settings: Settings = request.app.state.settings
    ok = (org_code in OAUTH_ORGS and form.get("grant_type") == "client_credentials"
          and form.get("client_id") == f"nightcare-{org_code}"
          and hmac.compare_digest(str(form.get("client_secret", "")).encode(),
                                  settings.demo_fhir_secret.get_secret_value().encode()))
    if not ok:
        return JSONResponse({"error": "invalid_client"}, status_code=401)
    return JSONResponse({"access_token": _access_token(settings, org_code), "token_type": "bearer",
                         "expires_in": 300})


@router.get("/metadata")
async def capability_statement(org_code: str) -> JSONResponse:
    operations = [{"name": "summary", "definition": "http://hl7.org/fhir/uv/ips/OperationDefinition/summary"}]
    return JSONResponse({
        "resourceType": "CapabilityStatement", "status": "active", "date": "2026-11-01", "kind": "instance",
        "fhirVersion": "4.0.1", "format": ["json"],
        "rest": [{"mode": "server", "resource": [
            {"type": "Patient", **({"operation": operations} if org_code in SUMMARY_ORGS else {})},
            *({"type": t} for t in ("Flag", "Condition", "MedicationStatement", "AllergyIntolerance", "CarePlan",
                                    "RelatedPerson", "Observation"))]}]}, media_type=FHIR_JSON)


async def _patient_search(request: Request, org_code: str, identifier: str) -> JSONResponse:
    if (refused := await _guard(request, org_code)) is not None:
        return refused
    system, _, value = identifier.rpartition("|")
    records = await _records(request, org_code, value) if system in ("", identifier_system(org_code)) else None
    return _bundle("searchset", records[:1] if records else [], _base(request, org_code))


@router.post("/Patient/_search")
async def patient_search_post(org_code: str, request: Request) -> JSONResponse:
    form = await request.form()
    return await _patient_search(request, org_code, str(form.get("identifier", "")))


@router.get("/Patient")
async def patient_search(org_code: str, request: Request, identifier: str = "") -> JSONResponse:
    return await _patient_search(request, org_code, identifier)


@router.get("/Patient/{patient_id}/$summary")
async def patient_summary(org_code: str, patient_id: str, request: Request) -> JSONResponse:
    if (refused := await _guard(request, org_code)) is not None:
        return refused
    if org_code not in SUMMARY_ORGS:
        return _outcome(404, "this server does not offer $summary")
    records = await _records(request, org_code, patient_id)
    if records is None:
        return _outcome(404, f"no Patient/{patient_id}")
    composition = {"resourceType": "Composition", "id": f"{patient_id}-ips", "status": "final",
                   "type": {"coding": [{"system": "http://loinc.org", "code": "60591-5",
                                        "display": "Patient summary Document"}]},
                   "subject": {"reference": f"Patient/{patient_id}"}, "date": utcnow().astimezone(UTC).isoformat(),
                   "author": [{"display": f"demo record system of {org_code}"}], "title": "Patient summary"}
    return _bundle("document", [composition, *records], _base(request, org_code))


@router.get("/{resource_type}")
async def search(org_code: str, resource_type: str, request: Request, patient: str = "") -> JSONResponse:
    if (refused := await _guard(request, org_code)) is not None:
        return refused
    records = await _records(request, org_code, patient) if patient else None
    found = [r for r in records or () if (r["resourceType"] == resource_type and r["resourceType"] != "Patient")
             or (r["resourceType"] == "Flag" and r["id"] == "broken")]
    if resource_type == "Observation":
        found.sort(key=lambda r: r.get("effectiveDateTime", ""), reverse=True)
    return _bundle("searchset", found, _base(request, org_code))
