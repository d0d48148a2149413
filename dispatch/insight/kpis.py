"""The coordinator's figures, computed from plain facts: no database, no clock (dispatch/insight/service.py reads
the facts; this module only counts).

A call's urgency and outcome are those of its current triage run (the last one decided). Its response time runs
from the call's receipt to the first time a nurse was on scene for it. Percentiles are nearest-rank over the
measured responses (the value below which at least that share of them lies, as the night simulation reports
them); the share within target is measured responses within the urgency's target over all measured responses.
A call to which a nurse was sent but never arrived (cancelled, taken over by 112, still on its way) is counted
apart, never as a response: as `under_way` while its target has not passed yet (at `now`: the nurse may still get
there in time), as `no_arrival` (not reached) once it has. For a night still going on, a nurse's time on shift
counts up to `now`, not to the end of her planned shift.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

RESPONSE_URGENCIES = ("U0", "U1", "U2", "U3")  # the urgencies a nurse may be sent to
URGENCY_KEYS = ("U0", "U1", "U2", "U3", "U4", "U5", "untriaged")
OUTCOMES = ("visit", "escalated", "deferred", "advice", "untriaged")
# The protocol's dispositions as the coordinator counts them: 112 and the GP post are escalations.
OUTCOME_OF = {"nurse_visit": "visit", "call_112": "escalated", "gp_post": "escalated", "defer_to_day": "deferred",
              "advice": "advice"}
UNIDENTIFIED = "(unidentified)"  # calls whose client (and so organisation) was never identified


@dataclass(frozen=True)
class CallFact:
    id: int
    organisation: str | None  # the organisation's code; None: client not identified
    received_at: datetime  # aware, UTC
    urgency: str | None  # current triage's final urgency; None: not triaged
    disposition: str | None
    nurse_sent: bool  # an acute visit was made for the call
    arrived_at: datetime | None  # first on-scene of a nurse for the call


@dataclass(frozen=True)
class NurseTime:
    """Minutes of one nurse in the period: on shift, driving (en route → on scene), caring (on scene → done)."""

    shift_minutes: float
    travel_minutes: float
    care_minutes: float


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of sorted values: the smallest value with at least q of them at or below it."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def night_day(moment: datetime, tz: ZoneInfo, handover_at: time) -> date:
    """The night a moment belongs to: the night of D runs from D at `handover_at` to D+1 at it (local)."""
    local = moment.astimezone(tz)
    return (local - timedelta(hours=handover_at.hour, minutes=handover_at.minute)).date()


def hour_order(handover_at: time) -> list[int]:
    """The local hours of a night in the order they come: from the handover hour round the clock."""
    return [(handover_at.hour + k) % 24 for k in range(24)]


def outcome(fact: CallFact) -> str:
    return OUTCOME_OF.get(fact.disposition or "", "untriaged")


def response_seconds(fact: CallFact) -> float | None:
    if fact.arrived_at is None:
        return None
    return max(0.0, (fact.arrived_at - fact.received_at).total_seconds())


def under_way(fact: CallFact, target_min: int, now: datetime) -> bool:
    """A nurse was sent, has not arrived and the call's target has not passed yet at `now`."""
    return fact.nurse_sent and fact.arrived_at is None and now < fact.received_at + timedelta(minutes=target_min)


def responses(facts: Iterable[CallFact], targets_min: dict[str, int], now: datetime) -> dict[str, dict[str, Any]]:
    """Per urgency U0–U3: calls, nurses sent, measured responses, p50 and p90 (seconds), share within target, and
    the calls a nurse has not reached: still under way (target not passed at `now`) or not reached."""
    out: dict[str, dict[str, Any]] = {}
    by_urgency: dict[str, list[CallFact]] = {u: [] for u in RESPONSE_URGENCIES}
    for f in facts:
        if f.urgency in by_urgency:
            by_urgency[f.urgency].append(f)
    for urgency, group in by_urgency.items():
        measured = sorted(s for s in (response_seconds(f) for f in group) if s is not None)
        target_s = targets_min[urgency] * 60
        p50, p90 = percentile(measured, 0.5), percentile(measured, 0.9)
        going = sum(under_way(f, targets_min[urgency], now) for f in group)
        out[urgency] = {
            "calls": len(group),
            "nurse_sent": sum(f.nurse_sent for f in group),
            "responses": len(measured),
            "no_arrival": sum(f.nurse_sent and f.arrived_at is None for f in group) - going,
            "under_way": going,
            "p50_s": None if p50 is None else round(p50),
            "p90_s": None if p90 is None else round(p90),
            "target_min": targets_min[urgency],
            "within_target": sum(s <= target_s for s in measured),
            "within_target_share": round(sum(s <= target_s for s in measured) / len(measured), 4) if measured
            else None,
        }
    return out


