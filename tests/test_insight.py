"""The coordinator's figures: the pure counting on hand-computed facts, and the API on a night written into the
database (SQLite and PostgreSQL) with known times, read on a set clock; partners see their own organisation's."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dispatch.insight import kpis
from dispatch.timeutil import Clock, use_clock
from tests.insight_night import record_night
from tests.world import World

REGION = ZoneInfo("Europe/Amsterdam")
URL = "/api/insight/kpis"
TARGETS = {"U0": 30, "U1": 30, "U2": 30, "U3": 120}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=REGION)


# --- the pure core ----------------------------------------------------------------------------------------------

def fact(i: int, at: str, urgency: str | None, disposition: str | None, arrive_min: float | None = None, *,
         org: str | None = "a", sent: bool | None = None) -> kpis.CallFact:
    received = local(at).astimezone(UTC)
    return kpis.CallFact(id=i, organisation=org, received_at=received, urgency=urgency, disposition=disposition,
                         nurse_sent=(arrive_min is not None) if sent is None else sent,
                         arrived_at=None if arrive_min is None else received + timedelta(minutes=arrive_min))


def test_percentile_is_nearest_rank() -> None:
    assert kpis.percentile([], 0.9) is None
    assert kpis.percentile([7.0], 0.5) == 7.0
    ordered = [float(v) for v in range(1, 11)]  # 1..10
    assert kpis.percentile(ordered, 0.5) == 5.0  # 5 of 10 at or below 5
    assert kpis.percentile(ordered, 0.9) == 9.0
    assert kpis.percentile([20.0, 25.0, 45.0], 0.5) == 25.0
    assert kpis.percentile([20.0, 25.0, 45.0], 0.9) == 45.0


def test_night_and_hours_follow_the_handover_hour() -> None:
    seven = time(7, 0)
    assert kpis.night_day(local("2026-11-10T06:59:00"), REGION, seven).isoformat() == "2026-11-09"
    assert kpis.night_day(local("2026-11-10T07:00:00"), REGION, seven).isoformat() == "2026-11-10"
    assert kpis.hour_order(seven)[:3] == [7, 8, 9] and kpis.hour_order(seven)[-1] == 6


def test_figures_on_hand_computed_facts() -> None:
    facts = [
        fact(1, "2026-11-09T23:10", "U2", "nurse_visit", 25),
        fact(2, "2026-11-10T00:20", "U2", "nurse_visit", 45),
        fact(3, "2026-11-10T00:40", "U2", "gp_post", 20, org="b"),  # a nurse went although the GP post was told
        fact(4, "2026-11-10T02:15", "U3", "nurse_visit", 90, org="b"),
        fact(5, "2026-11-10T02:30", "U1", "call_112", 20),
        fact(6, "2026-11-10T03:00", "U5", "advice"),
        fact(7, "2026-11-10T04:10", "U4", "defer_to_day", org="b"),
        fact(8, "2026-11-10T05:00", None, None, org=None),
        fact(9, "2026-11-09T23:50", "U3", "nurse_visit", None, sent=True),  # sent, never arrived
    ]
    out = kpis.compute(facts, tz=REGION, handover_at=time(7, 0), targets_min=TARGETS,
                       organisations={"a": "Org A", "b": "Org B", "c": "Org C"}, now=local("2026-11-10T09:00"))
    assert out["calls"] == 9
    assert out["by_urgency"] == {"U0": 0, "U1": 1, "U2": 3, "U3": 2, "U4": 1, "U5": 1, "untriaged": 1}
    assert out["by_outcome"] == {"visit": 4, "escalated": 2, "deferred": 1, "advice": 1, "untriaged": 1}
    u2, u3, u1, u0 = (out["responses"][u] for u in ("U2", "U3", "U1", "U0"))
    # U2: 20, 25, 45 minutes; p50 25 min, p90 45 min; 2 of 3 within 30 minutes.
    assert (u2["responses"], u2["p50_s"], u2["p90_s"], u2["within_target"]) == (3, 1500, 2700, 2)
    assert u2["within_target_share"] == 0.6667 and u2["target_min"] == 30
    # U3: one response of 90 minutes (within 2 h) and one call a nurse never reached: not a response.
    assert (u3["calls"], u3["nurse_sent"], u3["responses"], u3["no_arrival"], u3["under_way"]) == (2, 2, 1, 1, 0)
    assert (u3["p90_s"], u3["within_target_share"]) == (5400, 1.0)
    assert (u1["p50_s"], u1["within_target_share"]) == (1200, 1.0)
    assert (u0["calls"], u0["p90_s"], u0["within_target_share"]) == (0, None, None)
    hours = {h["label"]: h for h in out["hours"]}
    assert [h["label"] for h in out["hours"]][:2] == ["07:00", "08:00"] and len(out["hours"]) == 24
    assert {label: h["calls"] for label, h in hours.items() if h["calls"]} == {
        "23:00": 2, "00:00": 2, "02:00": 2, "03:00": 1, "04:00": 1, "05:00": 1}
    assert hours["00:00"]["p50_s"] == 1200 and hours["00:00"]["by_urgency"]["U2"] == 2  # 20 and 45 min: nearest rank
    orgs = {o["organisation"]: o for o in out["organisations"]}
    assert list(orgs) == ["a", "b", "c", kpis.UNIDENTIFIED]
    assert (orgs["a"]["calls"], orgs["b"]["calls"], orgs["c"]["calls"],
            orgs[kpis.UNIDENTIFIED]["calls"]) == (5, 3, 0, 1)
    assert orgs["a"]["responses"]["U2"]["p90_s"] == 2700 and orgs["b"]["responses"]["U2"]["p90_s"] == 1200


def test_a_night_going_on_counts_up_to_now() -> None:
    """At 23:37: a U2 call of 23:34 whose nurse is on her way is under way (its 30 min have not passed), one of
    23:00 not reached yet is not reached; a U3 call of 22:00 (2 h) is still under way. Shifts count up to 23:37."""
    now = local("2026-11-09T23:37")
    facts = [fact(1, "2026-11-09T23:34", "U2", "nurse_visit", None, sent=True),
             fact(2, "2026-11-09T23:00", "U2", "nurse_visit", None, sent=True),
             fact(3, "2026-11-09T22:00", "U3", "nurse_visit", None, sent=True),
             fact(4, "2026-11-09T22:30", "U2", "nurse_visit", 20)]
    out = kpis.responses(facts, TARGETS, now)
    assert (out["U2"]["under_way"], out["U2"]["no_arrival"], out["U2"]["responses"]) == (1, 1, 1)
    assert (out["U3"]["under_way"], out["U3"]["no_arrival"]) == (1, 0)
    # The same calls the morning after: every target has passed, so none is under way any more.
    later = kpis.responses(facts, TARGETS, local("2026-11-10T09:00"))
    assert (later["U2"]["under_way"], later["U2"]["no_arrival"], later["U3"]["no_arrival"]) == (0, 2, 1)
    # Night of the 9th (07:00–07:00): a shift 22:00–07:00 has run 1 h 37 min at 23:37, one 23:00–07:00 37 min,
    # one from 00:00 not at all; the night over, the first is 9 h.
    since, until = local("2026-11-09T07:00").astimezone(UTC), local("2026-11-10T07:00").astimezone(UTC)
    shift = (local("2026-11-09T22:00").astimezone(UTC), local("2026-11-10T07:00").astimezone(UTC))
    late = (local("2026-11-09T23:00").astimezone(UTC), local("2026-11-10T07:00").astimezone(UTC))
    later_shift = (local("2026-11-10T00:00").astimezone(UTC), local("2026-11-10T07:00").astimezone(UTC))
    assert kpis.shift_minutes([shift], since=since, until=until, now=now) == 97
    assert kpis.shift_minutes([late, later_shift], since=since, until=until, now=now) == 37
    assert kpis.shift_minutes([shift], since=since, until=until, now=local("2026-11-10T09:00")) == 540
    use = kpis.utilisation({"Anouk": kpis.NurseTime(97, 15, 30)})
    assert use["nurses"][0]["shift_minutes"] == 97 and use["nurses"][0]["busy_share"] == round(45 / 97, 4)


def test_utilisation() -> None:
    out = kpis.utilisation({"Anouk": kpis.NurseTime(540, 15, 30), "Sanne": kpis.NurseTime(540, 30, 60),
                            "Off": kpis.NurseTime(0, 0, 0)})
    assert out["team"] == {"shift_minutes": 1080, "travel_minutes": 45, "care_minutes": 90, "busy_share": 0.125}
    assert [(n["nurse"], n["busy_share"]) for n in out["nurses"]] == [("Anouk", 0.0833), ("Off", None),
                                                                     ("Sanne", 0.1667)]


# --- the API on a recorded night --------------------------------------------------------------------------------

@pytest.fixture
def clock() -> Iterator[None]:
    """The morning after the night (the world's logins, made in real time, stay valid)."""
    previous = use_clock(Clock(local("2026-11-10T09:00:00")))
    yield
    use_clock(previous)


@pytest.fixture
def night(world: World, engine: Engine, clock: None) -> None:
    with Session(engine) as session:
        record_night(session, day=date(2026, 11, 9), zone=REGION, orgs=(world.orgs["a"], world.orgs["b"]),
                     clients=world.clients, nurses=(world.nurses["n1"], world.nurses["n2"]))
        session.commit()


def test_coordinator_reads_the_night(world: World, night: None) -> None:
    r = world.client.get(URL, headers=world.h("coordinator"))  # default: the last finished night
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["from"], out["to"], out["nights"], out["complete"], out["scope"]) == (
        "2026-11-09", "2026-11-09", 1, True, "region")
    assert out["period_start"] == "2026-11-09T06:00:00+00:00" and out["current_night"] == "2026-11-10"
    assert out["calls"] == 9
    assert out["by_outcome"] == {"visit": 5, "escalated": 1, "deferred": 1, "advice": 1, "untriaged": 1}
    u2, u3, u1 = out["responses"]["U2"], out["responses"]["U3"], out["responses"]["U1"]
    assert (u2["responses"], u2["p50_s"], u2["p90_s"], u2["within_target_share"]) == (3, 1500, 2700, 0.6667)
    assert (u3["calls"], u3["responses"], u3["no_arrival"], u3["under_way"], u3["p90_s"]) == (2, 1, 1, 0, 5400)
    assert (u1["p90_s"], u1["within_target_share"], u1["target_min"]) == (1200, 1.0, 30)
    hours = {h["label"]: h["calls"] for h in out["hours"] if h["calls"]}
    assert hours == {"23:00": 2, "00:00": 2, "02:00": 2, "03:00": 1, "04:00": 1, "05:00": 1}
    orgs = {o["organisation"]: o["calls"] for o in out["organisations"]}
    assert orgs == {"org-a": 5, "org-b": 3, kpis.UNIDENTIFIED: 1}
    use = {n["nurse"]: n for n in out["utilisation"]["nurses"]}
    # Anouk: 15 min driving, 30 on scene, in a shift of 9 h; Sanne: 15 and 30 as well.
    anouk = use["Anouk"]
    assert (anouk["shift_minutes"], anouk["travel_minutes"], anouk["care_minutes"]) == (540, 15, 30)
    assert out["utilisation"]["team"]["busy_share"] == round(90 / 1080, 4)
    # Three nights ending with it: the night after (07:30 on the 10th) is in them, the one before is not.
    r = world.client.get(URL, params={"from": "2026-11-08", "to": "2026-11-10"}, headers=world.h("coordinator"))
    assert r.status_code == 200 and r.json()["calls"] == 11 and r.json()["complete"] is False


def test_partners_see_their_own_organisation_only(world: World, night: None) -> None:
    out = world.client.get(URL, params={"to": "2026-11-09"}, headers=world.h("partner_a")).json()
    assert out["scope"] == "organisation" and out["calls"] == 5
    assert [o["organisation"] for o in out["organisations"]] == ["org-a"]
    assert (out["responses"]["U2"]["p50_s"], out["responses"]["U2"]["p90_s"]) == (1500, 2700)
    assert out["utilisation"] is None
    for who in ("operator", "nurse1"):
        r = world.client.get(URL, headers=world.h(who))
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
    assert world.client.get(URL).status_code == 401


@pytest.mark.parametrize("backend", ["sqlite"])
def test_bad_periods_name_the_field(world: World, clock: None) -> None:
    cases = [({"from": "2026-11-10", "to": "2026-11-09"}, "from"), ({"from": "2026-01-01", "to": "2026-11-09"}, "to"),
             ({"from": "last night"}, "from"), ({"to": "9999-12-31"}, "to"), ({"from": "0001-01-01"}, "from")]
    for params, field in cases:
        r = world.client.get(URL, params=params, headers=world.h("coordinator"))
        assert r.status_code == 422, r.text
        assert r.json()["field"] == field, r.json()
