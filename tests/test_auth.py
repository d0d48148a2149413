"""Login, token expiry and revocation, password storage, the `nightcare user add` command."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from dispatch.auth.models import AuthToken, User
from dispatch.cli import main
from dispatch.timeutil import utcnow
from tests.world import PASSWORD, World


def test_wrong_password_and_unknown_user_get_the_same_401(world: World) -> None:
    wrong = world.client.post("/api/auth/token", data={"username": "operator", "password": "nope-nope"})
    unknown = world.client.post("/api/auth/token", data={"username": "nobody", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"] == "wrong username or password"
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_password_is_stored_as_argon2id(world: World, engine) -> None:  # noqa: ANN001
    with Session(engine) as s:
        stored = s.exec(select(User.password_hash).where(User.username == "operator")).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_expired_token_is_refused(world: World, engine) -> None:  # noqa: ANN001
    assert world.client.get("/api/me", headers=world.h("operator")).status_code == 200
    with Session(engine) as s:
        for token in s.exec(select(AuthToken)):
            token.expires_at = utcnow() - timedelta(seconds=1)
            s.add(token)
        s.commit()
    r = world.client.get("/api/me", headers=world.h("operator"))
    assert r.status_code == 401 and "expired" in r.json()["detail"]


def test_logout_revokes_the_token(world: World) -> None:
    assert world.client.post("/api/auth/logout", headers=world.h("nurse1")).status_code == 204
    assert world.client.get("/api/me", headers=world.h("nurse1")).status_code == 401
    assert world.client.get("/api/me", headers=world.h("nurse2")).status_code == 200


def test_token_is_not_stored_in_clear(world: World, engine) -> None:  # noqa: ANN001
    with Session(engine) as s:
        hashes = set(s.exec(select(AuthToken.token_hash)))
    assert not hashes & set(world.tokens.values())


def test_user_add_command(database_url: str, monkeypatch: pytest.MonkeyPatch, world: World,
                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NIGHTCARE_DATABASE_URL", database_url)
    main(["user", "add", "--role", "partner", "--username", "planner-a", "--password", "s3cret-pass",
          "--organisation", "org-a"])
    assert "planner-a (partner) created" in capsys.readouterr().out
    r = world.client.post("/api/auth/token", data={"username": "planner-a", "password": "s3cret-pass"})
    assert r.status_code == 200 and r.json()["role"] == "partner"
    me = world.client.get("/api/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}).json()
    assert me["organisation_id"] == world.orgs["a"]
    with pytest.raises(SystemExit, match="organisation: a partner user belongs to one organisation"):
        main(["user", "add", "--role", "partner", "--username", "p2", "--password", "long-enough"])
    with pytest.raises(SystemExit, match="already exists"):
        main(["user", "add", "--role", "operator", "--username", "planner-a", "--password", "long-enough"])