def counts(facts: Iterable[CallFact]) -> dict[str, Any]:
    """Calls, per urgency (with `untriaged`) and per outcome."""
    by_urgency = dict.fromkeys(URGENCY_KEYS, 0)
    by_outcome = dict.fromkeys(OUTCOMES, 0)
    total = 0
    for f in facts:
        total += 1
        by_urgency[f.urgency if f.urgency in by_urgency else "untriaged"] += 1
        by_outcome[outcome(f)] += 1
    return {"calls": total, "by_urgency": by_urgency, "by_outcome": by_outcome}


def per_hour(facts: Iterable[CallFact], *, tz: ZoneInfo, handover_at: time) -> list[dict[str, Any]]:
    """Per local hour of the night (from the handover hour on): calls per urgency and the median response. On the
    night the clocks go back, 02:00–03:00 happens twice and both count in hour 02."""
    hours = hour_order(handover_at)
    facts_by_hour: dict[int, list[CallFact]] = {h: [] for h in hours}
    for f in facts:
        facts_by_hour[f.received_at.astimezone(tz).hour].append(f)
    out = []
    for h in hours:
        group = facts_by_hour[h]
        measured = sorted(s for s in (response_seconds(f) for f in group) if s is not None)
        median = percentile(measured, 0.5)
        out.append({"hour": h, "label": f"{h:02d}:00", **counts(group),
                    "responses": len(measured), "p50_s": None if median is None else round(median)})
    return out


def per_organisation(facts: Sequence[CallFact], targets_min: dict[str, int], organisations: dict[str, str],
                     now: datetime) -> list[dict[str, Any]]:
    """Per organisation (code → name; every one listed, with or without calls): counts and responses."""
    codes = list(organisations)
    if any(f.organisation is None for f in facts):
        codes.append(UNIDENTIFIED)
    out = []
    for code in codes:
        mine = [f for f in facts if (f.organisation or UNIDENTIFIED) == code]
        out.append({"organisation": code, "name": organisations.get(code, "client not identified"),
                    **counts(mine), "responses": responses(mine, targets_min, now)})
    return out


def shift_minutes(shifts: Iterable[tuple[datetime, datetime]], *, since: datetime, until: datetime,
                  now: datetime) -> float:
    """Minutes of the shifts (start, end) inside the period, counted up to `now` while the period goes on."""
    end = min(until, now)
    return sum(max(0.0, (min(stop, end) - max(start, since)).total_seconds() / 60) for start, stop in shifts)


def utilisation(nurses: dict[str, NurseTime]) -> dict[str, Any]:
    """Per nurse and for the team: the share of shift time spent on the way to or at a client."""
    def row(t: NurseTime) -> dict[str, Any]:
        busy = t.travel_minutes + t.care_minutes
        return {"shift_minutes": round(t.shift_minutes), "travel_minutes": round(t.travel_minutes),
                "care_minutes": round(t.care_minutes),
                "busy_share": round(busy / t.shift_minutes, 4) if t.shift_minutes > 0 else None}

    team = NurseTime(sum(t.shift_minutes for t in nurses.values()), sum(t.travel_minutes for t in nurses.values()),
                     sum(t.care_minutes for t in nurses.values()))
    return {"team": row(team), "nurses": [{"nurse": name, **row(t)} for name, t in sorted(nurses.items())]}


def compute(facts: Sequence[CallFact], *, tz: ZoneInfo, handover_at: time, targets_min: dict[str, int],
            organisations: dict[str, str], now: datetime) -> dict[str, Any]:
    """Every figure of the page but utilisation, from the calls of the period, as they stand at `now`."""
    return {
        **counts(facts),
        "responses": responses(facts, targets_min, now),
        "hours": per_hour(facts, tz=tz, handover_at=handover_at),
        "organisations": per_organisation(facts, targets_min, organisations, now),
    }
