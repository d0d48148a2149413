"""Client import from CSV (dispatch/clients/importer.py), the geocoders, and consent per client."""
from __future__ import annotations

import csv
import io
import time
from datetime import date

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from adapters.geocoding.local import LocalTableGeocoder
from adapters.geocoding.pdok import PdokGeocoder
from dispatch.audit.models import AuditEntry
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.clients.access import visible_client
from dispatch.clients.models import Client, ClientConsent, ClientExternalId
from dispatch.ports import AddressNotFound, GeocoderUnavailable
from tests.world import World

HEADER = ("external_id,given_name,family_name,date_of_birth,street,house_number,postcode,city,phones,"
          "keysafe_present,consent_night_team,consent_night_team_date,consent_night_team_source,consent_summary,"
          "consent_summary_date,consent_summary_source")
PLACES = (("9401", "Assen", "Kerkstraat"), ("9411", "Beilen", "Brink"), ("9421", "Smilde", "Hoofdweg"),
          ("9431", "Westerbork", "Hoofdstraat"))
LETTERS = "ABCDEGHJKLMNPRSTVWX"


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """SQLite only here; the 1,000-row import runs on PostgreSQL too (parametrised below)."""
    return request.param


def good_row(i: int) -> list[str]:
    pc4, city, street = PLACES[i % len(PLACES)]
    postcode = f"{pc4} {LETTERS[i % 19]}{LETTERS[(i // 19) % 19]}"
    consent = "yes" if i % 7 else "no"
    return [f"C-{i:04d}", f"Given{i}", f"Family{i}", f"{1925 + i % 60}-{1 + i % 12:02d}-{1 + i % 28:02d}", street,
            str(1 + i % 150) + ("a" if i % 11 == 0 else ""), postcode, city, f"0592 {300000 + i}",
            "yes" if i % 3 else "no", consent, "2026-01-05" if consent == "yes" else "",
            "signed form" if consent == "yes" else "", "yes" if i % 2 else "no",
            "2026-01-06" if i % 2 else "", "verbal, recorded by J. Bakker" if i % 2 else ""]


# 20 bad rows of different kinds: (row index, column to break, value, the field reported)
BAD = [(15 + 50 * k, *kind) for k, kind in enumerate([
    ("postcode", "94O1 AB", "postcode"), ("postcode", "9401", "postcode"), ("postcode", "ABCD EF", "postcode"),
    ("date_of_birth", "2099-01-01", "date_of_birth"), ("date_of_birth", "31-02-1940", "date_of_birth"),
    ("date_of_birth", "1850-01-01", "date_of_birth"),
    ("postcode", "1012 AB", "address"), ("postcode", "8011 CW", "address"), ("postcode", "7511 JE", "address"),
    ("external_id", "C-0001", "external_id"), ("external_id", "C-0002", "external_id"),
    ("external_id", "C-0003", "external_id"),
    ("phones", "not a phone", "phones"), ("phones", "06 1234 5678 9012 34", "phones"),
    ("consent_night_team_source", "", "consent_night_team_source"),
    ("consent_night_team", "maybe", "consent_night_team"),
    ("keysafe_present", "perhaps", "keysafe_present"), ("family_name", "", "family_name"),
    ("house_number", "twelve", "house_number"), ("consent_summary_date", "2099-12-31", "consent_summary_date"),
])]


def make_csv(n: int = 1000, bad: list = BAD) -> tuple[str, dict[int, str]]:
    """The file and, per bad row, its line number and the field that should be reported."""
    columns = HEADER.split(",")
    out = io.StringIO()
    lines, expected = csv.writer(out, lineterminator="\n"), {}
    lines.writerow(columns)
    broken = {index: (column, value, reported) for index, column, value, reported in bad}
    for i in range(n):
        row = good_row(i)
        if i in broken:
            column, value, reported = broken[i]
            if column == "consent_night_team_source":
                row[columns.index("consent_night_team")] = "yes"
                row[columns.index("consent_night_team_date")] = "2026-01-05"
            row[columns.index(column)] = value
            expected[i + 2] = reported
        lines.writerow(row)
    return out.getvalue(), expected


def post_import(world: World, body: str, who: str = "coordinator", **params: object) -> httpx.Response:
    params.setdefault("organisation", "org-a")
    params = {k: v for k, v in params.items() if v is not None}
    return world.client.post("/api/clients/import", params=params, content=body.encode(),
                             headers={**world.h(who), "Content-Type": "text/csv"})


