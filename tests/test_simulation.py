"""The simulated night follows the spec's rules, for every policy; re-routing and the baseline behave."""
from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.cli import main
from dispatch.simulation.engine import simulate
from dispatch.simulation.scenario import generate
from routing.travel import geodesic_seconds

SMALL = generate(seed=7, calls=8, planned=5, nurses=2)


@pytest.mark.parametrize("policy", ["optimised", "nearest", "clairvoyant"])
def test_every_visit_reported_and_the_rules_of_the_night_hold(policy: str) -> None:
    _assert_the_rules_hold(SMALL, simulate(SMALL, policy, time_limit_s=0.05), policy)


@st.composite
def nights(draw) -> dict:
    """Small nights anywhere in the demo region: hand-overs between nurses, re-routes and bursts turn up."""
    def place() -> dict:
        return {"lat": draw(st.floats(52.90, 53.08)), "lon": draw(st.floats(6.45, 6.70))}

    skills = st.lists(st.sampled_from(["palliative", "wound"]), max_size=1)
    nurses = [{"id": f"n{k}", **place(), "skills": ["palliative", "wound"] if k == 0 else draw(skills)}
              for k in range(draw(st.integers(1, 3)))]
    planned = []
    for i in range(draw(st.integers(0, 3))):
        opens = draw(st.integers(0, 20000))
        planned.append({"id": f"p{i}", **place(), "window_s": [opens, opens + draw(st.integers(0, 7200))],
                        "service_s": draw(st.integers(0, 1800)), "skills": draw(skills)})
    calls = [{"id": f"c{i}", **place(), "at_s": draw(st.integers(0, 28799)),
              "urgency": draw(st.sampled_from(["U2", "U3"])),
              "service_s": draw(st.integers(0, 2400)), "skills": draw(skills)} for i in range(draw(st.integers(1, 6)))]
    return _night("drawn", nurses, calls, planned)


def _night(name: str, nurses: list[dict], calls: list[dict], planned: list[dict] | None = None) -> dict:
    """A scenario on the spec's defaults: the 23:00-07:00 shift, geodesic travel at 50 km/h x 1.3, U2 30 min, U3 2 h."""
    return {"name": name, "shift": {"start_s": 0, "end_s": 28800},
            "travel": {"model": "geodesic", "speed_kmh": 50, "road_factor": 1.3},
            "targets_s": {"U2": 1800, "U3": 7200}, "nurses": nurses, "planned": planned or [], "calls": calls}


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(scenario=nights(), policy=st.sampled_from(["optimised", "nearest", "clairvoyant"]))
def test_the_rules_of_the_night_hold_on_drawn_nights(scenario: dict, policy: str) -> None:
    _assert_the_rules_hold(scenario, simulate(scenario, policy, solutions=20), policy)


def _assert_the_rules_hold(scenario: dict, night: dict, policy: str) -> None:
    assert night["policy"] == policy and night["scenario"] == scenario["name"]
    ids = {v["id"] for v in night["visits"]}
    assert ids == {c["id"] for c in scenario["calls"]} | {p["id"] for p in scenario["planned"]}
    by_id = {**{c["id"]: c for c in scenario["calls"]}, **{p["id"]: p for p in scenario["planned"]}}
    skills = {n["id"]: set(n["skills"]) for n in scenario["nurses"]}
    # Every visit served, by a nurse who can do it (a served visit reported with nurse null was a bug).
    assert all(v["nurse"] is not None for v in night["visits"])
    per_nurse: dict[str, list[dict]] = {}
    for v in night["visits"]:
        source = by_id[v["id"]]
        assert set(source["skills"]) <= skills[v["nurse"]]
        opens = source["at_s"] if v["kind"] == "call" else source["window_s"][0]
        assert v["start_s"] == max(v["arrival_s"], opens)  # service never before the call or the window
        assert v["end_s"] - v["start_s"] == source["service_s"]  # finished without interruption
        assert v["depart_s"] <= v["arrival_s"]
        if v["kind"] == "call":
            assert v["depart_s"] >= (source["at_s"] if policy != "clairvoyant" else 0)
        per_nurse.setdefault(v["nurse"], []).append(v)
    for visits in per_nurse.values():
        # Visits of no length may share a moment: order them as they were driven to.
        visits.sort(key=lambda v: (v["start_s"], v["end_s"], v["depart_s"]))
        assert all(a["end_s"] <= b["depart_s"] for a, b in pairwise(visits))  # one place at a time
    legs = night["legs"]
    for nurse in {leg["nurse"] for leg in legs}:
        own = [leg for leg in legs if leg["nurse"] == nurse]
        assert all(a["arrival_s"] <= b["depart_s"] for a, b in pairwise(own))
        assert all(a["to"] == b["from"] for a, b in pairwise(own))  # legs chain, re-routes included
    kpis = night["kpis"]
    assert sum(kpis[u]["n"] for u in ("U2", "U3") if u in kpis) == len(scenario["calls"])
    assert kpis.get("planned", {"n": 0})["n"] == len(scenario["planned"])


