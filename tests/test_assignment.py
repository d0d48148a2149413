"""Assignment in the service: every change re-plans; decisions are stored, explained and replayable."""
from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from dispatch.assignment.replanner import Replanner
from dispatch.nurses.models import Shift
from dispatch.visits.models import Visit
from routing.check import violations
from routing.problem import from_dict
from routing.solver import Options, solve
from routing.travel import matrix
from tests.test_triage import SAFE, decide, new_call, run_triage
from tests.world import World

BEILEN = (52.8625, 6.5125)


@pytest.fixture
def on_duty(world: World, engine) -> World:
    now = datetime.now(UTC)
    with Session(engine) as s:
        for nurse_id in world.nurses.values():
            s.add(Shift(nurse_id=nurse_id, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=8)))
        s.commit()
    return world


def replan(world: World) -> dict:
    r = world.client.post("/api/assignment/replan", headers=world.h("operator"))
    assert r.status_code == 200, r.text
    return r.json()


def visit(world: World, visit_id: int) -> dict:
    return world.client.get(f"/api/visits/{visit_id}", headers=world.h("operator")).json()


def acute_visit(world: World, ref: str, answers: list[str], complaint: str = "fall",
                phone: str = "+31592111111") -> dict:
    call = new_call(world, ref, phone=phone)
    run_triage(world, call["id"], complaint, answers)
    decision = decide(world, call["id"]).json()["decision"]
    return {"call": call, "visit_id": decision["visit"]["id"]}