def count(engine, model, *where) -> int:
    with Session(engine) as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_thousand_clients_with_twenty_bad_rows(world: World, engine, backend: str) -> None:
    body, expected = make_csv()
    before = count(engine, Client)
    dry = post_import(world, body, dry_run="true")
    assert dry.status_code == 200, dry.text
    assert (dry.json()["created"], dry.json()["rejected"]) == (980, 20)
    assert count(engine, Client) == before, "a dry run writes nothing"

    started = time.perf_counter()
    first = post_import(world, body)
    elapsed = time.perf_counter() - started
    print(f"\nimport of 1,000 rows ({backend}): {elapsed:.2f} s")
    report = first.json()
    assert first.status_code == 200, first.text
    assert (report["created"], report["updated"], report["unchanged"], report["rejected"]) == (980, 0, 0, 20)
    assert {p["row"]: p["field"] for p in report["problems"]} == expected
    assert all(p["reason"] for p in report["problems"])
    assert len({p["row"] for p in report["problems"]}) == 20, "one problem per bad row here"
    assert count(engine, Client) == before + 980
    org_a = world.orgs["a"]
    assert count(engine, ClientExternalId, ClientExternalId.organisation_id == org_a) == 3 + 980
    with Session(engine) as s:
        client = s.get(Client, s.exec(select(ClientExternalId.client_id)
                                      .where(ClientExternalId.value == "C-0009")).one())
        assert (client.postcode, client.city, client.consent_night_team_source) == ("9411 LA", "Beilen",
                                                                                     "signed form")
        assert 52.8 < client.lat < 52.95 and 6.4 < client.lon < 6.6

    audit_before = count(engine, AuditEntry)
    second = post_import(world, body).json()
    assert (second["created"], second["updated"], second["unchanged"], second["rejected"]) == (0, 0, 980, 20)
    assert count(engine, AuditEntry) == audit_before + 1, "the import itself only, nothing per unchanged client"
    assert count(engine, Client) == before + 980


def test_an_import_updates_only_what_changed(world: World, engine) -> None:
    body, _ = make_csv(30, bad=[])
    assert post_import(world, body, who="partner_a", organisation=None).json()["created"] == 30
    consents = count(engine, ClientConsent)
    rows = list(csv.reader(io.StringIO(body)))
    rows[5][8] = "0592 999999"  # a new phone
    rows[5][4], rows[5][5] = "Torenlaan", "7"  # moved house: geocoded again
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    report = post_import(world, out.getvalue(), who="partner_a", organisation=None).json()
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 29)
    assert report["clients"][0]["fields"] == ["street", "house_number", "phones"]
    assert count(engine, ClientConsent) == consents, "the consent did not change: no new history"
    with Session(engine) as s:
        client = s.get(Client, report["clients"][0]["client_id"])
        assert client.street == "Torenlaan"


def test_who_may_import_and_the_limits(world: World) -> None:
    body, _ = make_csv(3, bad=[])
    other = post_import(world, body, who="partner_b", organisation="org-a")
    assert other.status_code == 403 and other.json()["field"] == "organisation"
    assert post_import(world, body, who="operator").status_code == 403
    assert post_import(world, body, organisation=None).json()["field"] == "organisation"
    missing = post_import(world, body.replace("postcode,", "postcod,", 1))
    assert missing.status_code == 422 and missing.json()["field"] == "columns"
    assert "missing: postcode" in missing.json()["detail"] and "unknown: postcod" in missing.json()["detail"]
    settings = world.app.state.settings
    settings.import_max_rows, settings.import_max_bytes = 2, 1024
    try:
        many = post_import(world, body)
        assert many.status_code == 422 and many.json()["field"] == "file" and "2 rows" in many.json()["detail"]
        big = post_import(world, make_csv(20, bad=[])[0])
        assert big.status_code == 413 and big.json()["field"] == "file"
    finally:
        settings.import_max_rows, settings.import_max_bytes = 5000, 2 * 1024 * 1024
    # As a multipart upload, semicolon-separated as Dutch spreadsheets save it.
    files = {"file": ("clients.csv", body.replace(",", ";").encode(), "text/csv")}
    upload = world.client.post("/api/clients/import", params={"organisation": "org-b"}, files=files,
                               headers=world.h("coordinator"))
    assert upload.status_code == 200 and upload.json()["created"] == 3, upload.text


def pdok(handler) -> PdokGeocoder:
    return PdokGeocoder("https://pdok.test/bzk/locatieserver/search/v3_1", timeout_s=1,
                        transport=httpx.MockTransport(handler))