def _rerouting_night() -> dict:
    """One nurse; a U3 call far away, then a U2 call right where she is driving past."""
    return _night("reroute", [{"id": "n1", "lat": 52.99, "lon": 6.56, "skills": []}],
                  [{"id": "far", "at_s": 0, "lat": 52.80, "lon": 6.56, "urgency": "U3", "service_s": 1200},
                   {"id": "near", "at_s": 300, "lat": 52.97, "lon": 6.56, "urgency": "U2", "service_s": 600}])


def test_optimised_reroutes_a_travelling_nurse_and_nearest_does_not() -> None:
    optimised = simulate(_rerouting_night(), "optimised", time_limit_s=0.05)
    abandoned = [leg for leg in optimised["legs"] if not leg["completed"]]
    assert len(abandoned) == 1 and abandoned[0]["arrival_s"] == 300
    # Where she was when she turned: on the straight line, at the share of the drive done by then.
    full = geodesic_seconds((52.99, 6.56), (52.80, 6.56), speed_kmh=50, road_factor=1.3)
    assert abandoned[0]["to"]["lat"] == pytest.approx(52.99 + 300 / full * (52.80 - 52.99))
    visits = {v["id"]: v for v in optimised["visits"]}
    assert visits["near"]["arrival_s"] < visits["far"]["arrival_s"]
    assert optimised["kpis"]["U2"]["within_target"] == 1.0

    nearest = simulate(_rerouting_night(), "nearest")
    assert all(leg["completed"] for leg in nearest["legs"])
    near = {v["id"]: v for v in nearest["visits"]}["near"]
    assert near["arrival_s"] - 300 > optimised["kpis"]["U2"]["p90_response_s"]


def test_clairvoyant_knows_the_night_in_advance() -> None:
    night = simulate(_rerouting_night(), "clairvoyant", time_limit_s=0.05)
    visits = {v["id"]: v for v in night["visits"]}
    assert visits["near"]["arrival_s"] <= visits["far"]["arrival_s"]
    assert all(leg["completed"] for leg in night["legs"])  # planned once, never re-routed


def test_scenarios_are_deterministic_and_plausible() -> None:
    a, b = generate(seed=3, calls=25, planned=10, nurses=3), generate(seed=3, calls=25, planned=10, nurses=3)
    assert a == b and a != generate(seed=4, calls=25, planned=10, nurses=3)
    assert [c["at_s"] for c in a["calls"]] == sorted(c["at_s"] for c in a["calls"])
    assert all(0 <= c["at_s"] < a["shift"]["end_s"] for c in a["calls"])
    assert all(52.7 < c["lat"] < 53.1 for c in a["calls"])
    have = set().union(*(n["skills"] for n in a["nurses"]))
    assert all(set(c["skills"]) <= have for c in a["calls"] + a["planned"])


def test_simulate_and_scenario_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["scenario", "--seed", "5", "--calls", "4", "--planned", "2", "--nurses", "2"])
    path = tmp_path / "night.json"
    path.write_text(capsys.readouterr().out)
    main(["simulate", str(path), "--policy", "nearest", "--json"])
    night = json.loads(capsys.readouterr().out)
    assert night["policy"] == "nearest" and len(night["visits"]) == 6