def wait_for(predicate, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


def test_a_triaged_call_is_assigned_and_the_call_follows(on_duty: World) -> None:
    world = on_duty
    made = acute_visit(world, "as-1", [*SAFE, "no", "no", "no"])  # U2, on the floor
    wait_for(lambda: visit(world, made["visit_id"])["state"] == "assigned")  # the re-plan ran by itself
    v = visit(world, made["visit_id"])
    assert v["nurse_id"] in world.nurses.values() and v["eta"] is not None
    call = world.client.get(f"/api/calls/{made['call']['id']}", headers=world.h("operator")).json()
    assert call["state"] == "assigned" and call["events"][-1]["actor"] == "dispatch"
    decisions = world.client.get("/api/assignment/decisions", headers=world.h("operator")).json()
    assert any(f"visit {made['visit_id']} create: triaged U2" in t for d in decisions for t in d["triggers"])


def test_explanation_lists_every_nurses_eta(on_duty: World) -> None:
    world = on_duty
    made = acute_visit(world, "as-2", [*SAFE, "no", "no", "no"])
    replan(world)
    explained = world.client.get(f"/api/visits/{made['visit_id']}/explanation", headers=world.h("operator")).json()
    assert {n["nurse_id"] for n in explained["nurses"]} == set(world.nurses.values())
    chosen = [n for n in explained["nurses"] if n["chosen"]]
    assert len(chosen) == 1
    assert chosen[0]["nurse_id"] == explained["nurse_id"] == visit(world, made["visit_id"])["nurse_id"]
    etas = [datetime.fromisoformat(n["eta"]) for n in explained["nurses"] if n["eta"]]
    assert datetime.fromisoformat(chosen[0]["eta"]) == min(etas)  # nobody else idle: the closest goes


def test_decision_is_stored_and_replays(on_duty: World) -> None:
    world = on_duty
    acute_visit(world, "as-3", [*SAFE, "no", "no", "no"])
    summary = replan(world)
    d = world.client.get(f"/api/assignment/decisions/{summary['id']}", headers=world.h("operator")).json()
    problem = from_dict(d["problem"])
    assert len(problem.nurses) == 2 and {j.id for j in problem.jobs} >= {f"visit-{v}" for v in world.visits.values()}
    replayed = solve(problem, Options(time_limit_s=0.2))
    assert violations(problem, replayed, matrix(problem)) == []
    assert d["plan"]["solver"]["name"] in ("or-tools", "greedy-insertion")


def test_skills_are_respected(on_duty: World) -> None:
    world = on_duty
    made = acute_visit(world, "as-4", [*SAFE, "yes", "not_helped"], complaint="pain")  # palliative skill
    replan(world)
    assert visit(world, made["visit_id"])["nurse_id"] == world.nurses["n1"]  # only Anouk has palliative


def test_accepted_work_stays_and_the_rest_moves_when_a_nurse_drops_out(on_duty: World, engine) -> None:
    world = on_duty
    accepted = acute_visit(world, "as-5", [*SAFE, "no", "no", "no"])
    waiting = acute_visit(world, "as-6", [*SAFE, "no", "no", "no"], phone="+31592111112")
    with Session(engine) as s:
        for vid, state in ((accepted["visit_id"], "accepted"), (waiting["visit_id"], "assigned")):
            v = s.get(Visit, vid)
            v.nurse_id, v.state = world.nurses["n1"], state
            s.add(v)
        s.commit()
    r = world.client.post(f"/api/nurses/{world.nurses['n1']}/availability",
                          json={"available": False, "reason": "flat tyre"}, headers=world.h("nurse1"))
    assert r.status_code == 200
    replan(world)
    assert visit(world, accepted["visit_id"])["nurse_id"] == world.nurses["n1"]
    assert visit(world, waiting["visit_id"])["nurse_id"] == world.nurses["n2"]


def test_operator_lock_holds_through_replans(on_duty: World) -> None:
    world = on_duty
    made = acute_visit(world, "as-7", [*SAFE, "no", "no", "no"])
    world.client.post(f"/api/nurses/{world.nurses['n2']}/position", json={"lat": BEILEN[0], "lon": BEILEN[1]},
                      headers=world.h("nurse2"))  # far away
    r = world.client.post(f"/api/visits/{made['visit_id']}/assign", json={"nurse_id": world.nurses["n2"]},
                          headers=world.h("operator"))
    assert r.status_code == 200 and r.json()["locked"] is True
    replan(world)
    assert visit(world, made["visit_id"])["nurse_id"] == world.nurses["n2"]
    released = world.client.post(f"/api/visits/{made['visit_id']}/assign", json={"nurse_id": None},
                                 headers=world.h("operator"))
    assert released.json()["locked"] is False
    replan(world)
    assert visit(world, made["visit_id"])["nurse_id"] == world.nurses["n1"]  # the close one, once released


def test_position_reports_trigger_a_replan_and_nurses_report_only_their_own(on_duty: World) -> None:
    world = on_duty
    r = world.client.post(f"/api/nurses/{world.nurses['n1']}/position", json={"lat": 53.0, "lon": 6.55},
                          headers=world.h("nurse1"))
    assert r.status_code == 200 and r.json()["lat"] == 53.0
    wait_for(lambda: any(f"position nurse {world.nurses['n1']}" in t
                         for d in world.client.get("/api/assignment/decisions", headers=world.h("operator")).json()
                         for t in d["triggers"]))
    other = world.client.post(f"/api/nurses/{world.nurses['n2']}/position", json={"lat": 53.0, "lon": 6.55},
                              headers=world.h("nurse1"))
    assert other.status_code == 403 and other.json()["field"] == "nurse_id"


def test_a_burst_of_requests_is_coalesced() -> None:
    seen: list[list[str]] = []

    def slow_replan(triggers: list[str]) -> None:
        time.sleep(0.2)
        seen.append(triggers)

    async def scenario() -> Replanner:
        replanner = Replanner(slow_replan)
        await replanner.start()
        threads = [threading.Thread(target=lambda i=i: replanner.request(f"change {i}")) for i in range(200)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        await asyncio.sleep(0.05)
        replanner.request("last change")
        await replanner.idle()
        await replanner.stop()
        return replanner

    replanner = asyncio.run(scenario())
    assert replanner.requests == 201
    assert 1 <= replanner.runs <= 3  # not 201 re-plans
    assert seen[-1][-1] == "last change"  # the latest change is always planned
    assert all(len(batch) <= 50 for batch in seen)  # what is kept per re-plan is bounded
