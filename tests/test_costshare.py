"""Cost share: agreements validated (fields named), statements computed from a month of calls and visits with fixed
times, each model's arithmetic against figures worked out by hand, CSV and PDF, and partners kept to their own."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dispatch.calls.models import Call
from dispatch.visits.models import Visit, VisitEvent
from tests.world import World

REGION = ZoneInfo("Europe/Amsterdam")
URL = "/api/cost-share"


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=REGION)


def _visit(session: Session, world: World, key: str, org: str, start: str, travel: int, care: int) -> None:
    """A completed visit: en route at `start`, on scene `travel` minutes later, completed `care` minutes after."""
    t0 = local(start)
    visit = Visit(kind="planned", client_id=world.clients[key], organisation_id=world.orgs[org], window_start=t0,
                  window_end=t0 + timedelta(hours=1), state="completed", on_scene_at=t0 + timedelta(minutes=travel),
                  completed_at=t0 + timedelta(minutes=travel + care))
    session.add(visit)
    session.flush()
    assert visit.id is not None
    session.add(VisitEvent(visit_id=visit.id, at=t0 - timedelta(minutes=3), actor="nurse1", actor_role="nurse",
                           move="accept", to_state="accepted"))
    session.add(VisitEvent(visit_id=visit.id, at=t0, actor="nurse1", actor_role="nurse", move="en_route",
                           to_state="en_route"))


@pytest.fixture
def month(world: World, engine: Engine) -> None:
    """November 2026 (region time): org A 3 calls, 2 visits (care 30 + 20, travel 10 + 15); org B 1 call, 1 visit
    (care 50, travel 25). Clients in care: A 3, B 2. Outside the month: a call at 31 Oct 23:59 and a visit
    completed 1 Dec 00:10 local (both already November in UTC, or still, must not count)."""
    with Session(engine) as session:
        for i, (org, at) in enumerate([("a", "2026-11-01T00:00:00"), ("a", "2026-11-15T03:00:00"),
                                       ("a", "2026-11-30T23:59:00"), ("b", "2026-11-20T02:00:00"),
                                       ("b", "2026-10-31T23:59:00"), ("a", "2026-12-01T00:00:00")]):
            session.add(Call(source="phone", source_ref=f"cs-{i}", organisation_id=world.orgs[org],
                             received_at=local(at)))
        _visit(session, world, "a1", "a", "2026-11-03T01:00:00", travel=10, care=30)
        _visit(session, world, "a2", "a", "2026-11-12T02:00:00", travel=15, care=20)
        _visit(session, world, "b1", "b", "2026-11-20T02:05:00", travel=25, care=50)
        _visit(session, world, "b2", "b", "2026-11-30T23:30:00", travel=20, care=20)  # completed 1 Dec 00:10
        session.commit()


def agree(world: World, **body):
    body.setdefault("first_month", "2026-11")
    body.setdefault("runner", "org-a")
    body.setdefault("monthly_cost_eur", "10000.00")
    return world.client.post(f"{URL}/agreements", json=body, headers=world.h("coordinator"))


def shares(world: World, who: str = "coordinator") -> dict[str, tuple[str, str]]:
    r = world.client.get(f"{URL}/statement", params={"month": "2026-11"}, headers=world.h(who))
    assert r.status_code == 200, r.text
    return {o["organisation"]["code"]: (o["share_percent"], o["amount_eur"]) for o in r.json()["organisations"]}


def test_figures_and_statement_forms(world: World, month) -> None:
    assert agree(world, model="calls").status_code == 201
    r = world.client.get(f"{URL}/statement", params={"month": "2026-11"}, headers=world.h("coordinator"))
    body = r.json()
    figures = {o["organisation"]["code"]: o["figures"] for o in body["organisations"]}
    assert figures["org-a"] == {"calls": 3, "visits": 2, "care_minutes": 50.0, "travel_minutes": 25.0,
                                "clients_in_care": 3}
    assert figures["org-b"] == {"calls": 1, "visits": 1, "care_minutes": 50.0, "travel_minutes": 25.0,
                                "clients_in_care": 2}
    # calls 3:1 of EUR 10,000: A (the runner) bears 7,500 and receives 2,500 from B.
    rows = {o["organisation"]["code"]: o for o in body["organisations"]}
    assert (rows["org-a"]["amount_eur"], rows["org-a"]["receives_eur"]) == ("7500.00", "2500.00")
    assert (rows["org-b"]["share_percent"], rows["org-b"]["pays_to_runner_eur"]) == ("25.00", "2500.00")

    # The partner sees its own statement only, in every form; another organisation's is a 404.
    r = world.client.get(f"{URL}/statement", params={"month": "2026-11"}, headers=world.h("partner_b"))
    assert [o["organisation"]["code"] for o in r.json()["organisations"]] == ["org-b"]
    for suffix in ("", ".csv", ".pdf"):
        r = world.client.get(f"{URL}/statement{suffix}", params={"month": "2026-11", "organisation": "org-a"},
                             headers=world.h("partner_b"))
        assert r.status_code == 404, (suffix, r.text)
    assert world.client.get(f"{URL}/statement", params={"month": "2026-11"},
                            headers=world.h("operator")).status_code == 403

    r = world.client.get(f"{URL}/statement.csv", params={"month": "2026-11"}, headers=world.h("partner_b"))
    assert r.headers["content-type"].startswith("text/csv")
    [row] = list(csv.DictReader(io.StringIO(r.text)))
    assert (row["organisation_name"], row["calls"], row["amount_eur"]) == ("Thuiszorg B", "1", "2500.00")

    r = world.client.get(f"{URL}/statement.pdf", params={"month": "2026-11"}, headers=world.h("partner_b"))
    assert r.content.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    assert "Thuiszorg B" in text and "2500.00" in text and "Runs the night team" not in text  # not the runner's page

    # No agreement for the month: 404 naming it.
    r = world.client.get(f"{URL}/statement", params={"month": "2026-10"}, headers=world.h("coordinator"))
    assert r.status_code == 404 and r.json()["field"] == "month"


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(("body", "expected"), [
    # 60/40 as agreed.
    ({"model": "fixed", "shares": {"org-a": "60", "org-b": "40"}}, {"org-a": ("60.00", "6000.00"),
                                                                     "org-b": ("40.00", "4000.00")}),
    # clients in care 3:2.
    ({"model": "clients"}, {"org-a": ("60.00", "6000.00"), "org-b": ("40.00", "4000.00")}),
    # visits 2:1 → 6666.67 / 3333.33 (the cent left over goes to the larger remainder).
    ({"model": "visits"}, {"org-a": ("66.67", "6666.67"), "org-b": ("33.33", "3333.33")}),
    # care minutes 50:50.
    ({"model": "care_minutes"}, {"org-a": ("50.00", "5000.00"), "org-b": ("50.00", "5000.00")}),
    # mix: weights fixed 1 (60/40) + calls 1 (75/25) + visits 2 (2/3, 1/3):
    # A = (0.6 + 0.75 + 2·2/3) / 4 = 0.670833…, B = (0.4 + 0.25 + 2/3) / 4 = 0.329166…
    ({"model": "mix", "shares": {"org-a": "60", "org-b": "40"}, "weights": {"fixed": 1, "calls": 1, "visits": 2}},
     {"org-a": ("67.08", "6708.33"), "org-b": ("32.92", "3291.67")}),
    # a mix with a zero weight and a basis of which the month has none is the other bases' share.
    ({"model": "mix", "weights": {"calls": 1, "clients": 0}}, {"org-a": ("75.00", "7500.00"),
                                                               "org-b": ("25.00", "2500.00")}),
])
def test_each_model_against_hand_figures(world: World, month, body: dict, expected: dict) -> None:
    r = agree(world, **body)
    assert r.status_code == 201, r.text
    assert shares(world) == expected


@pytest.mark.parametrize("backend", ["sqlite"])
def test_agreements_are_validated_naming_the_field(world: World) -> None:
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"model": "fixed", "shares": {"org-a": "60", "org-b": "30"}}, 422, "shares"),
        ({"model": "fixed", "shares": {"org-a": "60", "org-x": "40"}}, 422, "shares.org-x"),
        ({"model": "mix", "weights": {"calls": -1, "visits": 2}}, 422, "weights.calls"),
        ({"model": "mix", "weights": {"calls": 0}}, 422, "weights"),
        ({"model": "mix", "weights": {"hours": 1}}, 422, "weights.hours"),
        ({"model": "calls", "runner": "org-x"}, 422, "runner"),
        ({"model": "calls", "monthly_cost_eur": "0"}, 422, "monthly_cost_eur"),
        ({"model": "calls", "first_month": "2026-13"}, 422, "first_month"),
        ({"model": "calls", "last_month": "2026-10"}, 422, "last_month"),
        ({"model": "costs"}, 422, "model"),
    ]
    for body, status, field in cases:
        r = agree(world, **body)
        assert (r.status_code, r.json().get("field")) == (status, field), (body, r.text)
    assert agree(world, model="calls", last_month="2027-03").status_code == 201
    r = agree(world, model="visits", first_month="2027-02")
    assert (r.status_code, r.json()["field"]) == (409, "first_month")
    assert agree(world, model="visits", first_month="2027-04").status_code == 201
    assert world.client.post(f"{URL}/agreements", json={"first_month": "2027-05", "runner": "org-a", "model": "calls",
                                                        "monthly_cost_eur": "1"},
                             headers=world.h("partner_a")).status_code == 403
    listed = world.client.get(f"{URL}/agreements", headers=world.h("partner_a")).json()
    assert [a["first_month"] for a in listed] == ["2027-04", "2026-11"]
