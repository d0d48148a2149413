"""The backup triage team through the API (both databases): calls handed to it, and back; what its operators see
(only those calls, on the board, the list, the live channel); overflow, which sends every new call to it for a
while."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from dispatch.auth.models import Role, Team
from dispatch.auth.service import create_user
from dispatch.calls.models import Overflow
from tests.test_board import (
    FALL_U2,
    UNKNOWN_PHONE,
    board,
    board_socket,
    call_event,
    next_event,
    row_of,
)
from tests.test_triage import decide, new_call, run_triage
from tests.world import PASSWORD, World


@pytest.fixture
def backup(world: World, engine, settings) -> World:
    """The world with an operator of the backup team, logged in as `backup`."""
    with Session(engine) as s:
        create_user(s, settings=settings, username="backup", password=PASSWORD, role=Role.operator, team=Team.backup)
        s.commit()
    r = world.client.post("/api/auth/token", data={"username": "backup", "password": PASSWORD})
    assert r.status_code == 200, r.text
    world.tokens["backup"] = r.json()["access_token"]
    return world


def hand(world: World, call_id: int, to: str, who: str = "operator", reason: str = ""):
    return world.client.post(f"/api/calls/{call_id}/handover", json={"to": to, "reason": reason},
                             headers=world.h(who))


def listed(world: World, who: str) -> list[int]:
    r = world.client.get("/api/calls", headers=world.h(who))
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()]


# -- handing single calls over -------------------------------------------------------------------------------

def test_a_hand_over_is_in_the_calls_history_with_its_reason(backup: World) -> None:
    world = backup
    call = new_call(world, "ho-1")
    r = hand(world, call["id"], "backup", reason="five calls waiting, storm in Assen")
    assert r.status_code == 200, r.text
    assert r.json()["team"] == "backup" and r.json()["state"] == "received"  # a hand-over is not a move
    last = r.json()["events"][-1]
    assert "handed to the backup triage team" in last["reason"] and "storm in Assen" in last["reason"]
    assert (last["actor"], last["from_state"], last["to_state"]) == ("operator", "received", "received")
    assert row_of(board(world), call["id"])["team"] == "backup"  # the region keeps seeing it, marked


def test_a_backup_operator_sees_only_the_calls_handed_to_it(backup: World) -> None:
    world = backup
    theirs = new_call(world, "ho-theirs")
    ours = new_call(world, "ho-ours", phone="+31592222222")
    run_triage(world, ours["id"], "fall", FALL_U2)
    assert decide(world, ours["id"]).status_code == 200  # a visit on the map of the region
    assert hand(world, theirs["id"], "backup").status_code == 200
    assert listed(world, "backup") == [theirs["id"]]
    assert set(listed(world, "operator")) == {theirs["id"], ours["id"]}
    assert world.client.get(f"/api/calls/{theirs['id']}", headers=world.h("backup")).status_code == 200
    hidden = world.client.get(f"/api/calls/{ours['id']}", headers=world.h("backup"))
    assert hidden.status_code == 404 and hidden.json()["field"] == "call_id"
    answer = board(world, "backup")
    assert answer["me"]["team"] == "backup"
    assert [c["id"] for c in answer["calls"]] == [theirs["id"]]
    assert (answer["visits"], answer["nurses"], answer["alerts"], answer["routes"]["routes"]) == ([], [], [], {})
    assert answer["counts"]["waiting_for_triage"] == 1 and answer["counts"]["queued"] == 0
    regional = board(world)
    assert regional["visits"] and regional["nurses"]
    assert {theirs["id"], ours["id"]} <= {c["id"] for c in regional["calls"]}


def test_a_backup_operator_identifies_and_triages_a_call_handed_to_it(backup: World) -> None:
    world = backup
    call = new_call(world, "ho-triage", phone=UNKNOWN_PHONE)
    other = new_call(world, "ho-other", phone=UNKNOWN_PHONE)
    assert hand(world, call["id"], "backup").status_code == 200
    found = world.client.get("/api/clients", params={"call_id": call["id"], "q": "Bakker"}, headers=world.h("backup"))
    assert found.status_code == 200 and [c["id"] for c in found.json()] == [world.clients["a1"]]
    refused = world.client.get("/api/clients", params={"call_id": other["id"], "q": "Bakker"},
                               headers=world.h("backup"))
    assert refused.status_code == 403 and refused.json()["field"] == "call_id"
    identified = world.client.post(f"/api/calls/{call['id']}/client", json={"client_id": world.clients["a1"]},
                                   headers=world.h("backup"))
    assert identified.status_code == 200 and identified.json()["client_id"] == world.clients["a1"]
    assert world.client.post(f"/api/calls/{other['id']}/client", json={"client_id": world.clients["a2"]},
                             headers=world.h("backup")).status_code == 404
    run_triage(world, call["id"], "fall", FALL_U2, who="backup")
    decided = world.client.post(f"/api/calls/{call['id']}/triage/decision", json={}, headers=world.h("backup"))
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"]["urgency"] == "U2" and decided.json()["decision"]["visit"] is not None
    row = row_of(board(world, "backup"), call["id"])
    assert row["state"] == "queued" and row["triage"]["urgency"] == "U2" and row["client"]["name"] == "Aaltje Bakker"
    assert world.client.post(f"/api/calls/{other['id']}/triage", json={"complaint": "fall"},
                             headers=world.h("backup")).status_code == 404


def test_the_backup_team_hands_a_call_back_and_then_no_longer_sees_it(backup: World) -> None:
    world = backup
    call = new_call(world, "ho-back")
    assert hand(world, call["id"], "backup").status_code == 200
    assert hand(world, call["id"], "backup", who="backup").status_code == 409  # it is with them already
    back = hand(world, call["id"], "regional", who="backup", reason="caller speaks only Frisian")
    assert back.status_code == 200, back.text
    assert back.json()["team"] == "regional"
    last = back.json()["events"][-1]
    assert "handed back to the regional team" in last["reason"] and "Frisian" in last["reason"]
    assert last["actor"] == "backup"
    assert world.client.get(f"/api/calls/{call['id']}", headers=world.h("backup")).status_code == 404
    assert board(world, "backup")["calls"] == [] and listed(world, "backup") == []
    assert row_of(board(world), call["id"])["team"] == "regional"


def test_handing_a_call_to_the_team_it_is_with_or_a_closed_call_is_a_conflict(backup: World) -> None:
    world = backup
    call = new_call(world, "ho-conflict")
    same = hand(world, call["id"], "regional")
    assert same.status_code == 409 and same.json()["field"] == "to" and "already" in same.json()["detail"]
    assert hand(world, call["id"], "backup").status_code == 200
    twice = hand(world, call["id"], "backup")
    assert twice.status_code == 409 and twice.json()["field"] == "to"
    closed = new_call(world, "ho-closed", phone="+31592222222")
    assert world.move(closed["id"], "cancelled", reason="wrong number").status_code == 200
    r = hand(world, closed["id"], "backup")
    assert r.status_code == 409 and "closed" in r.json()["detail"]
    events = world.client.get(f"/api/calls/{closed['id']}", headers=world.h("operator")).json()["events"]
    assert not any("backup" in e["reason"] for e in events)
    assert world.client.post(f"/api/calls/{call['id']}/handover", json={"to": "regional"},
                             headers=world.h("partner_a")).status_code == 403


def test_the_backup_teams_board_hears_of_the_calls_handed_to_it_and_of_nothing_else(backup: World) -> None:
    world = backup
    with board_socket(world, "operator") as regional, board_socket(world, "backup") as theirs:
        kept = new_call(world, "ws-kept")
        handed = new_call(world, "ws-handed", phone="+31592222222")
        assert hand(world, handed["id"], "backup", reason="peak").status_code == 200
        assert world.client.post(f"/api/calls/{handed['id']}/triage", json={"complaint": "fall"},
                                 headers=world.h("backup")).status_code == 201
        heard: list[dict[str, Any]] = []
        next_event(theirs, call_event(handed["id"], state="triaging"), heard)
        assert all(f["kind"] == "call.changed" and f["call"]["id"] == handed["id"] for f in heard), \
            [(f["kind"], f.get("call", {}).get("id")) for f in heard]
        assert [f["call"]["state"] for f in heard] == ["received", "triaging"]
        assert "handed to the backup" in heard[0]["reason"] and heard[0]["call"]["team"] == "backup"
        assert heard[0]["call"]["client"]["name"] == "Geertje Wolters"  # the row it draws, not a fetch
        region: list[dict[str, Any]] = []
        next_event(regional, call_event(handed["id"], state="triaging"), region)
        calls = [(f["call"]["id"], f["call"]["state"], f["call"]["team"]) for f in region
                 if f["kind"] == "call.changed"]
        assert calls == [(kept["id"], "received", "regional"), (handed["id"], "received", "regional"),
                         (handed["id"], "received", "backup"), (handed["id"], "triaging", "backup")]



def test_a_backup_operator_reads_only_the_visits_of_the_calls_handed_to_it(backup: World) -> None:
    world = backup
    theirs = new_call(world, "hv-theirs")
    assert hand(world, theirs["id"], "backup").status_code == 200
    run_triage(world, theirs["id"], "fall", FALL_U2, who="backup")
    their_visit = world.client.post(f"/api/calls/{theirs['id']}/triage/decision", json={},
                                    headers=world.h("backup")).json()["decision"]["visit"]["id"]
    ours = new_call(world, "hv-ours", phone="+31592222222")
    run_triage(world, ours["id"], "fall", FALL_U2)
    our_visit = decide(world, ours["id"]).json()["decision"]["visit"]["id"]
    seen = world.client.get("/api/visits", headers=world.h("backup"))
    assert seen.status_code == 200 and [v["id"] for v in seen.json()] == [their_visit]
    assert world.client.get(f"/api/visits/{their_visit}", headers=world.h("backup")).status_code == 200
    for hidden in (our_visit, world.visits["a1"]):  # a regional call's visit, a planned night visit
        assert world.client.get(f"/api/visits/{hidden}", headers=world.h("backup")).status_code == 404
        assert world.client.get(f"/api/visits/{hidden}/observations", headers=world.h("backup")).status_code == 404
    everything = {v["id"] for v in world.client.get("/api/visits", headers=world.h("operator")).json()}
    assert {their_visit, our_visit, world.visits["a1"], world.visits["b1"]} <= everything

# -- overflow: every new call to the backup team for a while ------------------------------------------------

def test_overflow_sends_new_calls_to_the_backup_team_until_it_is_stopped(backup: World) -> None:
    world = backup
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    body = {"backup_until": until.isoformat(), "reason": "calamity: fire in a care home"}
    assert world.client.put("/api/overflow", json=body, headers=world.h("operator")).status_code == 403
    assert world.client.put("/api/overflow", json=body, headers=world.h("backup")).status_code == 403
    before = new_call(world, "of-before")
    r = world.client.put("/api/overflow", json=body, headers=world.h("coordinator"))
    assert r.status_code == 200, r.text
    state = world.client.get("/api/overflow", headers=world.h("operator")).json()
    assert datetime.fromisoformat(state["backup_until"]) == until and state["set_by"] == "coordinator"
    assert state["reason"] == "calamity: fire in a care home"
    assert datetime.fromisoformat(board(world)["overflow"]["backup_until"]) == until
    during = new_call(world, "of-during", phone="+31592222222")
    assert during["team"] == "backup" and before["team"] == "regional"
    assert listed(world, "backup") == [during["id"]]
    assert [c["id"] for c in board(world, "backup")["calls"]] == [during["id"]]
    stop = world.client.put("/api/overflow", json={"backup_until": None}, headers=world.h("coordinator"))
    assert stop.status_code == 200 and stop.json()["backup_until"] is None
    assert world.client.get("/api/overflow", headers=world.h("backup")).json()["backup_until"] is None
    after = new_call(world, "of-after", phone="+31592111112")
    assert after["team"] == "regional"
    assert listed(world, "backup") == [during["id"]]  # what was handed over stays with them


def test_overflow_ends_by_itself_at_its_moment(backup: World, engine) -> None:
    world = backup
    until = datetime.now(UTC) + timedelta(hours=2)
    assert world.client.put("/api/overflow", json={"backup_until": until.isoformat()},
                            headers=world.h("coordinator")).status_code == 200
    assert new_call(world, "of-on")["team"] == "backup"
    with Session(engine) as s:  # two hours later: the moment has passed
        state = s.exec(select(Overflow)).one()
        state.backup_until = datetime.now(UTC) - timedelta(seconds=1)
        s.add(state)
        s.commit()
    assert world.client.get("/api/overflow", headers=world.h("operator")).json()["backup_until"] is None
    assert new_call(world, "of-off", phone="+31592222222")["team"] == "regional"


@pytest.mark.parametrize("offset", [timedelta(minutes=-1), timedelta(hours=24, minutes=1)])
def test_overflow_is_set_until_a_moment_within_the_next_24_hours(backup: World, offset: timedelta) -> None:
    world = backup
    until = datetime.now(UTC) + offset
    r = world.client.put("/api/overflow", json={"backup_until": until.isoformat(), "reason": "x"},
                         headers=world.h("coordinator"))
    assert r.status_code == 422 and r.json()["field"] == "backup_until"
    naive_until = datetime.now() + timedelta(hours=1)  # noqa: DTZ005 - naive on purpose: the API refuses it
    naive = world.client.put("/api/overflow", json={"backup_until": naive_until.isoformat()},
                             headers=world.h("coordinator"))
    assert naive.status_code == 422 and naive.json()["field"] == "backup_until"
    assert world.client.get("/api/overflow", headers=world.h("operator")).json()["backup_until"] is None
    assert new_call(world, "of-refused")["team"] == "regional"


def test_a_call_handed_back_leaves_the_backup_teams_live_board(backup: World) -> None:
    world = backup
    call = new_call(world, "ws-back")
    assert hand(world, call["id"], "backup").status_code == 200
    with board_socket(world, "backup") as theirs:
        assert hand(world, call["id"], "regional", who="backup", reason="back to you").status_code == 200
        gone = next_event(theirs, call_event(call["id"]))
        assert gone["call"]["team"] == "regional" and "handed back" in gone["reason"]


def test_following_the_whole_night_is_the_regional_teams(backup: World) -> None:
    """Decisions and explanations hold every planned client's home; the nurses and the alerts are the regional
    team's to follow: the backup team is refused them, the regional operators are not."""
    replan = backup.client.post("/api/assignment/replan", headers=backup.h("operator"))
    assert replan.status_code == 200
    decision = replan.json()["id"]
    for path in (f"/api/assignment/decisions/{decision}", "/api/assignment/decisions",
                 f"/api/visits/{backup.visits['b1']}/explanation", "/api/alerts", "/api/board/routes", "/api/nurses"):
        refused = backup.client.get(path, headers=backup.h("backup"))
        assert refused.status_code == 403, f"{path}: {refused.status_code}"
        assert backup.client.get(path, headers=backup.h("operator")).status_code == 200, path
    assert backup.client.post("/api/assignment/replan", headers=backup.h("backup")).status_code == 403