def test_an_urgent_call_is_reached_first_even_when_a_routine_one_lies_on_the_way() -> None:
    # Both orders keep both targets; driving past the U3 visit first is shorter. "As soon as possible" wins:
    # the nurse goes to the U2 client first and comes back for the U3 one.
    scenario = _one_nurse_night([
        {"id": "routine", "at_s": 60, "lat": 53.0109, "lon": 6.5642, "urgency": "U3", "service_s": 600},
        {"id": "urgent", "at_s": 60, "lat": 53.0469, "lon": 6.5642, "urgency": "U2", "service_s": 600}], "on-the-way")
    visits = {v["id"]: v for v in simulate(scenario, "optimised")["visits"]}
    assert visits["urgent"]["arrival_s"] < visits["routine"]["arrival_s"]
    assert visits["urgent"]["arrival_s"] - 60 == geodesic_seconds((52.9929, 6.5642), (53.0469, 6.5642),
                                                                   speed_kmh=50, road_factor=1.3)


def _one_nurse_night(calls: list[dict], name: str = "misses") -> dict:
    return _night(name, [{"id": "n1", "lat": 52.9929, "lon": 6.5642, "skills": []}],
                  [{"skills": [], **c} for c in calls])


def test_a_late_call_is_explained_out_of_reach_when_every_nurse_was_mid_visit() -> None:
    from dispatch.simulation.misses import late_calls

    scenario = _one_nurse_night([
        {"id": "long", "at_s": 0, "lat": 52.9929, "lon": 6.5642, "urgency": "U3", "service_s": 3000},
        {"id": "urgent", "at_s": 600, "lat": 53.0109, "lon": 6.5642, "urgency": "U2", "service_s": 600}])
    night = simulate(scenario, "optimised", time_limit_s=0.05)
    [late] = late_calls(scenario, night)
    drive = geodesic_seconds((52.9929, 6.5642), (53.0109, 6.5642), speed_kmh=50, road_factor=1.3)
    assert late["call"] == "urgent" and late["kind"] == "out of reach"
    assert late["best_s"] == late["response_s"] == 3000 - 600 + drive


def test_a_late_call_is_explained_traded_when_reaching_it_would_have_made_another_urgent_call_late() -> None:
    from dispatch.simulation.misses import late_calls

    scenario = _one_nurse_night([
        {"id": "north", "at_s": 0, "lat": 53.0829, "lon": 6.5642, "urgency": "U2", "service_s": 1800},
        {"id": "south", "at_s": 60, "lat": 52.9659, "lon": 6.5642, "urgency": "U2", "service_s": 1800}])
    night = simulate(scenario, "optimised", time_limit_s=0.05)
    [late] = late_calls(scenario, night)  # one nurse, two U2 calls 13 km apart: one of them is late
    assert late["kind"] == "traded" and late["best_s"] <= 1800 < late["response_s"]


def test_a_late_call_is_explained_avoidable_when_a_nurse_could_have_turned_for_it() -> None:
    """`nearest` queues the U2 call behind the far U3 visit its nurse is driving to; she could have turned."""
    from dispatch.simulation.misses import late_calls

    scenario = _rerouting_night()
    [late] = late_calls(scenario, simulate(scenario, "nearest"))
    assert late["call"] == "near" and late["kind"] == "avoidable" and late["best_s"] <= 1800 < late["response_s"]
    assert late_calls(scenario, simulate(scenario, "optimised", time_limit_s=0.05)) == []


def test_foresight_lets_an_online_policy_meet_a_call_it_would_otherwise_miss() -> None:
    """Measuring the value of earlier information: told 10 minutes ahead, the nurse keeps herself free for the
    urgent call instead of starting a long visit; the visit still starts only when the call comes."""
    scenario = _one_nurse_night([
        {"id": "long", "at_s": 0, "lat": 52.9929, "lon": 6.5642, "urgency": "U3", "service_s": 3000},
        {"id": "urgent", "at_s": 600, "lat": 53.0109, "lon": 6.5642, "urgency": "U2", "service_s": 600}])
    blind = {v["id"]: v for v in simulate(scenario, "optimised", time_limit_s=0.05)["visits"]}
    told = {v["id"]: v for v in simulate(scenario, "optimised", time_limit_s=0.05, foresight_s=600)["visits"]}
    assert blind["urgent"]["arrival_s"] - 600 > 1800  # without foresight she is mid-visit: late
    assert told["urgent"]["arrival_s"] - 600 <= 1800
    assert told["urgent"]["start_s"] == 600 and told["urgent"]["depart_s"] < 600
    assert told["long"]["start_s"] >= told["urgent"]["end_s"]


