"""The demo region: plausible, deterministic, idempotent."""
from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, func, select

from dispatch.auth.models import User
from dispatch.clients.models import Client, ClientPhone
from dispatch.keysafes.crypto import KeysafeCipher
from dispatch.nurses.models import Nurse, Shift
from dispatch.organisations.models import Organisation
from dispatch.seed.demo import CLIENT_COUNT, DEMO_PASSWORD, seed_demo, tonight
from dispatch.visits.models import Visit

NOW = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)


def _counts(engine) -> dict[str, int]:
    with Session(engine) as s:
        return {m.__name__: s.exec(select(func.count()).select_from(m)).one()
                for m in (Organisation, Client, ClientPhone, Nurse, Shift, Visit, User)}


def test_seed_is_idempotent_and_complete(engine, settings) -> None:
    first = seed_demo(engine, settings, now=NOW)
    counts = _counts(engine)
    again = seed_demo(engine, settings, now=NOW)
    assert _counts(engine) == counts
    assert (again.clients, again.visits, again.organisations) == (0, 0, 0)
    assert (first.organisations, first.clients, first.nurses) == (4, CLIENT_COUNT, 3)
    assert {role for _, role, _ in first.users} == {"operator", "nurse", "partner", "coordinator"}

    with Session(engine) as s:
        clients = s.exec(select(Client)).all()
        nurses = s.exec(select(Nurse)).all()
        visits = s.exec(select(Visit)).all()
        shifts = s.exec(select(Shift)).all()
    per_org = Counter(c.organisation_id for c in clients)
    assert len(per_org) == 4 and min(per_org.values()) >= 60
    cities = Counter(c.city for c in clients)
    assert cities.most_common(1)[0][0] == "Assen" and {"Beilen", "Smilde", "Westerbork"} <= set(cities)
    assert all(52.75 < c.lat < 53.05 and 6.40 < c.lon < 6.70 for c in clients)  # Assen and Midden-Drenthe
    assert len({tuple(n.skills) for n in nurses}) == 3
    with_code = [c for c in clients if c.keysafe_code_encrypted]
    assert len(with_code) > CLIENT_COUNT // 2
    assert all(KeysafeCipher(settings).decrypt(c.keysafe_code_encrypted).isdigit()
               for c in with_code[:20] if c.keysafe_code_encrypted)
    tz = ZoneInfo(settings.region_timezone)
    assert len(visits) == 24 and len(shifts) == 3
    for v in visits:  # tonight, between 23:30 and 07:00 local
        start = v.window_start.astimezone(tz)
        assert start.date().isoformat() in ("2026-11-22", "2026-11-23")
        assert start.time() >= time(23, 30) or start.time() <= time(7, 0)


def test_seed_is_deterministic(engine, settings, tmp_path) -> None:
    from dispatch import migrate
    from dispatch.db import make_engine
    from tests.conftest import test_settings

    seed_demo(engine, settings, now=NOW)
    other_url = f"sqlite:///{tmp_path / 'other.db'}"
    migrate.upgrade(other_url)
    other = make_engine(other_url)
    seed_demo(other, test_settings(other_url), now=NOW)

    def people(e) -> list[tuple]:
        with Session(e) as s:
            return [(c.given_name, c.family_name, c.street, c.house_number, c.city, c.lat)
                    for c in s.exec(select(Client).order_by(col(Client.id)))]

    assert people(engine) == people(other)
    other.dispose()


def test_demo_logins_work(engine, settings, client) -> None:
    report = seed_demo(engine, settings, now=NOW)
    for username, role, _ in report.users:
        r = client.post("/api/auth/token", data={"username": username, "password": DEMO_PASSWORD})
        assert r.status_code == 200 and r.json()["role"] == role


@pytest.mark.parametrize(("local", "night_of"), [("2026-01-14T02:00", "2026-01-13"),
                                                  ("2026-01-14T07:30", "2026-01-14"),
                                                  ("2026-01-14T13:00", "2026-01-14"),
                                                  ("2026-01-14T22:59", "2026-01-14")])
def test_the_seeded_night_is_the_current_or_coming_one_at_any_hour(local: str, night_of: str) -> None:
    """Seeded at 02:00 the demo's shifts are the night under way; from 07:00 on, the coming one (23:00–07:15)."""
    tz = ZoneInfo("Europe/Amsterdam")
    now = datetime.fromisoformat(local).replace(tzinfo=tz)
    assert tonight(now, tz).isoformat() == night_of
