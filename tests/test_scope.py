"""Every role against every endpoint; a partner never lists, reads or infers another organisation's data."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from tests.world import World

ROLES = ["operator", "coordinator", "nurse1", "partner_a", "partner_b"]
SOON = datetime.now(UTC) + timedelta(hours=2)
REFS = itertools.count()


def _client_body(org: str) -> dict:
    return {"organisation": org, "given_name": "Riek", "family_name": "Post", "street": "Brink", "house_number": "3",
            "postcode": "9411 AB", "city": "Beilen", "lat": 52.86, "lon": 6.51, "phones": ["0593 123456"]}


def _visit_body(client_id: int) -> dict:
    return {"client_id": client_id, "window_start": SOON.isoformat(),
            "window_end": (SOON + timedelta(hours=1)).isoformat(), "service_minutes": 15}


def _fresh_call_a(world: World) -> int:
    return world.post_call(source_ref=f"fresh-{next(REFS)}", caller_phone="+31592111112").json()["id"]


# (name, method, path template, body factory or None, {role: expected status})
MATRIX = [
    ("list organisations", "GET", "/api/organisations", None,
     {"operator": 200, "coordinator": 200, "nurse1": 200, "partner_a": 200, "partner_b": 200}),
    ("create organisation", "POST", "/api/organisations", lambda w: {"code": "org-c", "name": "C"},
     {"operator": 403, "coordinator": 201, "nurse1": 403, "partner_a": 403, "partner_b": 403}),
    ("search clients without a call", "GET", "/api/clients", None,
     {"operator": 403, "coordinator": 200, "nurse1": 403, "partner_a": 200, "partner_b": 200}),
    ("read client a1", "GET", "/api/clients/{a1}", None,
     {"operator": 403, "coordinator": 200, "nurse1": 200, "partner_a": 200, "partner_b": 404}),
    ("summary of client a1", "GET", "/api/clients/{a1}/summary", None,
     {"operator": 403, "coordinator": 200, "nurse1": 200, "partner_a": 200, "partner_b": 404}),
    ("update client a1", "PATCH", "/api/clients/{a1}", lambda w: {"access_notes": "side door"},
     {"operator": 403, "coordinator": 200, "nurse1": 403, "partner_a": 200, "partner_b": 404}),
    ("create client in org-a", "POST", "/api/clients", lambda w: _client_body("org-a"),
     {"operator": 403, "coordinator": 201, "nurse1": 403, "partner_a": 201, "partner_b": 403}),
    ("take a partner call", "POST", "/api/calls",
     lambda w: {"source": "partner", "source_ref": f"m-{next(REFS)}", "organisation": "org-a"},
     {"operator": 201, "coordinator": 201, "nurse1": 403, "partner_a": 201, "partner_b": 403}),
    ("take a phone call", "POST", "/api/calls", lambda w: {"source": "phone", "source_ref": f"m-{next(REFS)}"},
     {"operator": 201, "coordinator": 201, "nurse1": 403, "partner_a": 403, "partner_b": 403}),
    ("read org-a's call", "GET", "/api/calls/{call_a}", None,
     {"operator": 200, "coordinator": 200, "nurse1": 404, "partner_a": 200, "partner_b": 404}),
    ("triage org-a's call", "POST", lambda w: f"/api/calls/{_fresh_call_a(w)}/transitions",
     lambda w: {"to": "triaging"},
     {"operator": 200, "coordinator": 200, "nurse1": 404, "partner_a": 403, "partner_b": 404}),
    ("list nurses", "GET", "/api/nurses", None,
     {"operator": 200, "coordinator": 200, "nurse1": 200, "partner_a": 403, "partner_b": 403}),
    ("create nurse", "POST", "/api/nurses", lambda w: {"name": "Ilse", "phone": "+31612340009", "skills": []},
     {"operator": 403, "coordinator": 201, "nurse1": 403, "partner_a": 403, "partner_b": 403}),
    ("list shifts", "GET", "/api/shifts", None,
     {"operator": 200, "coordinator": 200, "nurse1": 200, "partner_a": 403, "partner_b": 403}),
    ("create shift", "POST", "/api/shifts",
     lambda w: {"nurse_id": w.nurses["n2"], "starts_at": SOON.isoformat(),
                "ends_at": (SOON + timedelta(hours=8)).isoformat()},
     {"operator": 403, "coordinator": 201, "nurse1": 403, "partner_a": 403, "partner_b": 403}),
    ("plan a visit for a2", "POST", "/api/visits", lambda w: _visit_body(w.clients["a2"]),
     {"operator": 403, "coordinator": 201, "nurse1": 403, "partner_a": 201, "partner_b": 404}),
    ("read visit a1", "GET", "/api/visits/{visit_a1}", None,
     {"operator": 200, "coordinator": 200, "nurse1": 200, "partner_a": 200, "partner_b": 404}),
    ("read visit b1", "GET", "/api/visits/{visit_b1}", None,
     {"operator": 200, "coordinator": 200, "nurse1": 404, "partner_a": 404, "partner_b": 200}),
    ("assign visit b1", "POST", "/api/visits/{visit_b1}/assign", lambda w: {"nurse_id": w.nurses["n2"]},
     {"operator": 200, "coordinator": 200, "nurse1": 403, "partner_a": 403, "partner_b": 403}),
    ("read audit log", "GET", "/api/audit", None,
     {"operator": 403, "coordinator": 200, "nurse1": 403, "partner_a": 200, "partner_b": 200}),
    ("current protocol", "GET", "/api/protocols/current", None,
     {"operator": 200, "coordinator": 200, "nurse1": 403, "partner_a": 403, "partner_b": 403}),
    ("start triage", "POST", lambda w: f"/api/calls/{_fresh_call_a(w)}/triage", lambda w: {"complaint": "fall"},
     {"operator": 201, "coordinator": 201, "nurse1": 403, "partner_a": 403, "partner_b": 403}),
    ("org-a's morning handover", "GET", "/api/handover?night=2026-01-14&organisation=org-a", None,
     {"operator": 403, "coordinator": 200, "nurse1": 403, "partner_a": 200, "partner_b": 404}),
    ("org-a's handover as a FHIR document", "GET", "/api/handover.fhir?night=2026-01-14&organisation=org-a", None,
     {"operator": 403, "coordinator": 200, "nurse1": 403, "partner_a": 200, "partner_b": 404}),
    ("record a1's consent", "PUT", "/api/clients/{a1}/consent",
     lambda w: {"night_team": {"given": True, "source": "signed form"}, "summary": {"given": False}},
     {"operator": 403, "coordinator": 200, "nurse1": 403, "partner_a": 200, "partner_b": 404}),
    ("import clients into org-a", "POST", "/api/clients/import?dry_run=true&organisation=org-a", None,
     {"operator": 403, "coordinator": 422, "nurse1": 403, "partner_a": 422, "partner_b": 403}),
    ("day tasks", "GET", "/api/day-tasks", None,
     {"operator": 200, "coordinator": 200, "nurse1": 403, "partner_a": 200, "partner_b": 200}),
    ("observations on visit a1", "GET", "/api/visits/{visit_a1}/observations", None,
     {"operator": 200, "coordinator": 200, "nurse1": 200, "partner_a": 200, "partner_b": 404}),
    ("brief of visit a1 (a planned visit: no call for the operator)", "GET", "/api/visits/{visit_a1}/brief", None,
     {"operator": 403, "coordinator": 200, "nurse1": 200, "partner_a": 403, "partner_b": 403}),
    ("brief of visit b1 (not hers)", "GET", "/api/visits/{visit_b1}/brief", None,
     {"operator": 403, "coordinator": 200, "nurse1": 404, "partner_a": 403, "partner_b": 403}),
    ("set a bag item's dates", "PATCH", "/api/nightbag/items/999999", lambda w: {"expires_on": "2027-01-01"},
     {"operator": 403, "coordinator": 404, "nurse1": 403, "partner_a": 403, "partner_b": 403}),
    ("who am I", "GET", "/api/me", None,
     {"operator": 200, "coordinator": 200, "nurse1": 200, "partner_a": 200, "partner_b": 200}),
]


@pytest.fixture
def ids(world: World) -> dict[str, int]:
    call_a = world.post_call(source_ref="scope-a", caller_phone="+31592111112").json()
    assert call_a["organisation_id"] == world.orgs["a"]
    return {**world.clients, "call_a": call_a["id"], "visit_a1": world.visits["a1"], "visit_b1": world.visits["b1"]}


@pytest.mark.parametrize("name,method,path,body,expected", MATRIX, ids=[m[0] for m in MATRIX])
def test_role_matrix(world: World, ids: dict[str, int], name: str, method: str, path: str, body, expected) -> None:
    for role in ROLES:
        url = path(world) if callable(path) else path.format(**ids)
        r = world.client.request(method, url, json=body(world) if body else None, headers=world.h(role))
        assert r.status_code == expected[role], f"{name} as {role}: {r.status_code} {r.text}"
        if r.status_code >= 400:
            assert set(r.json()) >= {"error", "detail", "field"}
    anonymous = world.client.request(method, url, json=body(world) if body else None)
    assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthorized"


def test_partner_cannot_probe_other_organisations_ids(world: World) -> None:
    calls_b = [world.post_call(source_ref=f"probe-{i}", caller_phone="+31592222222").json()["id"] for i in range(3)]
    own = {world.clients["a1"], world.clients["a2"], world.clients["a3"]}
    for client_id in range(1, max(world.clients.values()) + 5):
        r = world.client.get(f"/api/clients/{client_id}", headers=world.h("partner_a"))
        if client_id in own:
            assert r.status_code == 200
        else:  # another organisation's client and a client that does not exist look exactly the same
            assert (r.status_code, r.json()) == (404, {"error": "not_found", "detail": f"no client {client_id}",
                                                       "field": "client_id"})
    for call_id in [*calls_b, max(calls_b) + 1]:
        r = world.client.get(f"/api/calls/{call_id}", headers=world.h("partner_a"))
        assert (r.status_code, r.json()["detail"]) == (404, f"no call {call_id}")
        moved = world.client.post(f"/api/calls/{call_id}/transitions", json={"to": "cancelled", "reason": "x"},
                                  headers=world.h("partner_a"))
        assert moved.status_code == 404


def test_partner_lists_and_filters_show_only_own_organisation(world: World) -> None:
    world.post_call(source_ref="mix-a", caller_phone="+31592111111")
    world.post_call(source_ref="mix-b", caller_phone="+31592222222")
    h = world.h("partner_a")
    calls = world.client.get("/api/calls", headers=h).json()
    assert calls and {c["organisation_id"] for c in calls} == {world.orgs["a"]}
    assert world.client.get("/api/calls", params={"client_id": world.clients["b1"]}, headers=h).json() == []
    assert world.client.get("/api/calls", params={"organisation_id": world.orgs["b"]}, headers=h).status_code == 403
    clients = world.client.get("/api/clients", params={"q": "koops"}, headers=h).json()
    assert [c["id"] for c in clients] == [world.clients["a3"]]  # not B's Janna Koops
    assert world.client.get("/api/clients", params={"phone": "+31592222222"}, headers=h).json() == []
    visits = world.client.get("/api/visits", headers=h).json()
    assert [v["id"] for v in visits] == [world.visits["a1"]]
    world.client.get(f"/api/clients/{world.clients['b1']}", headers=world.h("coordinator"))
    audit = world.client.get("/api/audit", params={"client_id": world.clients["b1"]}, headers=h).json()
    assert audit == []


def test_nurse_sees_only_her_own_jobs(world: World) -> None:
    call = world.post_call(source_ref="job-1", caller_phone="+31592111111").json()
    assert world.client.get("/api/calls", headers=world.h("nurse1")).json() == []
    visits = world.client.get("/api/visits", headers=world.h("nurse1")).json()
    assert [v["id"] for v in visits] == [world.visits["a1"]]
    assert world.client.get("/api/visits", headers=world.h("nurse2")).json() == []
    nurses = world.client.get("/api/nurses", headers=world.h("nurse1")).json()
    assert [n["id"] for n in nurses] == [world.nurses["n1"]]
    refused = world.client.get(f"/api/clients/{world.clients['b1']}", headers=world.h("nurse1"))
    assert refused.status_code == 403
    assert world.client.get(f"/api/calls/{call['id']}", headers=world.h("nurse1")).status_code == 404


def test_partner_may_withdraw_only_its_own_partner_calls(world: World) -> None:
    own = world.post_call("partner_a", source="partner", source_ref="w-1", client_external_id="A-1").json()
    phone = world.post_call(source_ref="w-2", caller_phone="+31592111111").json()
    assert world.move(own["id"], "cancelled", who="partner_a", reason="client called back").status_code == 200
    r = world.move(phone["id"], "cancelled", who="partner_a", reason="no")
    assert r.status_code == 403 and r.json()["field"] == "to"