@pytest.mark.parametrize(("args", "message"), [
    (["bench", "nights", "--foresight", "-5"], "argument --foresight: must be at least 0"),
    (["bench", "nights", "--foresight", "1.5"], "argument --foresight: '1.5' is not a whole number of seconds"),
    (["bench", "nights", "--nights", "0"], "argument --nights: must be at least 1"),
    (["scenario", "--seed", "1", "--calls", "-1"], "argument --calls: must be at least 0"),
    (["scenario", "--seed", "1", "--calls", "2", "--nurses", "0"], "argument --nurses: must be at least 1"),
    (["simulate", "night.json", "--time-limit", "nan"], "argument --time-limit: must be at least 0"),
    (["solve", "problem.json", "--time-limit", "inf"], "argument --time-limit: must be at most 3600"),
])
def test_commands_refuse_counts_and_times_that_make_no_sense(capsys: pytest.CaptureFixture[str], args: list[str],
                                                             message: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_bench_nights_summarises_a_night_without_u3_calls(capsys: pytest.CaptureFixture[str]) -> None:
    """A tiny night (one U2 call, no U3) used to end the benchmark in a traceback over an empty median."""
    main(["bench", "nights", "--nights", "1", "--calls", "1", "--planned", "1", "--time-limit", "0.02", "--misses"])
    out = capsys.readouterr().out
    assert "late U2 calls (optimised): 0, of which 0 out of reach" in out
    assert "U3 p90 response, median over nights (min): nearest -, optimised -, clairvoyant -" in out
    assert "U2 within target, mean over 1 nights with U2 calls: nearest 1.000, optimised 1.000" in out
    assert "nights below 0.95: 0/1" in out
    assert "U2 calls within target, all nights pooled: nearest 1/1, optimised 1/1, clairvoyant 1/1" in out


def test_the_pooled_u2_share_counts_every_call_once() -> None:
    """One call on time on a quiet night and 5 of 10 on a busy one: 6 of 11 calls, not the nights' mean (0.75)."""
    from dispatch.bench.nights import _pooled, _ratio
    def night(n: int, optimised: float, clairvoyant: float) -> dict:
        return {"optimised": {"U2": {"n": n, "within_target": optimised}},
                "clairvoyant": {"U2": {"n": n, "within_target": clairvoyant}}}

    rows = [night(1, 1.0, 1.0), night(10, 0.5, 0.8)]
    assert _pooled(rows, "optimised") == (6, 11)
    assert _pooled(rows, "clairvoyant") == (9, 11)
    assert _ratio((6, 11), (9, 11)) == "0.667"
    assert _ratio((0, 3), (0, 3)) == "-"


def _spec_example() -> dict:
    """The scenario of docs/night-scenario.md."""
    return {"name": "assen-weekday-01", "shift": {"start_s": 0, "end_s": 28800},
            "travel": {"model": "geodesic", "speed_kmh": 50, "road_factor": 1.3},
            "targets_s": {"U2": 1800, "U3": 7200},
            "nurses": [{"id": "n1", "lat": 52.99, "lon": 6.56, "skills": ["palliative"]}],
            "planned": [{"id": "p1", "lat": 52.98, "lon": 6.55, "window_s": [7200, 10800], "service_s": 900,
                         "skills": []}],
            "calls": [{"id": "c1", "at_s": 1234, "lat": 53.01, "lon": 6.60, "urgency": "U2", "service_s": 1500,
                       "skills": []}]}


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s.pop("shift"), "shift: must be an object"),
    (lambda s: s["shift"].update(end_s=0), "shift.end_s: must be after shift.start_s"),
    (lambda s: s["travel"].update(model="matrix"), "travel.model: must be 'geodesic'"),
    (lambda s: s.update(nurses=[]), "nurses: must be a non-empty list"),
    (lambda s: s["nurses"][0].update(lat="north"), "nurses[0].lat: must be a latitude in degrees"),
    (lambda s: s["nurses"].append(dict(s["nurses"][0])), "nurses: ids must be distinct ('n1' is used twice)"),
    (lambda s: s["planned"][0].update(window_s=[10800, 7200]), "planned[0].window_s: closes before it opens"),
    (lambda s: s["planned"][0].update(service_s=-1), "planned[0].service_s: must be at least 0"),
    (lambda s: s["calls"][0].pop("at_s"), "calls[0].at_s: must be a whole number of seconds"),
    (lambda s: s["calls"][0].update(at_s=30000), "calls[0].at_s: must be within the shift (0-28800)"),
    (lambda s: s["calls"][0].update(urgency="U1"), "calls[0].urgency: must be one with a target in targets_s (U2, U3)"),
    (lambda s: s["calls"][0].update(id="p1"), "planned and calls: ids must be distinct ('p1' is used twice)"),
    (lambda s: s["calls"][0].update(skills="palliative"), "calls[0].skills: must be a list of skill names"),
])
def test_simulate_names_the_field_of_a_malformed_scenario(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          change, message: str) -> None:
    scenario = _spec_example()
    change(scenario)
    path = tmp_path / "night.json"
    path.write_text(json.dumps(scenario))
    with pytest.raises(SystemExit) as exit_:
        main(["simulate", str(path)])
    assert exit_.value.code == f"nightcare simulate: {path}: {message}"


