"""Triage compliance per operator and ISO week (region time), from triages made through the API on a set clock."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch.timeutil import Clock, use_clock
from protocols.model import DISPOSITIONS_FOR, URGENCIES
from tests.world import World

REGION = ZoneInfo("Europe/Amsterdam")
URL = "/api/reports/triage-compliance"


@pytest.fixture
def clock() -> Iterator[Callable[[str], None]]:
    """Set the service's clock to a region time (in the past: the world's logins stay valid); put it back after."""
    previous = use_clock(Clock())

    def at(local: str) -> None:
        use_clock(Clock(datetime.fromisoformat(local).replace(tzinfo=REGION)))

    yield at
    use_clock(previous)


def _call(world: World, ref: str, phone: str) -> int:
    r = world.post_call(source_ref=ref, caller_phone=phone, text="called at night")
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _triage(world: World, ref: str, phone: str, who: str, *, questions: int | None = None,
            prefer_dont_know: bool = False) -> tuple[dict, int, int]:
    """Start a triage of the first complaint and answer (the first answer, or "don't know" where offered) until the
    outcome, or `questions` questions. Returns the state, the answers given and the "don't know"s among them."""
    call = _call(world, ref, phone)
    complaints = world.client.get("/api/protocols/current", headers=world.h(who)).json()["complaints"]
    r = world.client.post(f"/api/calls/{call}/triage", json={"complaint": complaints[0]["id"]}, headers=world.h(who))
    assert r.status_code == 201, r.text
    state, given, dont_know = r.json(), 0, 0
    while state["step"]["type"] == "question" and (questions is None or given < questions):
        ids = [a["id"] for a in state["step"]["answers"]]
        answer = "dont_know" if prefer_dont_know and "dont_know" in ids else ids[0]
        r = world.client.post(f"/api/calls/{call}/triage/answers", json={"node": state["step"]["node"],
                                                                           "answer": answer}, headers=world.h(who))
        assert r.status_code == 200, r.text
        state, given, dont_know = r.json(), given + 1, dont_know + (answer == "dont_know")
    return state, given, dont_know


def _decide(world: World, state: dict, who: str, **body: object) -> dict:
    r = world.client.post(f"/api/calls/{state['call_id']}/triage/decision", json=body, headers=world.h(who))
    assert r.status_code == 200, r.text
    return r.json()["decision"]


def test_compliance_per_operator_and_week(world: World, clock) -> None:
    # Sunday night, week 45: the operator follows the protocol to its outcome, then decides one call early.
    clock("2026-11-08T23:30:00")
    full, asked, dont_know = _triage(world, "rc-1", "+31592111111", "operator", prefer_dont_know=True)
    assert full["step"]["type"] == "outcome"
    d1 = _decide(world, full, "operator")
    assert (d1["questions_asked"], d1["questions_skipped"], d1["dont_know"]) == (asked, 0, dont_know)
    early, _, _ = _triage(world, "rc-2", "+31592222222", "operator", questions=1)
    assert early["step"]["type"] == "question"
    d2 = _decide(world, early, "operator", urgency="U3", reason="daughter says she is as usual, checking tonight")
    assert d2["questions_asked"] == 1 and d2["questions_skipped"] >= 1
    # Monday 00:30 region time is still Sunday in UTC: it belongs to week 46. The coordinator overrides the outcome.
    clock("2026-11-09T00:30:00")
    third, _, _ = _triage(world, "rc-3", "+31592111112", "coordinator")
    protocol_urgency = third["step"]["urgency"]
    lowering = protocol_urgency != "U5"
    urgency = URGENCIES[URGENCIES.index(protocol_urgency) + 1] if lowering else "U3"
    d3 = _decide(world, third, "coordinator", urgency=urgency, disposition=DISPOSITIONS_FOR[urgency][0],
                 reason="known to the team, her own plan covers this")
    # Outside the period asked for.
    clock("2026-11-16T01:00:00")
    _decide(world, _triage(world, "rc-4", "+31592222222", "operator")[0], "operator")

    r = world.client.get(URL, params={"from": "2026-11-02", "to": "2026-11-15"}, headers=world.h("coordinator"))
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["from"], report["to"], report["time_zone"]) == ("2026-11-02", "2026-11-15", "Europe/Amsterdam")
    rows = {(row["operator"], row["week"]): row for row in report["rows"]}
    assert set(rows) == {("operator", "2026-W45"), ("coordinator", "2026-W46")}
    op = rows[("operator", "2026-W45")]
    asked_total, skipped_total = d1["questions_asked"] + 1, d2["questions_skipped"]
    assert (op["triages"], op["questions_asked"], op["questions_skipped"]) == (2, asked_total, skipped_total)
    assert op["compliance"] == round(asked_total / (asked_total + skipped_total), 4)
    assert op["nothing_skipped_share"] == 0.5 and op["dont_know"] == dont_know
    assert op["overrides"] == 0  # deciding early is a skip, not an override of an outcome
    co = rows[("coordinator", "2026-W46")]
    assert (co["triages"], co["questions_skipped"], co["compliance"], co["nothing_skipped_share"]) == (1, 0, 1.0, 1.0)
    assert (co["overrides"], co["overrides_lowering"], co["overrides_raising"]) == (1, int(lowering), int(not lowering))
    assert d3["override_reason"]
    total = report["total"]
    assert (total["triages"], total["overrides"]) == (3, 1)
    assert total["questions_asked"] == asked_total + d3["questions_asked"]
    assert [w["week"] for w in report["weeks"]] == ["2026-W45", "2026-W46"]
    one_day = world.client.get(URL, params={"from": "2026-11-16", "to": "2026-11-16"}, headers=world.h("coordinator"))
    assert one_day.json()["total"]["triages"] == 1


def test_compliance_is_for_coordinators_and_dates_are_checked(world: World) -> None:
    assert world.client.get(URL, params={"from": "2026-11-01", "to": "2026-11-07"},
                            headers=world.h("operator")).status_code == 403
    for params, field in (({"from": "2026-13-01", "to": "2026-11-07"}, "from"),
                          ({"from": "2026-11-01", "to": "yesterday"}, "to"),
                          ({"to": "2026-11-07"}, "from"),
                          ({"from": "2026-11-08", "to": "2026-11-07"}, "from"),
                          ({"from": "2020-01-01", "to": "2026-11-07"}, "to")):
        r = world.client.get(URL, params=params, headers=world.h("coordinator"))
        assert r.status_code == 422 and r.json()["field"] == field, (params, r.json())
    empty = world.client.get(URL, params={"from": "2026-11-01", "to": "2026-11-07"}, headers=world.h("coordinator"))
    assert empty.json()["rows"] == [] and empty.json()["total"]["compliance"] is None
