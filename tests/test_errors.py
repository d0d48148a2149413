"""One error shape for every 4xx/5xx, naming the field and the reason."""
from __future__ import annotations

from typing import Any

import pytest

from tests.world import PASSWORD, World


def test_validation_error_names_the_field(world: World) -> None:
    r = world.client.post("/api/calls", json={"source": "pigeon", "source_ref": "x"}, headers=world.h("operator"))
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "invalid" and body["field"] == "source"
    assert body["detail"].startswith("source: ") and "phone" in body["detail"]


def test_nested_field_and_control_characters(world: World) -> None:
    body = {"organisation": "org-a", "given_name": "A\x00nnie", "family_name": "Post", "street": "Brink",
            "house_number": "1", "postcode": "9411 AB", "city": "Beilen", "lat": 52.8, "lon": 6.5}
    r = world.client.post("/api/clients", json=body, headers=world.h("coordinator"))
    assert r.status_code == 422 and r.json()["field"] == "given_name"
    assert "control characters" in r.json()["detail"]
    body.update(given_name="Annie", phones=["12"])
    r = world.client.post("/api/clients", json=body, headers=world.h("coordinator"))
    assert r.status_code == 422 and r.json()["field"] == "phones.0"
    assert "not a valid phone number" in r.json()["detail"]


def test_malformed_json_unknown_route_and_wrong_method(world: World) -> None:
    r = world.client.post("/api/calls", content=b"{not json", headers={**world.h("operator"),
                                                                          "content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"] == "invalid"
    missing = world.client.get("/api/nothing-here", headers=world.h("operator"))
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"
    wrong = world.client.delete("/api/calls", headers=world.h("operator"))
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"


def test_conflicts_name_the_field(world: World) -> None:
    body = {"organisation": "org-a", "given_name": "Annie", "family_name": "Post", "street": "Brink",
            "house_number": "1", "postcode": "9411 AB", "city": "Beilen", "lat": 52.8, "lon": 6.5,
            "external_ids": [{"system": "ecd", "value": "A-1"}]}
    r = world.client.post("/api/clients", json=body, headers=world.h("coordinator"))
    assert r.status_code == 409 and r.json()["field"] == "external_ids"
    r = world.client.post("/api/visits", json={"client_id": world.clients["a1"], "window_start": "2026-01-01T02:00:00",
                                               "window_end": "2026-01-01T03:00:00"}, headers=world.h("coordinator"))
    assert r.status_code == 422 and r.json()["field"] == "window_start"  # times need a timezone


def test_same_external_id_twice_in_one_request_is_a_422(world: World) -> None:
    body: dict[str, Any] = {
        "organisation": "org-a", "given_name": "Annie", "family_name": "Post", "street": "Brink",
        "house_number": "1", "postcode": "9411 AB", "city": "Beilen", "lat": 52.8, "lon": 6.5,
        "external_ids": [{"system": "ecd", "value": "A-77"}, {"system": "ecd", "value": "A-77"}]}
    r = world.client.post("/api/clients", json=body, headers=world.h("coordinator"))
    assert r.status_code == 422 and r.json()["field"] == "external_ids"
    body["external_ids"] = body["external_ids"][:1]
    assert world.client.post("/api/clients", json=body, headers=world.h("coordinator")).status_code == 201


@pytest.mark.parametrize("path", ["/api/calls", "/api/day-tasks", "/api/audit"])
def test_a_time_without_its_offset_is_a_422_naming_the_field(world: World, path: str) -> None:
    r = world.client.get(path, params={"since": "2026-11-30T02:00:00"}, headers=world.h("coordinator"))
    assert r.status_code == 422 and r.json()["field"] == "since", r.text
    assert "timezone" in r.json()["detail"]


# The years are judged as written (the schema states them as a pattern), so the offset cannot carry a time out.
@pytest.mark.parametrize(("moment", "why"), [("0001-01-01T00:00:00+14:00", "between 1900 and 2200"),
                                             ("9999-12-31T22:00:00-05:00", "between 1900 and 2200"),
                                             ("1850-06-01T12:00:00+00:00", "between 1900 and 2200"),
                                             ("2200-01-01T00:00:00+14:00", "between 1900 and 2200")])
def test_times_beyond_the_calendar_are_a_422(world: World, moment: str, why: str) -> None:
    r = world.client.get("/api/calls", params={"since": moment}, headers=world.h("operator"))
    assert r.status_code == 422 and r.json()["field"] == "since" and why in r.json()["detail"]
    body = {"client_id": world.clients["a1"], "window_start": "2026-01-01T02:00:00+01:00", "window_end": moment}
    r = world.client.post("/api/visits", json=body, headers=world.h("coordinator"))
    assert r.status_code == 422 and r.json()["field"] == "window_end"


@pytest.mark.parametrize("moment", ["1900-01-01T00:00:00+14:00", "2199-12-31T23:59:59.999999-23:59"])
def test_times_at_the_edges_of_the_stated_years_are_taken(world: World, moment: str) -> None:
    r = world.client.get("/api/calls", params={"since": moment}, headers=world.h("operator"))
    assert r.status_code == 200, r.text


def test_a_body_too_large_is_a_413_read_no_further(world: World) -> None:
    huge = b'{"source": "manual", "text": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    r = world.client.post("/api/calls", content=huge,
                          headers={**world.h("operator"), "content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "too_large"

    def chunks():
        yield b'{"source": "manual", "text": "'
        for _ in range(40):
            yield b"x" * 100_000
        yield b'"}'

    r = world.client.post("/api/calls", content=chunks(), headers={**world.h("operator"),
                                                                     "content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    assert world.client.get("/api/calls", headers=world.h("operator")).json() == []  # nothing of it was kept


def test_every_answer_carries_the_security_headers(world: World) -> None:
    api = world.client.get("/api/calls", headers=world.h("operator"))
    page = world.client.get("/nurse/")
    for r in (api, page):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert "strict-transport-security" not in r.headers  # not served over TLS here
    assert api.headers["cache-control"] == "no-store"
    token = world.client.post("/api/auth/token", data={"username": "operator", "password": PASSWORD})
    assert token.headers["cache-control"] == "no-store"


def test_hsts_when_served_over_tls(database_url: str, engine) -> None:
    from fastapi.testclient import TestClient

    from dispatch.app import create_app
    from tests.conftest import test_settings

    with TestClient(create_app(test_settings(database_url, tls=True), engine=engine)) as client:
        assert client.get("/healthz").headers["strict-transport-security"].startswith("max-age=")


def test_several_workers_need_postgresql(tmp_path) -> None:
    import subprocess
    import sys

    from dispatch.devtools.server import service_env

    env = service_env(f"sqlite:///{tmp_path / 'x.db'}")
    done = subprocess.run([sys.executable, "-m", "dispatch.cli", "serve", "--workers", "2", "--port", "1"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0 and "needs PostgreSQL" in done.stderr
