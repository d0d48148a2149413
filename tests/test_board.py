"""The operators' board through the API (both databases): `GET /api/board` draws the night in one answer, the
live events on /ws/operators carry the same rows, calls to 112 are recorded on the call, the service raises the
alerts an operator must see, and a client's night summary is read for a call."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from dispatch.calls.models import Call
from dispatch.clients.models import Client
from dispatch.responders.escalation import past_target
from dispatch.visits.models import Visit
from tests.test_assignment import acute_visit, on_duty, replan, visit, wait_for  # noqa: F401 - fixture
from tests.test_triage import SAFE, decide, new_call, run_triage
from tests.world import World

FALL_U2 = [*SAFE, "no", "no", "no"]  # still on the floor
FALL_U4 = [*SAFE, "no", "no", "yes", "none"]  # up again, no pain: the day team
MEDICATION_U5 = [*SAFE, "no", "no"]  # advice by phone
UNKNOWN_PHONE = "+31612999999"
DRAWN = ("client", "organisation", "triage", "urgency", "visit", "waiting_for_triage", "past_target", "escalations",
         "state", "team")  # what the console draws from a call's row


# -- helpers -------------------------------------------------------------------------------------------------

def board(world: World, who: str = "operator") -> dict[str, Any]:
    r = world.client.get("/api/board", headers=world.h(who))
    assert r.status_code == 200, r.text
    return r.json()


def row_of(answer: dict[str, Any], call_id: int) -> dict[str, Any]:
    rows = [c for c in answer["calls"] if c["id"] == call_id]
    assert len(rows) == 1, f"call {call_id} is on the board {len(rows)} times"
    return rows[0]


def change(engine, model: type, row_id: int, **values: object) -> None:
    with Session(engine) as s:
        row = s.get(model, row_id)
        for key, value in values.items():
            setattr(row, key, value)
        s.add(row)
        s.commit()


def alerts_of(world: World, kind: str) -> list[dict[str, Any]]:
    r = world.client.get("/api/alerts", headers=world.h("operator"))
    assert r.status_code == 200, r.text
    return [a for a in r.json() if a["kind"] == kind]


def settle(world: World, app) -> None:
    """Wait until no re-plan asked for by a change is pending or running."""
    world.client.portal.call(app.state.replanner.idle)


@contextmanager
def board_socket(world: World, who: str = "operator") -> Iterator[Any]:
    """A console on /ws/operators. It leaves as a browser does: it says goodbye and the service closes the socket
    (the test client would otherwise cancel the socket's task while the service is still ending it)."""
    with world.client.websocket_connect("/ws/operators") as ws:
        ws.send_json({"type": "hello", "token": world.tokens[who]})
        assert ws.receive_json()["type"] == "welcome"
        yield ws
        ws.close(1000)
        while ws.receive()["type"] != "websocket.close":
            pass


def next_event(ws, wanted: Callable[[dict[str, Any]], bool], seen: list[dict[str, Any]] | None = None) -> dict:
    """Board events until one is `wanted` (every event read goes to `seen`). A heartbeat means nothing came for
    the heartbeat interval: the event never came."""
    while True:
        frame = ws.receive_json()
        assert frame["type"] != "heartbeat", "the board heard nothing more"
        if frame["type"] != "event":
            continue
        if seen is not None:
            seen.append(frame)
        if wanted(frame):
            return frame


def call_event(call_id: int, **row: object) -> Callable[[dict[str, Any]], bool]:
    def wanted(frame: dict[str, Any]) -> bool:
        return (frame["kind"] == "call.changed" and frame["call"]["id"] == call_id
                and all(frame["call"].get(k) == v for k, v in row.items()))
    return wanted


def shift_of(world: World, nurse: str) -> int:
    shifts = world.client.get("/api/shifts", headers=world.h("coordinator")).json()
    return next(s["id"] for s in shifts if s["nurse_id"] == world.nurses[nurse])


def flagged_bag_check(world: World) -> dict[str, Any]:
    """Two items in the bag template; Anouk counts too few gloves and a meter past its calibration date."""
    gloves = world.client.post("/api/nightbag/items", json={"name": "Gloves (pairs)", "quantity": 10},
                               headers=world.h("coordinator")).json()
    meter = world.client.post("/api/nightbag/items", json={"name": "Glucose meter", "kind": "device"},
                              headers=world.h("coordinator")).json()
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    r = world.client.post(f"/api/shifts/{shift_of(world, 'n1')}/start", headers=world.h("nurse1"), json={"items": [
        {"item_id": gloves["id"], "quantity": 4},
        {"item_id": meter["id"], "quantity": 1, "calibration_due": yesterday.isoformat()}]})
    assert r.status_code == 201, r.text
    assert {(f["name"], f["problem"]) for f in r.json()["flags"]} == {("Gloves (pairs)", "short"),
                                                                       ("Glucose meter", "out of calibration")}
    return r.json()


# -- GET /api/board ------------------------------------------------------------------------------------------

def test_the_board_is_for_operators_and_coordinators(world: World) -> None:
    for who in ("nurse1", "partner_a"):
        r = world.client.get("/api/board", headers=world.h(who))
        assert r.status_code == 403, (who, r.text)
    for who in ("operator", "coordinator"):
        assert board(world, who)["me"]["role"] == who


def test_every_open_call_is_one_row_with_who_what_and_how_urgent(world: World) -> None:
    unknown = new_call(world, "b-unknown", phone=UNKNOWN_PHONE)
    triaging = new_call(world, "b-triaging", phone="+31592111112")
    run_triage(world, triaging["id"], "fall", SAFE)
    queued = new_call(world, "b-queued")
    run_triage(world, queued["id"], "fall", FALL_U2)
    assert decide(world, queued["id"]).status_code == 200
    cancelled = new_call(world, "b-cancelled", phone="+31592222222")
    assert world.move(cancelled["id"], "cancelled", reason="caller hung up, called back: fine").status_code == 200
    day_team = world.post_call(source_ref="b-day-team", client_id=world.clients["b2"]).json()
    run_triage(world, day_team["id"], "fall", FALL_U4)
    assert decide(world, day_team["id"]).json()["decision"]["disposition"] == "defer_to_day"  # closes the call

    answer = board(world)
    assert sorted(c["id"] for c in answer["calls"]) == sorted([unknown["id"], triaging["id"], queued["id"]])
    first = row_of(answer, unknown["id"])
    assert (first["state"], first["waiting_for_triage"], first["client"], first["triage"]) == \
        ("received", True, None, None)
    second = row_of(answer, triaging["id"])
    assert second["state"] == "triaging" and second["waiting_for_triage"] is True
    assert second["client"]["name"] == "Hendrik Mulder" and second["organisation"]["name"] == "Thuiszorg A"
    assert (second["triage"]["complaint"], second["triage"]["state"], second["urgency"]) == \
        ("Fall", "in_progress", None)
    third = row_of(answer, queued["id"])
    assert third["state"] == "queued" and third["waiting_for_triage"] is False
    assert third["client"]["name"] == "Aaltje Bakker" and third["client"]["address"] == "Kerkstraat 1, Assen"
    assert (third["triage"]["complaint"], third["triage"]["urgency"], third["urgency"]) == ("Fall", "U2", "U2")
    assert third["visit"]["state"] == "open" and third["visit"]["deadline"] is not None
    assert third["past_target"] is False

    counts = answer["counts"]
    rows = answer["calls"]
    assert counts["waiting_for_triage"] == sum(r["waiting_for_triage"] for r in rows) == 2
    assert counts["past_target"] == sum(r["past_target"] for r in rows) == 0
    for state in set(counts) - {"waiting_for_triage", "past_target"}:
        assert counts[state] == sum(r["state"] == state for r in rows), state
    assert counts["queued"] == 1


def test_after_a_replan_the_row_shows_the_nurse_and_her_eta(on_duty: World) -> None:  # noqa: F811
    world = on_duty
    made = acute_visit(world, "b-eta", FALL_U2)
    replan(world)
    wait_for(lambda: visit(world, made["visit_id"])["nurse_id"] is not None)
    planned = visit(world, made["visit_id"])
    names = {world.nurses["n1"]: "Anouk", world.nurses["n2"]: "Sanne"}
    answer = board(world)
    row = row_of(answer, made["call"]["id"])
    assert row["state"] == "assigned"
    assert row["visit"]["nurse_id"] == planned["nurse_id"] and row["visit"]["nurse"] == names[planned["nurse_id"]]
    assert row["visit"]["eta"] is not None
    assert datetime.fromisoformat(row["visit"]["eta"]) == datetime.fromisoformat(planned["eta"])
    on_map = [v for v in answer["visits"] if v["id"] == made["visit_id"]]
    assert len(on_map) == 1 and on_map[0]["nurse"] == names[planned["nurse_id"]]
    assert on_map[0]["client"]["address"] == "Kerkstraat 1, Assen" and on_map[0]["client"]["lat"] == 52.99
    assert {world.visits["a1"], world.visits["b1"]} <= {v["id"] for v in answer["visits"]}


def test_a_call_is_past_target_while_its_deadline_has_passed_and_no_nurse_is_there(
        on_duty: World, engine) -> None:  # noqa: F811
    world = on_duty
    late = acute_visit(world, "b-late", FALL_U2)
    in_time = acute_visit(world, "b-in-time", FALL_U2, phone="+31592111112")
    change(engine, Visit, late["visit_id"], window_end=datetime.now(UTC) - timedelta(minutes=5))
    answer = board(world)
    assert row_of(answer, late["call"]["id"])["past_target"] is True
    assert row_of(answer, in_time["call"]["id"])["past_target"] is False
    assert answer["counts"]["past_target"] == 1
    # She is on her way: still late. Once she is there, the call is no longer waiting for a nurse.
    vid = late["visit_id"]
    assert world.client.post(f"/api/visits/{vid}/assign", json={"nurse_id": world.nurses["n1"]},
                             headers=world.h("operator")).status_code == 200
    assert world.client.post(f"/api/visits/{vid}/accept", headers=world.h("nurse1")).status_code == 200
    assert world.client.post(f"/api/visits/{vid}/progress", json={"state": "en_route"},
                             headers=world.h("nurse1")).status_code == 200
    assert row_of(board(world), late["call"]["id"])["past_target"] is True
    assert world.client.post(f"/api/visits/{vid}/progress", json={"state": "on_scene"},
                             headers=world.h("nurse1")).status_code == 200
    answer = board(world)
    assert row_of(answer, late["call"]["id"])["past_target"] is False and answer["counts"]["past_target"] == 0


def test_the_board_shows_each_nurse_her_job_now_her_next_jobs_and_her_bag(on_duty: World) -> None:  # noqa: F811
    world = on_duty
    flagged_bag_check(world)
    now_job = acute_visit(world, "b-nurse", FALL_U2)
    for vid in (now_job["visit_id"], world.visits["a1"]):
        assert world.client.post(f"/api/visits/{vid}/assign", json={"nurse_id": world.nurses["n1"]},
                                 headers=world.h("operator")).status_code == 200
    assert world.client.post(f"/api/visits/{now_job['visit_id']}/accept", headers=world.h("nurse1")).status_code == 200
    assert world.client.post(f"/api/nurses/{world.nurses['n2']}/availability",
                             json={"available": False, "reason": "flat tyre"},
                             headers=world.h("nurse2")).status_code == 200
    nurses = {n["id"]: n for n in board(world)["nurses"]}
    anouk, sanne = nurses[world.nurses["n1"]], nurses[world.nurses["n2"]]
    assert anouk["name"] == "Anouk" and anouk["on_duty"] is True and sanne["on_duty"] is False
    assert anouk["current"]["visit_id"] == now_job["visit_id"] and anouk["current"]["state"] == "accepted"
    following = [j["visit_id"] for j in anouk["next"]]
    assert world.visits["a1"] in following and now_job["visit_id"] not in following
    assert all(j["state"] == "assigned" for j in anouk["next"])
    assert {(f["name"], f["problem"]) for f in anouk["bag_flags"]} == {("Gloves (pairs)", "short"),
                                                                        ("Glucose meter", "out of calibration")}
    assert sanne["bag_flags"] == [] and sanne["current"] is None


def test_after_a_replan_each_nurses_stops_are_on_the_board_in_order(on_duty: World, app) -> None:  # noqa: F811
    world = on_duty
    acute_visit(world, "b-route-1", FALL_U2)
    acute_visit(world, "b-route-2", FALL_U2, phone="+31592111112")
    acute_visit(world, "b-route-3", FALL_U2, phone="+31592222222")
    settle(world, app)
    decision = replan(world)
    answer = board(world)
    routes = answer["routes"]
    assert routes["decision_id"] == decision["id"]
    assert world.client.get("/api/board/routes", headers=world.h("operator")).json() == routes
    planned = {v["id"]: v for v in answer["visits"] if v["nurse_id"] is not None}
    assert len(planned) >= 3
    on_routes = []
    for nurse_id, stops in routes["routes"].items():
        assert int(nurse_id) in world.nurses.values()
        etas = [datetime.fromisoformat(s["eta"]) for s in stops]
        assert etas == sorted(etas)  # in the order she drives them
        for stop in stops:
            assert planned[stop["visit_id"]]["nurse_id"] == int(nurse_id)
            on_routes.append(stop["visit_id"])
    assert sorted(on_routes) == sorted(planned)  # every planned visit once, on its nurse's route


def test_reading_the_board_is_in_the_audit_log_for_the_clients_it_shows(world: World) -> None:
    new_call(world, "b-audit", phone="+31592222222")
    answer = board(world)
    shown = {c["client"]["id"] for c in answer["calls"] if c["client"]} | {v["client"]["id"] for v in answer["visits"]}
    assert shown >= {world.clients["b1"], world.clients["a1"]}
    log = world.client.get("/api/audit", params={"username": "operator", "limit": 1000},
                           headers=world.h("coordinator")).json()
    audited = {e["client_id"] for e in log if e["data"] == "board" and e["action"] == "list"}
    assert audited == shown


# -- live events on /ws/operators ----------------------------------------------------------------------------

def test_a_new_call_and_its_identification_reach_the_board_as_rows(world: World) -> None:
    with board_socket(world) as ws:
        call = new_call(world, "ev-new", phone=UNKNOWN_PHONE)
        frame = next_event(ws, call_event(call["id"]))
        row = frame["call"]
        assert (row["state"], row["waiting_for_triage"], row["client"], row["source"]) == \
            ("received", True, None, "phone")
        assert world.client.post(f"/api/calls/{call['id']}/client", json={"client_id": world.clients["b1"]},
                                 headers=world.h("operator")).status_code == 200
        row = next_event(ws, call_event(call["id"], client_match="operator"))["call"]
        assert row["client"]["name"] == "Geertje Wolters" and row["organisation"]["name"] == "Thuiszorg B"
        assert row["waiting_for_triage"] is True


def test_a_triage_decision_sends_the_visit_and_the_call_rows_the_board_draws(on_duty: World, app) -> None:  # noqa: F811
    world = on_duty
    settle(world, app)
    with board_socket(world) as ws:
        call = new_call(world, "ev-decide")
        run_triage(world, call["id"], "fall", FALL_U2)
        assert decide(world, call["id"]).status_code == 200
        seen: list[dict[str, Any]] = []
        created = next_event(ws, lambda f: f["kind"] == "visit.changed" and f["visit"]["call_id"] == call["id"],
                             seen)
        assert created["action"] == "create"
        assert created["visit"]["client"]["address"] == "Kerkstraat 1, Assen" and created["visit"]["urgency"] == "U2"
        assert created["call"]["id"] == call["id"] and created["call"]["triage"]["urgency"] == "U2"
        states = [f["call"]["state"] for f in seen if f["kind"] == "call.changed" and f["call"]["id"] == call["id"]]
        assert states[:3] == ["received", "triaging", "triaged"]
        # The planner offers it to a nurse: the rows say who, and when she is expected.
        offered = next_event(ws, lambda f: f["kind"] == "visit.changed" and f["visit"]["call_id"] == call["id"]
                             and f["action"] == "offer")
        row = offered["call"]
        assert row["visit"]["nurse"] in ("Anouk", "Sanne") and row["visit"]["eta"] is not None
        assert offered["visit"]["nurse"] == row["visit"]["nurse"]
    # What the event carried is what the board shows: the console need not fetch the call.
    settle(world, app)
    drawn = row_of(board(world), call["id"])
    for key in DRAWN:
        assert row[key] == drawn[key], key
    assert (row["client"]["name"], row["organisation"]["name"], row["triage"]["complaint"], row["urgency"],
            row["waiting_for_triage"], row["past_target"]) == ("Aaltje Bakker", "Thuiszorg A", "Fall", "U2",
                                                               False, False)


def test_an_acknowledged_alert_reaches_the_board_with_who_acknowledged_it(on_duty: World) -> None:  # noqa: F811
    world = on_duty
    with board_socket(world) as ws:
        flagged_bag_check(world)
        raised = next_event(ws, lambda f: f["kind"] == "alert" and f["alert"]["kind"] == "bag_problem")["alert"]
        assert raised["resolved_by"] is None and raised["nurse_id"] == world.nurses["n1"]
        ack = world.client.post(f"/api/alerts/{raised['id']}/acknowledge", headers=world.h("operator"))
        assert ack.status_code == 200
        done = next_event(ws, lambda f: f["kind"] == "alert" and f["alert"]["id"] == raised["id"]
                          and f["alert"]["resolved_at"] is not None)["alert"]
        assert done["resolved_by"] == "operator"
    assert all(a["id"] != raised["id"] for a in board(world)["alerts"])


# -- calls to 112 and the GP post ----------------------------------------------------------------------------

def test_a_call_to_112_is_recorded_listed_in_the_history_and_on_the_row(world: World) -> None:
    call = new_call(world, "esc-1")
    called_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    r = world.client.post(f"/api/calls/{call['id']}/escalations", headers=world.h("operator"), json={
        "to": "call_112", "called_at": called_at.isoformat(), "contact": "112 dispatcher, ref 4711",
        "note": "ambulance on its way, nurse to stay away"})
    assert r.status_code == 201, r.text
    assert r.json()["by"] == "operator" and datetime.fromisoformat(r.json()["called_at"]) == called_at
    listed = world.client.get(f"/api/calls/{call['id']}/escalations", headers=world.h("operator")).json()
    assert [(e["to"], e["contact"], e["note"]) for e in listed] == [
        ("call_112", "112 dispatcher, ref 4711", "ambulance on its way, nurse to stay away")]
    last = world.client.get(f"/api/calls/{call['id']}", headers=world.h("operator")).json()["events"][-1]
    assert "112" in last["reason"] and "112 dispatcher, ref 4711" in last["reason"]
    assert called_at.isoformat(timespec="minutes") in last["reason"] and last["actor"] == "operator"
    row = row_of(board(world), call["id"])
    assert [(e["to"], e["contact"], datetime.fromisoformat(e["called_at"])) for e in row["escalations"]] == [
        ("call_112", "112 dispatcher, ref 4711", called_at)]
    gp = world.client.post(f"/api/calls/{call['id']}/escalations", headers=world.h("operator"),
                           json={"to": "gp_post", "contact": "GP post Assen, Dr. Smit"})
    assert gp.status_code == 201
    assert [e["to"] for e in row_of(board(world), call["id"])["escalations"]] == ["call_112", "gp_post"]


def test_a_call_to_112_is_refused_without_a_contact_an_aware_time_or_an_open_call(world: World) -> None:
    call = new_call(world, "esc-2")
    url = f"/api/calls/{call['id']}/escalations"
    no_contact = world.client.post(url, json={"to": "call_112"}, headers=world.h("operator"))
    assert no_contact.status_code == 422 and no_contact.json()["field"] == "contact"
    naive = world.client.post(url, json={"to": "call_112", "contact": "112 dispatcher",
                                         "called_at": datetime.now().replace(microsecond=0).isoformat()},  # noqa: DTZ005 - naive on purpose: refused
                              headers=world.h("operator"))
    assert naive.status_code == 422 and naive.json()["field"] == "called_at"
    assert world.client.get(url, headers=world.h("operator")).json() == []
    assert world.move(call["id"], "cancelled", reason="wrong number").status_code == 200
    closed = world.client.post(url, json={"to": "call_112", "contact": "112 dispatcher"}, headers=world.h("operator"))
    assert closed.status_code == 409


# -- alerts the service raises -------------------------------------------------------------------------------

def test_a_call_past_its_target_raises_one_alert(world: World, engine) -> None:
    late = acute_visit(world, "al-late", FALL_U2)
    in_time = acute_visit(world, "al-in-time", FALL_U2, phone="+31592111112")
    now = datetime.now(UTC)
    change(engine, Visit, late["visit_id"], window_end=now - timedelta(minutes=12))
    assert past_target(engine, now=now) == [late["call"]["id"]]
    assert past_target(engine, now=now + timedelta(minutes=1)) == []  # once per call
    listed = alerts_of(world, "call_past_target")
    assert [a["call_id"] for a in listed] == [late["call"]["id"]]
    assert listed[0]["visit_id"] == late["visit_id"] and "12 min" in listed[0]["message"]
    assert in_time["call"]["id"] not in [a["call_id"] for a in board(world)["alerts"]]
    assert late["call"]["id"] in [a["call_id"] for a in board(world)["alerts"]]


def test_a_second_call_about_a_client_triaged_urgent_raises_an_alert_at_intake(world: World) -> None:
    first = new_call(world, "al-first")
    run_triage(world, first["id"], "fall", FALL_U2)
    decide(world, first["id"])
    day = new_call(world, "al-day", phone="+31592222222")  # another client, triaged for the day team
    run_triage(world, day["id"], "fall", FALL_U4)
    decide(world, day["id"])
    assert alerts_of(world, "second_call_urgent") == []
    again = new_call(world, "al-again")  # the same line: matched at intake
    assert again["client_id"] == world.clients["a1"]
    new_call(world, "al-day-again", phone="+31592222222")  # her earlier call was not urgent
    listed = alerts_of(world, "second_call_urgent")
    assert [a["call_id"] for a in listed] == [again["id"]]
    assert f"call {first['id']}" in listed[0]["message"] and "U2" in listed[0]["message"]


def test_a_second_call_identified_by_the_operator_raises_the_alert_too(world: World) -> None:
    first = new_call(world, "al-id-first")
    run_triage(world, first["id"], "fall", FALL_U2)
    decide(world, first["id"])
    unknown = new_call(world, "al-id-again", phone=UNKNOWN_PHONE)
    assert alerts_of(world, "second_call_urgent") == []
    assert world.client.post(f"/api/calls/{unknown['id']}/client", json={"client_id": world.clients["a1"]},
                             headers=world.h("operator")).status_code == 200
    assert [a["call_id"] for a in alerts_of(world, "second_call_urgent")] == [unknown["id"]]


def test_a_shift_started_with_a_flagged_bag_raises_an_alert_naming_the_nurse_and_the_items(on_duty: World) -> None:  # noqa: F811
    world = on_duty
    check = flagged_bag_check(world)
    listed = alerts_of(world, "bag_problem")
    assert len(listed) == 1 and listed[0]["nurse_id"] == world.nurses["n1"]
    assert all(word in listed[0]["message"] for word in ("Anouk", "Gloves (pairs) short",
                                                          "Glucose meter out of calibration"))
    assert check["complete"] is False
    # A complete bag raises nothing.
    items = world.client.get("/api/nightbag/items", headers=world.h("nurse2")).json()
    calibrated = (datetime.now(UTC) + timedelta(days=90)).date().isoformat()
    counted = [{"item_id": i["id"], "quantity": i["quantity"], "calibration_due": calibrated} for i in items]
    clean = world.client.post(f"/api/shifts/{shift_of(world, 'n2')}/start", json={"items": counted},
                              headers=world.h("nurse2"))
    assert clean.status_code == 201 and clean.json()["complete"] is True
    assert len(alerts_of(world, "bag_problem")) == 1


# -- a client's night summary --------------------------------------------------------------------------------

def _calls_about_a1(world: World, engine) -> dict[str, int]:
    """One call forty days ago, one five days ago (advice), today's urgent call, and the call being taken now."""
    now = datetime.now(UTC)
    long_ago = new_call(world, "ns-40d")
    change(engine, Call, long_ago["id"], received_at=now - timedelta(days=40))
    days_ago = new_call(world, "ns-5d")
    run_triage(world, days_ago["id"], "medication", MEDICATION_U5)
    decide(world, days_ago["id"])
    change(engine, Call, days_ago["id"], received_at=now - timedelta(days=5))
    today = new_call(world, "ns-today")
    run_triage(world, today["id"], "fall", FALL_U2)
    decide(world, today["id"])
    new_call(world, "ns-other", phone="+31592222222")  # another client
    taken = new_call(world, "ns-now")
    return {"today": today["id"], "days_ago": days_ago["id"], "long_ago": long_ago["id"], "now": taken["id"]}


def _night_visit(engine, client_id: int, organisation_id: int, completed_days_ago: float, note: str) -> None:
    done = datetime.now(UTC) - timedelta(days=completed_days_ago)
    with Session(engine) as s:
        s.add(Visit(kind="planned", client_id=client_id, organisation_id=organisation_id, state="completed",
                    window_start=done - timedelta(hours=1), window_end=done, completed_at=done, handover_note=note))
        s.commit()


def test_the_night_summary_shows_the_clients_recent_calls_and_night_notes(world: World, engine) -> None:
    calls = _calls_about_a1(world, engine)
    a1, org_a = world.clients["a1"], world.orgs["a"]
    _night_visit(engine, a1, org_a, 2, "Turned at 02:00, slept well; skin on the heel red.")
    _night_visit(engine, a1, org_a, 3, "")  # nothing written
    _night_visit(engine, a1, org_a, 45, "An old note from another month.")
    _night_visit(engine, world.clients["b1"], world.orgs["b"], 1, "Another client's note.")
    r = world.client.get(f"/api/clients/{a1}/night", params={"call_id": calls["now"]}, headers=world.h("operator"))
    assert r.status_code == 200, r.text
    summary = r.json()
    assert summary["restricted"] is False
    assert (summary["client"]["given_name"], summary["client"]["family_name"]) == ("Aaltje", "Bakker")
    assert [c["id"] for c in summary["calls_24h"]] == [calls["today"]]
    assert [c["id"] for c in summary["calls_30d"]] == [calls["today"], calls["days_ago"]]
    assert [(c["triage"]["complaint"], c["urgency"]) for c in summary["calls_30d"]] == [
        ("Fall", "U2"), ("Medication question", "U5")]
    assert [n["note"] for n in summary["night_notes"]] == ["Turned at 02:00, slept well; skin on the heel red."]
    log = world.client.get("/api/audit", params={"client_id": a1, "username": "operator", "limit": 1000},
                           headers=world.h("coordinator")).json()
    assert any(e["data"] == "client.night" and e["action"] == "read" and e["reason"] == f"call {calls['now']}"
               for e in log)


def test_without_consent_the_night_summary_shows_identity_only(world: World, engine) -> None:
    calls = _calls_about_a1(world, engine)
    _night_visit(engine, world.clients["a1"], world.orgs["a"], 2, "Turned at 02:00.")
    change(engine, Client, world.clients["a1"], consent_night_team=False)
    summary = world.client.get(f"/api/clients/{world.clients['a1']}/night", params={"call_id": calls["now"]},
                               headers=world.h("operator")).json()
    assert summary["restricted"] is True and summary["client"]["street"] == "Kerkstraat"
    assert summary["client"]["phones"] == []
    assert (summary["calls_24h"], summary["calls_30d"], summary["night_notes"]) == ([], [], [])
    log = world.client.get("/api/audit", params={"client_id": world.clients["a1"], "username": "operator"},
                           headers=world.h("coordinator")).json()
    assert [e["data"] for e in log if e["reason"] == f"call {calls['now']}" and e["action"] == "read"] == \
        ["client.identity"]


def test_the_night_summary_needs_an_identified_call_or_the_clients_own_organisation(world: World) -> None:
    unknown = new_call(world, "ns-unknown", phone=UNKNOWN_PHONE)
    url = f"/api/clients/{world.clients['a1']}/night"
    r = world.client.get(url, params={"call_id": unknown["id"]}, headers=world.h("operator"))
    assert r.status_code == 403 and r.json()["field"] == "call_id"
    assert world.client.get(url, headers=world.h("partner_b")).status_code == 404
    assert world.client.get(url, headers=world.h("partner_a")).status_code == 200
    other = new_call(world, "ns-b1", phone="+31592222222")  # identified, but as another client
    assert world.client.get(url, params={"call_id": other["id"]}, headers=world.h("operator")).status_code == 403
    log = world.client.get("/api/audit", params={"client_id": world.clients["a1"], "username": "operator"},
                           headers=world.h("coordinator")).json()
    assert [e["outcome"] for e in log if e["data"] == "client.night"] == ["denied", "denied"]

