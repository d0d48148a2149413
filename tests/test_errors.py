"""One error shape for every 4xx/5xx, naming the field and the reason."""
from __future__ import annotations

from tests.world import World


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
    body = {"organisation": "org-a", "given_name": "Annie", "family_name": "Post", "street": "Brink",
            "house_number": "1", "postcode": "9411 AB", "city": "Beilen", "lat": 52.8, "lon": 6.5,
            "external_ids": [{"system": "ecd", "value": "A-77"}, {"system": "ecd", "value": "A-77"}]}
    r = world.client.post("/api/clients", json=body, headers=world.h("coordinator"))
    assert r.status_code == 422 and r.json()["field"] == "external_ids"
    body["external_ids"] = body["external_ids"][:1]
    assert world.client.post("/api/clients", json=body, headers=world.h("coordinator")).status_code == 201
