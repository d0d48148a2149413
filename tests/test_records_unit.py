"""The FHIR adapter without a server (httpx.MockTransport), and the night cache's purge on an injected clock."""
from __future__ import annotations

import json
import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from adapters.fhir.client import FhirRecordSource
from dispatch.clients.models import Client
from dispatch.db import make_engine
from dispatch.organisations.models import Organisation
from dispatch.ports import SourceUnavailable
from dispatch.records.models import RecordSummaryCache
from dispatch.records.service import purge, purge_at
from dispatch.settings import FhirSource, Settings

TOKEN = "tok-5f1e0c77-not-for-logs"
PATIENT = {"resourceType": "Patient", "id": "p1", "identifier": [{"system": "urn:x", "value": "A-1"}]}
DNR = {"resourceType": "Flag", "id": "f1", "status": "active", "subject": {"reference": "Patient/p1"},
       "code": {"coding": [{"system": "http://snomed.info/sct", "code": "304253006"}], "text": "Not for resuscitation"}}


def _bundle(*resources: dict, kind: str = "searchset") -> dict:
    return {"resourceType": "Bundle", "type": kind, "entry": [{"resource": r} for r in resources]}


def _source(handler, **source) -> tuple[FhirRecordSource, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    config = FhirSource(base_url="https://ecd.example/fhir", **({"token": TOKEN} | source))
    return FhirRecordSource(config, name="Test Org", timeout_s=2, transport=httpx.MockTransport(record),
                            now=lambda: datetime(2026, 11, 30, 2, 0, tzinfo=UTC)), seen


def _searches_only(extra: list[dict]):
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/fhir/")
        if path == "Patient/_search":
            return httpx.Response(200, json=_bundle(PATIENT))
        if path.endswith("$summary"):
            return httpx.Response(404, json={"resourceType": "OperationOutcome", "issue": []})
        found = [r for r in [DNR, *extra] if r["resourceType"] == path]
        return httpx.Response(200, json=_bundle(*found))
    return handler


def test_searches_when_summary_is_not_offered_and_every_resource_is_validated(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    source, seen = _source(_searches_only([]))
    summary = source.summary([("ecd", "A-1")])
    assert summary.alerts[0].kind == "do_not_resuscitate" and summary.source == "Test Org"
    assert source.offers_summary is False
    assert seen[0].method == "POST" and b"A-1" in seen[0].content and "A-1" not in str(seen[0].url)
    source.summary([("ecd", "A-1")])
    assert not any(r.url.path.endswith("$summary") for r in seen[len(seen) // 2 + 1:])  # learnt: not asked again
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in seen)
    assert TOKEN not in caplog.text  # httpx/httpcore at DEBUG included


def test_an_invalid_resource_becomes_source_unavailable() -> None:
    broken = {"resourceType": "Condition", "id": "c1", "code": {"text": "x"}}  # no subject: invalid in R4
    source, _ = _source(_searches_only([broken]))
    with pytest.raises(SourceUnavailable, match="invalid FHIR resource"):
        source.summary([("ecd", "A-1")])
    not_fhir, _ = _source(lambda r: httpx.Response(200, text="<html>login</html>"))
    with pytest.raises(SourceUnavailable, match="not FHIR"):
        not_fhir.summary([("ecd", "A-1")])


def test_oauth2_client_credentials_are_fetched_once_and_errors_say_unreachable(caplog) -> None:
    caplog.set_level(logging.DEBUG)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            assert b"client_secret=s3cr3t-oauth" in request.content
            return httpx.Response(200, json={"access_token": "at-123", "expires_in": 600})
        assert request.headers["authorization"] == "Bearer at-123"
        if request.url.path.endswith("$summary"):
            return httpx.Response(200, json=_bundle(DNR, kind="document"))
        return httpx.Response(200, json=_bundle(PATIENT))

    source, seen = _source(handler, token=None, client_id="nc", client_secret="s3cr3t-oauth",
                           token_url="https://ecd.example/token")
    source.summary([("ecd", "A-1")])
    source.summary([("ecd", "A-1")])
    assert [r.url.path for r in seen].count("/token") == 1 and source.offers_summary is True
    assert "s3cr3t-oauth" not in caplog.text and "at-123" not in caplog.text

    down, _ = _source(lambda r: httpx.Response(503))
    with pytest.raises(SourceUnavailable, match=r"Test Org is unreachable \(it answered 503\)"):
        down.summary([("ecd", "A-1")])
    unknown, _ = _source(lambda r: httpx.Response(200, json=_bundle()))
    with pytest.raises(SourceUnavailable, match="no record of this client"):
        unknown.summary([("ecd", "A-1")])


def test_source_settings_keep_their_secrets() -> None:
    settings = Settings(fhir_sources=json.loads(json.dumps({"org": {"base_url": "https://x", "token": TOKEN}})))
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())


def test_summaries_are_purged_the_morning_after(tmp_path: Path, sqlite_template: Path) -> None:
    settings = Settings(environment="test", record_purge_local="08:00", region_timezone="Europe/Amsterdam")
    evening = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)  # 23:30 in Assen
    small_hours = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 03:00
    assert purge_at(evening, settings) == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # 08:00 local
    assert purge_at(small_hours, settings) == datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    path = tmp_path / "n.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}", pool_size=1)
    with Session(engine) as session:
        org = Organisation(code="o", name="O")
        session.add(org)
        session.flush()
        assert org.id is not None
        client = Client(organisation_id=org.id, given_name="A", family_name="B", street="S", house_number="1",
                        postcode="9401 AA", city="Assen", lat=53.0, lon=6.5)
        session.add(client)
        session.flush()
        assert client.id is not None
        session.add(RecordSummaryCache(client_id=client.id, source="x", fetched_at=evening,
                                       expires_at=purge_at(evening, settings), summary_encrypted="..."))
        session.commit()
        assert purge(session, now=datetime(2026, 12, 1, 6, 59, tzinfo=UTC)) == 0
        assert purge(session, now=datetime(2026, 12, 1, 7, 0, tzinfo=UTC)) == 1
        session.commit()
        assert session.exec(select(RecordSummaryCache)).first() is None
    engine.dispose()