def test_the_spec_example_and_generated_nights_pass_the_check_unchanged() -> None:
    from dispatch.simulation.scenario import check

    example = _spec_example()
    assert check(example) == example
    assert check(SMALL) == SMALL
    bare = {k: v for k, v in example.items() if k not in ("travel", "targets_s", "planned")}
    filled = check(bare)  # the defaults the spec gives
    assert filled["travel"] == {"model": "geodesic", "speed_kmh": 50.0, "road_factor": 1.3}
    assert filled["targets_s"] == {"U2": 1800, "U3": 7200} and filled["planned"] == []
    night = simulate(bare, "optimised", time_limit_s=0.05)
    assert night["kpis"]["U2"]["n"] == 1 and night["visits"][0]["nurse"] == "n1"


def test_a_work_budget_makes_a_night_reproducible() -> None:
    """With `solutions` each search stops after that many improving solutions, not at a time limit that the
    machine's load moves: the same night twice is the same night, visit for visit. (Cut at 3 ms instead, two
    runs of this night differ.)"""
    busy = generate(seed=3, calls=20, planned=10, nurses=3)
    first, second = (simulate(busy, "optimised", time_limit_s=0.003, solutions=20) for _ in range(2))
    assert first["visits"] == second["visits"] and first["legs"] == second["legs"]
    clairvoyant = [simulate(busy, "clairvoyant", time_limit_s=0.003, solutions=20)["visits"] for _ in range(2)]
    assert clairvoyant[0] == clairvoyant[1]


def test_a_call_handed_from_one_travelling_nurse_to_another_is_reported_with_the_nurse_who_went() -> None:
    """n2 sets off to the first call; a second comes up where she is, so the re-plan gives her that one and
    the first to n1. Whoever is re-routed second must not wipe n1 off the call she is now driving to."""
    night = _night("handover", [{"id": "n1", "lat": 52.90, "lon": 6.56, "skills": []},
                                {"id": "n2", "lat": 52.99, "lon": 6.56, "skills": []}],
                   [{"id": "first", "at_s": 0, "lat": 52.955, "lon": 6.56, "urgency": "U2", "service_s": 1500},
                    {"id": "second", "at_s": 120, "lat": 52.979, "lon": 6.56, "urgency": "U2", "service_s": 1500}])
    result = simulate(night, "optimised", solutions=50)
    visits = {v["id"]: v for v in result["visits"]}
    turned = [leg for leg in result["legs"] if not leg["completed"]]
    assert [leg["nurse"] for leg in turned] == ["n2"] and turned[0]["arrival_s"] == 120
    assert visits["second"]["nurse"] == "n2"
    assert visits["first"]["nurse"] == "n1" and visits["first"]["depart_s"] == 120
    assert visits["first"]["arrival_s"] is not None
    assert result["kpis"]["U2"]["unserved"] == 0