def test_pdok_locatieserver() -> None:
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        docs = [{"type": "adres", "weergavenaam": "Kerkstraat 12A, 9401AB Assen", "postcode": "9401AB",
                 "huisnummer": 12, "huisletter": "A", "centroide_ll": "POINT(6.5631 52.9941)"}]
        if "9999" in request.url.params["q"]:
            docs = [{**docs[0], "postcode": "9401AC"}]  # the fuzzy search's nearest guess: not this address
        return httpx.Response(200, json={"response": {"numFound": len(docs), "start": 0, "docs": docs}})

    geocoder = pdok(answer)
    assert geocoder.locate("9401 ab", "12a", "Kerkstraat", "Assen") == (52.9941, 6.5631)
    assert asked[0].url.path == "/bzk/locatieserver/search/v3_1/free"
    assert asked[0].url.params["fq"] == "type:adres" and asked[0].url.params["q"] == "9401AB 12a"
    with pytest.raises(AddressNotFound):
        geocoder.locate("9999 ZZ", "12a")
    with pytest.raises(AddressNotFound):
        geocoder.locate("9401 AB", "12")  # 12 is not 12a

    def down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text="Internal Server Error")

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(GeocoderUnavailable, match="500"):
        pdok(down).locate("9401 AB", "12")
    with pytest.raises(GeocoderUnavailable, match="in time"):
        pdok(slow).locate("9401 AB", "12")


def test_the_local_table() -> None:
    local = LocalTableGeocoder.demo()
    a = local.locate("9401 AB", "12")
    assert a == local.locate("9401AB", "12") and a != local.locate("9401 AB", "14")
    assert abs(a[0] - 52.9929) < 0.03 and abs(a[1] - 6.5642) < 0.05
    with pytest.raises(AddressNotFound):
        local.locate("1012 AB", "1")


def test_an_unreachable_geocoder_stops_the_import(world: World, engine) -> None:
    class Down:
        def locate(self, *args, **kwargs):
            raise GeocoderUnavailable("PDOK Locatieserver did not answer in time")

    world.app.state.geocoder = Down()
    answer = post_import(world, make_csv(3, bad=[])[0])
    assert answer.status_code == 503 and answer.json()["field"] == "geocoder"
    assert count(engine, ClientExternalId, ClientExternalId.value == "C-0000") == 0


def test_consent_is_recorded_kept_and_enforced(world: World, engine) -> None:
    a1 = world.clients["a1"]
    body = {"night_team": {"given": False, "date": "2026-10-01", "source": "verbal, recorded by J. Bakker"},
            "summary": {"given": False, "date": "2026-10-01", "source": "signed form"}}
    assert world.client.put(f"/api/clients/{a1}/consent", json=body, headers=world.h("partner_b")).status_code == 404
    assert world.client.put(f"/api/clients/{a1}/consent", json=body, headers=world.h("operator")).status_code == 403
    saved = world.client.put(f"/api/clients/{a1}/consent", json=body, headers=world.h("partner_a"))
    assert saved.status_code == 200, saved.text
    assert saved.json()["consent_night_team"] is False
    assert saved.json()["consent_night_team_source"] == "verbal, recorded by J. Bakker"
    assert world.client.put(f"/api/clients/{a1}/consent", json=body, headers=world.h("partner_a")).status_code == 200
    assert count(engine, ClientConsent, ClientConsent.client_id == a1) == 2, "the same again adds no history"
    # Night staff without consent: identity, address and access only, the consent line with its source.
    call = world.post_call(source_ref="consent-1", caller_phone="+31592111111").json()
    seen = world.client.get(f"/api/clients/{a1}", params={"call_id": call["id"]}, headers=world.h("operator"))
    assert seen.json()["restricted"] is True and seen.json()["phones"] == []
    assert (seen.json()["consent_night_team_date"], seen.json()["consent_summary"]) == ("2026-10-01", False)
    # Consent given: the whole record; the summary flag follows the second consent.
    body["night_team"]["given"] = True
    world.client.put(f"/api/clients/{a1}/consent", json=body, headers=world.h("coordinator"))
    seen = world.client.get(f"/api/clients/{a1}", params={"call_id": call["id"]}, headers=world.h("operator"))
    assert seen.json()["restricted"] is False
    coordinator = Principal(user_id=None, username="c", role=Role.coordinator, organisation_id=None, nurse_id=None)
    partner = Principal(user_id=None, username="p", role=Role.partner, organisation_id=world.orgs["a"], nurse_id=None)
    with Session(engine) as s:
        assert visible_client(s, coordinator, a1).summary_allowed is False
        assert visible_client(s, partner, a1).summary_allowed is True
    body["summary"]["given"] = True
    world.client.put(f"/api/clients/{a1}/consent", json=body, headers=world.h("partner_a"))
    with Session(engine) as s:
        assert visible_client(s, coordinator, a1).summary_allowed is True
        history = s.exec(select(ClientConsent).where(ClientConsent.client_id == a1)
                         .order_by(col(ClientConsent.id))).all()
        assert [(h.kind, h.given) for h in history] == [("night_team", False), ("summary", False),
                                                        ("night_team", True), ("summary", True)]
        assert history[0].consent_date == date(2026, 10, 1)
