"""Token expiry and revocation, password storage and policy, the `nightcare user` commands.

(Login throttling and the one answer for every failed login: test_login_throttle.py.)"""
from __future__ import annotations

import getpass
import io
import sys
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from dispatch.auth.models import AuthToken, Role, User
from dispatch.auth.service import create_user
from dispatch.cli import main
from dispatch.errors import Invalid
from dispatch.seed.demo import DEMO_PASSWORD
from dispatch.timeutil import utcnow
from tests.world import PASSWORD, World


def test_password_is_stored_as_argon2id(world: World, engine) -> None:
    with Session(engine) as s:
        stored = s.exec(select(User.password_hash).where(User.username == "operator")).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_expired_token_is_refused(world: World, engine) -> None:
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


def test_token_is_not_stored_in_clear(world: World, engine) -> None:
    with Session(engine) as s:
        hashes = set(s.exec(select(AuthToken.token_hash)))
    assert not hashes & set(world.tokens.values())


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def cli_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NIGHTCARE_DATABASE_URL", database_url)
    monkeypatch.setenv("NIGHTCARE_PASSWORD_MEMORY_KIB", "8192")
    monkeypatch.setenv("NIGHTCARE_PASSWORD_TIME_COST", "1")


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str, *, tty: bool = False) -> None:
    monkeypatch.setattr(sys, "stdin", _Terminal(text) if tty else io.StringIO(text))


def _token(world: World, username: str, password: str) -> str:
    r = world.client.post("/api/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_user_add_reads_the_password_from_stdin(cli_env: None, world: World, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    _stdin(monkeypatch, "partner-portal-key\n")
    main(["user", "add", "--role", "partner", "--username", "planner-a", "--password-stdin", "--organisation", "org-a"])
    assert "planner-a (partner) created" in capsys.readouterr().out
    token = _token(world, "planner-a", "partner-portal-key")
    me = world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["organisation_id"] == world.orgs["a"] and me["role"] == "partner"
    _stdin(monkeypatch, "partner-portal-key\n")
    with pytest.raises(SystemExit, match="organisation: a partner user belongs to one organisation"):
        main(["user", "add", "--role", "partner", "--username", "p2", "--password-stdin"])
    _stdin(monkeypatch, "partner-portal-key\n")
    with pytest.raises(SystemExit, match="already exists"):
        main(["user", "add", "--role", "operator", "--username", "planner-a", "--password-stdin"])


def test_user_add_asks_for_the_password_twice_at_a_prompt(cli_env: None, world: World,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    typed = iter(["night-shift-lantern", "night-shift-lantern", "night-shift-lantern", "night-shift-lanterns"])
    prompts: list[str] = []

    def getpass_(prompt: str) -> str:
        prompts.append(prompt)
        return next(typed)

    monkeypatch.setattr(getpass, "getpass", getpass_)
    _stdin(monkeypatch, "", tty=True)
    main(["user", "add", "--role", "operator", "--username", "night-operator"])
    assert prompts == ["Password for night-operator: ", "The same password again: "]
    _token(world, "night-operator", "night-shift-lantern")
    with pytest.raises(SystemExit, match="the two passwords differ"):
        main(["user", "add", "--role", "operator", "--username", "other-operator"])


def test_user_add_never_takes_the_password_from_the_command_line(
        cli_env: None, world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["user", "add", "--role", "operator", "--username", "argv-user", "--password", "visible-in-ps-output"])
    assert "--password-stdin" in str(exc.value) and "visible-in-ps-output" not in str(exc.value)
    assert "visible-in-ps-output" not in capsys.readouterr().err
    _stdin(monkeypatch, "piped-in-password\n")  # no terminal: no prompt, but a pointer to --password-stdin
    with pytest.raises(SystemExit, match="no terminal to ask for the password on: pipe it in with --password-stdin"):
        main(["user", "add", "--role", "operator", "--username", "argv-user"])


@pytest.mark.parametrize(("username", "password", "message"), [
    ("short-user", "too-short-1", "password: a password needs at least 12 characters"),
    ("henkdevries", "HenkDeVries-1954", "password: a password must not be or contain the username"),
    ("henk", "henk", "password: a password needs at least 12 characters"),
    ("mary", "password1234", "password: this password is too common or too easy to guess"),
    ("mary", "qwertyuiopasdf", "password: this password is too common or too easy to guess"),
    ("mary", "aaaaaaaaaaaaaaaa", "password: this password is too common or too easy to guess"),
])
def test_the_password_policy_names_the_field_and_the_reason(cli_env: None, world: World, username: str,
                                                            password: str, message: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, password + "\n")
    with pytest.raises(SystemExit, match=message):
        main(["user", "add", "--role", "operator", "--username", username, "--password-stdin"])


def test_the_password_policy_holds_for_every_caller_of_create_user(engine, settings) -> None:
    with Session(engine) as s, pytest.raises(Invalid) as exc:
        create_user(s, settings=settings, username="Mary", password="MARY-the-nurse-99", role=Role.operator)
    assert exc.value.field == "password" and exc.value.status == 422
    with Session(engine) as s:  # the demo's and the tests' passwords pass
        create_user(s, settings=settings, username="nurse1", password=DEMO_PASSWORD, role=Role.operator)
        create_user(s, settings=settings, username="operator", password=PASSWORD, role=Role.operator)


def test_user_disable_revokes_every_token_and_enable_lets_them_log_in_again(
        cli_env: None, world: World, capsys: pytest.CaptureFixture[str]) -> None:
    tokens = [world.tokens["nurse1"], _token(world, "nurse1", PASSWORD)]
    main(["user", "disable", "nurse1"])
    assert "user nurse1 disabled; 2 valid tokens revoked" in capsys.readouterr().out
    for token in tokens:
        assert world.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    refused = world.client.post("/api/auth/token", data={"username": "nurse1", "password": PASSWORD})
    assert refused.status_code == 401 and refused.json()["detail"] == "wrong username or password"
    assert world.client.get("/api/me", headers=world.h("nurse2")).status_code == 200  # others keep theirs
    main(["user", "enable", "nurse1"])
    assert "user nurse1 enabled" in capsys.readouterr().out
    fresh = _token(world, "nurse1", PASSWORD)
    assert world.client.get("/api/me", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
    assert world.client.get("/api/me", headers={"Authorization": f"Bearer {tokens[0]}"}).status_code == 401
    with pytest.raises(SystemExit, match="username: no user 'nobody'"):
        main(["user", "disable", "nobody"])
