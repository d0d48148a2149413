"""Reports for coordinators. Triage compliance: how closely each operator followed the protocol, week by week.

Per operator and ISO week (of the decision, in the region's time zone): decided triages, key questions asked and
skipped (skipped: deciding before the protocol reached its outcome, counted as the fewest questions still to
answer), compliance = asked / (asked + skipped), the share of triages with nothing skipped, "don't know" answers,
and overrides of the protocol's outcome (how many lowered its urgency). Every decided run counts, a run later
superseded by a re-triage included: it was a triage the operator made.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select as sql_select
from sqlmodel import Session, col

from dispatch.errors import Invalid
from dispatch.triage.models import Triage
from protocols.model import URGENCIES

MAX_DAYS = 366


@dataclass
class Tally:
    triages: int = 0
    asked: int = 0
    skipped: int = 0
    complete: int = 0  # triages with nothing skipped
    dont_know: int = 0
    overrides: int = 0
    lowered: int = 0
    raised: int = 0

    def add(self, row: Any) -> None:
        self.triages += 1
        self.asked += row.questions_asked
        self.skipped += row.questions_skipped
        self.complete += row.questions_skipped == 0
        self.dont_know += row.dont_know
        protocol_urgency = (row.computed or {}).get("urgency", row.final_urgency)
        protocol_disposition = (row.computed or {}).get("disposition", row.final_disposition)
        if (row.final_urgency, row.final_disposition) != (protocol_urgency, protocol_disposition):
            self.overrides += 1
            if protocol_urgency in URGENCIES and row.final_urgency in URGENCIES:
                lower = URGENCIES.index(row.final_urgency) - URGENCIES.index(protocol_urgency)
                self.lowered += lower > 0
                self.raised += lower < 0

    def out(self) -> dict[str, Any]:
        questions = self.asked + self.skipped
        return {
            "triages": self.triages, "questions_asked": self.asked, "questions_skipped": self.skipped,
            "compliance": round(self.asked / questions, 4) if questions else None,
            "nothing_skipped_share": round(self.complete / self.triages, 4) if self.triages else None,
            "dont_know": self.dont_know, "overrides": self.overrides, "overrides_lowering": self.lowered,
            "overrides_raising": self.raised,
        }


def _week(at: datetime, tz: ZoneInfo) -> str:
    year, week, _ = at.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def triage_compliance(session: Session, *, start: date, end: date, tz: str) -> dict[str, Any]:
    """Triages decided from `start` to `end` (both included, region dates)."""
    if start > end:
        raise Invalid(f"from ({start}) is after to ({end})", field="from")
    if (end - start).days >= MAX_DAYS:
        raise Invalid(f"at most {MAX_DAYS} days at a time", field="to")
    zone = ZoneInfo(tz)
    since = datetime.combine(start, time(0), zone)
    until = datetime.combine(end + timedelta(days=1), time(0), zone)
    columns = (Triage.decided_by, Triage.decided_at, Triage.questions_asked, Triage.questions_skipped,
               Triage.dont_know, Triage.final_urgency, Triage.final_disposition, Triage.computed)
    rows = session.execute(sql_select(*(col(c) for c in columns))
                           .where(col(Triage.decided_at) >= since, col(Triage.decided_at) < until)
                           .order_by(col(Triage.decided_at))).all()
    per: dict[tuple[str, str], Tally] = {}
    weeks: dict[str, Tally] = {}
    total = Tally()
    for row in rows:
        week = _week(row.decided_at, zone)
        per.setdefault((row.decided_by, week), Tally()).add(row)
        weeks.setdefault(week, Tally()).add(row)
        total.add(row)
    return {
        "from": start.isoformat(), "to": end.isoformat(), "time_zone": tz,
        "rows": [{"operator": operator, "week": week, **tally.out()}
                 for (operator, week), tally in sorted(per.items(), key=lambda kv: (kv[0][1], kv[0][0]))],
        "weeks": [{"week": week, **tally.out()} for week, tally in sorted(weeks.items())],
        "total": total.out(),
    }
