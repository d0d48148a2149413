"""A night with known figures, written straight into the database (as a night's calls, triage runs, visits and
their moves leave it), for the insight tests: the API's (tests/test_insight.py) and the page's
(tests/test_insight_page.py). What it holds, for the night of `day` (region time, 07:00 to 07:00):

    23:10 a1  U2 nurse visit, on scene after 25 min (driving 15, with her 30)   Anouk
    00:20 a2  U3 then re-triaged U2, on scene after 45 min                      Anouk
    00:40 b1  U2 nurse visit, on scene after 20 min (driving 15, with her 30)   Sanne
    02:15 b2  U3 nurse visit, on scene after 90 min                             Sanne
    02:30 a3  U1 112 (a nurse sent too), on scene after 20 min                  Anouk
    03:00 a1  U5 advice;  04:10 b1  U4 deferred to the day team;  05:00 an unidentified caller, never triaged
    23:50 a2  U3 nurse visit, the nurse never arrived (visit cancelled)
    and one call before the night (06:50) and one after it (07:30 the next morning); two shifts 22:00–07:00.

So: 9 calls; U2 responses 20, 25, 45 min (p50 25, p90 45, 2 of 3 within 30 min); U3 one response of 90 min and
one not reached; U1 20 min; per organisation A 5 calls, B 3, one unidentified.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from dispatch.calls.models import Call
from dispatch.nurses.models import Shift
from dispatch.triage.models import Triage
from dispatch.visits.models import Visit, VisitEvent

U2, U3 = ("U2", "nurse_visit"), ("U3", "nurse_visit")


def _at(day: date, clock: str, zone: ZoneInfo) -> datetime:
    """`clock` on the night of `day`: before the handover hour (07:00) it is the next morning."""
    t = time.fromisoformat(clock)
    return datetime.combine(day + timedelta(days=1 if t < time(7) else 0), t, zone)


def record_call(session: Session, *, ref: str, at: datetime, org_id: int | None, client_id: int | None,
                runs: tuple[tuple[str, str], ...] = (), arrive_min: int | None = None, sent: bool = False,
                nurse_id: int | None = None, moves: tuple[tuple[int, str], ...] = ()) -> int:
    """A call at `at`, its triage runs (urgency, disposition; the last is current), a visit whose nurse is on scene
    `arrive_min` after the call (or never, when only `sent`), with any further (minute, state) moves."""
    call = Call(source="phone", source_ref=ref, client_id=client_id, organisation_id=org_id, received_at=at,
                state="received")
    session.add(call)
    session.flush()
    assert call.id is not None
    for k, (urgency, disposition) in enumerate(runs):
        session.add(Triage(id=call.id * 10 + k, call_id=call.id, protocol_id="nightcare-regional-night",
                           protocol_version=1, complaint="fall", answers=[], signals=[],
                           computed={"urgency": urgency, "disposition": disposition}, final_urgency=urgency,
                           final_disposition=disposition, questions_asked=3, started_at=at, started_by="operator",
                           decided_at=at + timedelta(minutes=3 + k), decided_by="operator"))
    if arrive_min is not None or sent:
        assert org_id is not None and client_id is not None
        visit = Visit(kind="acute", client_id=client_id, organisation_id=org_id, call_id=call.id, window_start=at,
                      window_end=at + timedelta(hours=2), nurse_id=nurse_id, urgency=runs[-1][0],
                      state="on_scene" if arrive_min is not None else "cancelled")
        session.add(visit)
        session.flush()
        assert visit.id is not None
        events = list(moves) + ([(arrive_min, "on_scene")] if arrive_min is not None else [])
        for minute, to in sorted(events):
            session.add(VisitEvent(visit_id=visit.id, at=at + timedelta(minutes=minute), actor="nurse",
                                   actor_role="nurse", move=to, to_state=to))
    return call.id


def record_night(session: Session, *, day: date, zone: ZoneInfo, orgs: tuple[int, int], clients: dict[str, int],
                 nurses: tuple[int, int]) -> None:
    """The night above; `clients` names a1, a2, a3 (organisation A) and b1, b2 (B); nurses are (Anouk, Sanne)."""
    a, b = orgs
    anouk, sanne = nurses

    def call(ref: str, clock: str, org: int | None, client: str | None, runs: tuple[tuple[str, str], ...] = (),
             arrive_min: int | None = None, **kw: object) -> None:
        record_call(session, ref=f"{day}-{ref}", at=_at(day, clock, zone), org_id=org,
                    client_id=clients[client] if client else None, runs=runs, arrive_min=arrive_min, **kw)  # type: ignore[arg-type]

    call("1", "23:10", a, "a1", (U2,), 25, nurse_id=anouk, moves=((10, "en_route"), (55, "completed")))
    call("2", "00:20", a, "a2", (U3, U2), 45, nurse_id=anouk)  # re-triaged: the current run counts
    call("3", "00:40", b, "b1", (U2,), 20, nurse_id=sanne, moves=((5, "en_route"), (50, "completed")))
    call("4", "02:15", b, "b2", (U3,), 90, nurse_id=sanne)
    call("5", "02:30", a, "a3", (("U1", "call_112"),), 20, nurse_id=anouk)
    call("6", "03:00", a, "a1", (("U5", "advice"),))
    call("7", "04:10", b, "b1", (("U4", "defer_to_day"),))
    call("8", "05:00", None, None)
    call("9", "23:50", a, "a2", (U3,), sent=True, nurse_id=anouk)
    # The nights before and after.
    record_call(session, ref=f"{day}-10", at=datetime.combine(day, time(6, 50), zone), org_id=a,
                client_id=clients["a1"], runs=(U2,), arrive_min=10, nurse_id=anouk)
    record_call(session, ref=f"{day}-11", at=datetime.combine(day + timedelta(days=1), time(7, 30), zone), org_id=b,
                client_id=clients["b1"], runs=(U2,), arrive_min=10, nurse_id=sanne)
    for nurse in nurses:
        session.add(Shift(nurse_id=nurse, starts_at=datetime.combine(day, time(22), zone),
                          ends_at=datetime.combine(day + timedelta(days=1), time(7), zone), state="ended"))
