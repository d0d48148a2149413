"""Logins under attack: failed-login throttling with a growing Retry-After, no hash spent on a throttled
login, one answer for every failure, hashing slots, and no write lock held while a password is checked.

The throttle's clock is a fake one (the `limits` memory storage's and the throttle's): no test sleeps for a
window to pass or depends on the time of day."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import limits.aio.storage.memory
import pytest
from sqlmodel import Session

from dispatch.auth import passwords
from dispatch.auth.service import disable_user
from dispatch.settings import Settings
from tests.conftest import test_settings
from tests.world import PASSWORD, World

WRONG = "not-the-password-at-all"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Tiny budgets: 2 failures a minute, 3 an hour, 4 a day per username; 6 a minute per address."""
    return test_settings(database_url, login_limits_per_username="2/minute;3/hour;4/day",
                         login_limits_per_address="6/minute")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch, app) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(limits.aio.storage.memory, "time", fake)  # the storage's `time.time()`
    app.state.login_guard.throttle.clock = fake.time
    return fake


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Every password check (Argon2) the login makes: the stored hash it checked against (None: no user)."""
    calls: list[str | None] = []
    real = passwords.check

    def counting(settings: Settings, stored_hash: str | None, password: str) -> passwords.Verdict:
        calls.append(stored_hash)
        return real(settings, stored_hash, password)

    monkeypatch.setattr(passwords, "check", counting)
    return calls


def _login(world: World, username: str, password: str = WRONG):
    return world.client.post("/api/auth/token", data={"username": username, "password": password})


def _throttled(response) -> int:
    """Assert a proper 429 and return its Retry-After."""
    assert response.status_code == 429, response.text
    body = response.json()
    assert body["error"] == "too_many_requests" and body["field"] is None and set(body) == {"error", "detail", "field"}
    retry_after = response.headers["retry-after"]
    assert retry_after.isdigit(), retry_after  # whole seconds
    assert f"in {retry_after} seconds" in body["detail"] or "at once" in body["detail"], body
    return int(retry_after)


def test_failed_logins_are_throttled_with_a_retry_after_that_grows_tier_by_tier(
        world: World, clock: FakeClock, hashes: list) -> None:
    # Minute tier: 2 failures, then a 429 until the first of them is a minute old.
    assert [_login(world, "operator").status_code for _ in range(2)] == [401, 401]
    first = _throttled(_login(world, "operator"))
    assert 55 <= first <= 60
    clock.advance(61)
    # Hour tier: a third failure within the hour, then a 429 for most of the hour.
    assert _login(world, "operator").status_code == 401
    second = _throttled(_login(world, "operator"))
    assert 3400 <= second <= 3600
    clock.advance(3600)
    # Day tier: a fourth failure within the day, then a 429 for most of the day.
    assert _login(world, "operator").status_code == 401
    third = _throttled(_login(world, "operator"))
    assert 80_000 <= third <= 86_400
    assert first < second < third
    assert len(hashes) == 4  # one per failure that was let through, none for a throttled one
    # An unknown username is throttled exactly alike (the counts do not depend on the user existing).
    assert [_login(world, "nobody").status_code for _ in range(2)] == [401, 401]
    assert 55 <= _throttled(_login(world, "nobody")) <= 60


def test_a_throttled_login_spends_no_hash_even_with_the_right_password(
        world: World, clock: FakeClock, hashes: list) -> None:
    _login(world, "nurse1"), _login(world, "nurse1")
    assert len(hashes) == 2
    for _ in range(5):
        _throttled(_login(world, "nurse1", PASSWORD))
    assert len(hashes) == 2
    clock.advance(61)
    assert _login(world, "nurse1", PASSWORD).status_code == 200


def test_successful_logins_do_not_count(world: World, clock: FakeClock) -> None:
    for _ in range(6):
        assert _login(world, "coordinator", PASSWORD).status_code == 200
    assert [_login(world, "coordinator").status_code for _ in range(2)] == [401, 401]


def test_failures_from_one_address_are_throttled_across_usernames(world: World, clock: FakeClock,
                                                                  hashes: list) -> None:
    assert [_login(world, f"guess-{i}").status_code for i in range(6)] == [401] * 6
    retry_after = _throttled(_login(world, "guess-7"))
    assert 55 <= retry_after <= 60
    _throttled(_login(world, "operator", PASSWORD))  # the address is throttled, whoever it logs in as
    assert len(hashes) == 6


def test_unknown_user_disabled_user_and_wrong_password_are_answered_alike(
        world: World, engine, hashes: list) -> None:
    with Session(engine) as s:
        disable_user(s, username="partner_b")
        s.commit()
    answers = {"wrong password": _login(world, "operator"), "unknown user": _login(world, "no-such-user"),
               "disabled user": _login(world, "partner_b", PASSWORD)}
    for what, r in answers.items():
        assert r.status_code == 401, what
        assert r.json() == {"error": "unauthorized", "detail": "wrong username or password", "field": None}, what
        assert r.headers["www-authenticate"] == "Bearer", what
    # Each spent one Argon2 check of the same cost: the unknown user's against a dummy hash.
    assert len(hashes) == 3 and hashes[1] is None and all(h.startswith("$argon2id$") for h in hashes if h)


def test_a_login_that_finds_no_hashing_slot_gets_429(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from dispatch.app import create_app
    from dispatch.db import make_engine
    from tests.world import build_world

    settings = test_settings(database_url, max_concurrent_hashes=1, hash_slot_wait_s=0.2)
    engine = make_engine(settings.database_url, pool_size=5)
    hashing, release = threading.Event(), threading.Event()
    real = passwords.check

    def slow(settings: Settings, stored_hash: str | None, password: str) -> passwords.Verdict:
        hashing.set()
        release.wait(10)
        return real(settings, stored_hash, password)

    try:
        with TestClient(create_app(settings, engine=engine)) as http:
            world = build_world(engine, settings, http)
            monkeypatch.setattr(passwords, "check", slow)
            with ThreadPoolExecutor(1) as pool:
                first = pool.submit(_login, world, "operator", PASSWORD)
                assert hashing.wait(10)
                started = time.monotonic()
                second = _login(world, "nurse1", PASSWORD)
                waited = time.monotonic() - started
                release.set()
                assert first.result().status_code == 200
            assert _throttled(second) == 1 and "at once" in second.json()["detail"]
            assert waited < 5  # it waited for a slot about hash_slot_wait_s, not for the hash
    finally:
        release.set()
        engine.dispose()


def test_intake_goes_on_while_a_login_checks_a_password(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The token endpoint holds no transaction (on SQLite: no write lock) while Argon2 runs, and Argon2 runs
    off the event loop: a call is taken in while a login is stuck in its password check."""
    hashing, release = threading.Event(), threading.Event()
    timed_out: list[bool] = []
    real = passwords.check

    def stuck(settings: Settings, stored_hash: str | None, password: str) -> passwords.Verdict:
        hashing.set()
        timed_out.append(not release.wait(15))
        return real(settings, stored_hash, password)

    monkeypatch.setattr(passwords, "check", stuck)
    try:
        with ThreadPoolExecutor(1) as pool:
            login = pool.submit(_login, world, "nurse2", PASSWORD)
            assert hashing.wait(10)
            call = world.post_call(source="alarm", source_ref="WHILE-HASHING", caller_phone="+31592111111")
            me = world.client.get("/api/me", headers=world.h("operator"))
            release.set()
            assert login.result().status_code == 200
    finally:
        release.set()
    assert call.status_code == 201 and me.status_code == 200
    assert timed_out == [False]  # the call came in while the password check was still waiting
