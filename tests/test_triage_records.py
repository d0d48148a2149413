"""How triage runs are stored (both databases): a draft while in progress, a record written once when decided,
`superseded` derived from a later run. The API is the same as ever (tests/test_triage.py)."""
from __future__ import annotations

import threading
import time

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dispatch.auth.service import SYSTEM
from dispatch.calls.models import Call
from dispatch.errors import Conflict
from dispatch.settings import Settings
from dispatch.triage import runs, service
from dispatch.triage.models import Triage, TriageDraft
from tests.test_triage import SAFE, decide, new_call, run_triage
from tests.world import World

U2_FALL = [*SAFE, "no", "no", "no"]


def _stored(engine: Engine, call_id: int) -> tuple[list[int], list[int]]:
    """(draft ids, decided ids) of the call."""
    with Session(engine) as s:
        drafts = s.exec(select(col(TriageDraft.id)).where(TriageDraft.call_id == call_id)).all()
        decided = s.exec(select(col(Triage.id)).where(Triage.call_id == call_id)).all()
    return [i for i in drafts if i is not None], [i for i in decided if i is not None]


def _history(world: World, call_id: int) -> list[dict]:
    return world.client.get(f"/api/calls/{call_id}/triages", headers=world.h("operator")).json()


def test_a_decision_is_written_once_under_the_runs_id_and_the_draft_is_dropped(world: World, engine: Engine) -> None:
    call = new_call(world, "rec-1")
    in_progress = run_triage(world, call["id"], "fall", U2_FALL)
    assert _stored(engine, call["id"]) == ([in_progress["id"]], [])
    decided = decide(world, call["id"]).json()
    assert decided["id"] == in_progress["id"] and decided["state"] == "decided"
    assert _stored(engine, call["id"]) == ([], [in_progress["id"]])
    with Session(engine) as s:
        record = s.get(Triage, in_progress["id"])
    assert (record.final_urgency, record.final_disposition, record.decided_by) == ("U2", "nurse_visit", "operator")
    assert record.answers == [[a["node"], a["answer"]] for a in decided["answers"]]
    assert record.computed["urgency"] == "U2" and record.computed["trace"]
    refused = world.client.post(f"/api/calls/{call['id']}/triage/answers", json={"node": "x", "answer": "y"},
                                headers=world.h("operator"))
    assert refused.status_code == 409 and "is decided" in refused.json()["detail"]


def test_a_retriage_supersedes_the_decided_run_without_touching_it(world: World, engine: Engine) -> None:
    call = new_call(world, "rec-2")
    run_triage(world, call["id"], "fall", U2_FALL)
    first = decide(world, call["id"]).json()
    second = run_triage(world, call["id"], "fall", [*SAFE, "no", "yes", "no"])
    assert second["id"] > first["id"]
    history = _history(world, call["id"])
    assert [(t["id"], t["state"]) for t in history] == [(first["id"], "superseded"), (second["id"], "in_progress")]
    assert history[0]["decision"]["urgency"] == "U2" and history[1]["decision"] is None
    assert _stored(engine, call["id"]) == ([second["id"]], [first["id"]])


def test_an_abandoned_run_is_kept_and_superseded(world: World, engine: Engine) -> None:
    call = new_call(world, "rec-3")
    abandoned = run_triage(world, call["id"], "fall", SAFE)
    world.move(call["id"], "triaged", reason="handled outside the protocol")
    again = run_triage(world, call["id"], "medication", [])
    history = _history(world, call["id"])
    assert [(t["id"], t["state"], t["decision"]) for t in history] == [
        (abandoned["id"], "superseded", None), (again["id"], "in_progress", None)]
    assert len(history[0]["answers"]) == 3  # what was answered is still there
    assert _stored(engine, call["id"]) == ([abandoned["id"], again["id"]], [])


def test_two_operators_deciding_at_once_record_one_decision(world: World, engine: Engine, settings: Settings) -> None:
    call_id = new_call(world, "rec-4")["id"]
    run_triage(world, call_id, "fall", U2_FALL)
    outcomes: list[str] = []

    def operator() -> None:
        with Session(engine, expire_on_commit=False) as s:
            call = s.get(Call, call_id)
            assert call is not None
            try:
                service.decide(s, SYSTEM, call, runs.current(s, call), urgency=None, disposition=None, reason="",
                               settings=settings)
                time.sleep(0.3)  # the other one is waiting now
                s.commit()
                outcomes.append("decided")
            except Conflict as exc:
                s.rollback()
                outcomes.append(f"409 {exc.field}")

    threads = [threading.Thread(target=operator) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["409 call_id", "decided"]
    assert len(_stored(engine, call_id)[1]) == 1
