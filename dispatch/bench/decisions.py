"""Decision latency: a new visit → live state read → solve → plan applied and stored, p50/p95.

`nightcare bench decisions` runs on a fresh SQLite database with 3 nurses and 50 open visits, then
30 nurses and 300, adding one visit at a time and re-planning as the service does.
"""
from __future__ import annotations

import random
import statistics
import tempfile
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlmodel import Session

from dispatch import migrate
from dispatch.assignment.service import replan
from dispatch.clients.models import Client
from dispatch.db import make_engine
from dispatch.heap import freeze_startup_objects
from dispatch.nurses.models import Nurse, Shift
from dispatch.organisations.models import Organisation
from dispatch.reactions import wire
from dispatch.settings import Settings
from dispatch.simulation.scenario import point
from dispatch.timeutil import utcnow
from dispatch.visits.models import Visit


def _visit(session: Session, rng: random.Random, org_id: int, now) -> Visit:
    lat, lon = point(rng)
    client = Client(organisation_id=org_id, given_name="Bench", family_name="Client", street="Brink",
                    house_number="1", postcode="9401 AA", city="Assen", lat=lat, lon=lon)
    session.add(client)
    session.flush()
    assert client.id is not None
    urgent = rng.random() < 0.4
    opens = now - timedelta(minutes=rng.randint(0, 20)) if urgent else now + timedelta(minutes=rng.randint(0, 420))
    visit = Visit(kind="acute" if urgent else "planned", client_id=client.id, organisation_id=org_id,
                  window_start=opens, window_end=opens + timedelta(minutes=30 if urgent else 60),
                  urgency="U2" if urgent else None, service_minutes=rng.randint(15, 40))
    session.add(visit)
    return visit


def _measure(nurses: int, jobs: int, repeats: int, workdir: Path) -> tuple[list[int], dict[str, int]]:
    url = f"sqlite:///{workdir / f'decisions-{nurses}.db'}"
    migrate.upgrade(url)
    settings = Settings(environment="test", database_url=url, keysafe_key=Fernet.generate_key().decode())
    engine = make_engine(url)
    wire(engine)  # the phones' outbox and the board react to every move, as in the service
    rng = random.Random(nurses * 1000 + jobs)
    now = utcnow()
    with Session(engine) as session:
        org = Organisation(code="bench", name="Bench")
        session.add(org)
        session.flush()
        assert org.id is not None
        for k in range(nurses):
            lat, lon = point(rng)
            nurse = Nurse(name=f"Nurse {k}", phone=f"+3161234{k:04d}", skills=[], lat=lat, lon=lon)
            session.add(nurse)
            session.flush()
            assert nurse.id is not None
            session.add(Shift(nurse_id=nurse.id, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=8)))
        for _ in range(jobs):
            _visit(session, rng, org.id, now)
        session.commit()
        org_id = org.id
    cache: dict = {}
    replan(engine, settings, triggers=["warm-up"], cache=cache)  # the travel cache fills once per night
    freeze_startup_objects()  # as the service does once started (dispatch/heap.py)
    timings: list[int] = []
    solvers: dict[str, int] = {}
    for i in range(repeats):
        with Session(engine) as session:
            _visit(session, rng, org_id, now)
            session.commit()
        decision = replan(engine, settings, triggers=[f"new visit {i}"], cache=cache)
        timings.append(decision.decision_ms)
        solvers[decision.solver] = solvers.get(decision.solver, 0) + 1
    engine.dispose()
    return timings, solvers


def run(*, sizes: list[tuple[int, int]], repeats: int) -> None:
    with tempfile.TemporaryDirectory(prefix="nightcare-decisions-") as tmp:
        print(f"{'nurses':>6} {'open jobs':>9} {'decisions':>9} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}  solver")
        for nurses, jobs in sizes:
            timings, solvers = _measure(nurses, jobs, repeats, Path(tmp))
            t = sorted(timings)
            p95 = t[min(len(t) - 1, int(0.95 * len(t)))]
            print(f"{nurses:>6} {jobs:>9} {len(t):>9} {statistics.median(t):>7.0f} {p95:>7} {t[-1]:>7}  {solvers}",
                  flush=True)
