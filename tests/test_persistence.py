"""The database layer on both backends: encryption at rest, UTC times, settings."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError
from sqlmodel import Session

from dispatch.clients.models import Client
from dispatch.keysafes.crypto import KeysafeCipher
from dispatch.settings import DEVELOPMENT_KEYSAFE_KEY, Settings
from tests.world import KEYSAFE_CODE, World


def test_keysafe_code_is_encrypted_at_rest_and_never_returned(world: World, engine, settings) -> None:
    with Session(engine) as s:
        stored = s.get(Client, world.clients["a1"]).keysafe_code_encrypted
    assert stored and KEYSAFE_CODE not in stored
    assert KeysafeCipher(settings).decrypt(stored) == KEYSAFE_CODE
    r = world.client.get(f"/api/clients/{world.clients['a1']}", headers=world.h("coordinator"))
    assert r.json()["has_keysafe"] is True
    assert KEYSAFE_CODE not in r.text and stored not in r.text


def test_keysafe_code_set_through_the_api_is_encrypted(world: World, engine, settings) -> None:
    r = world.client.patch(f"/api/clients/{world.clients['a2']}", json={"keysafe_code": "9087"},
                           headers=world.h("partner_a"))
    assert r.status_code == 200 and r.json()["has_keysafe"] is True and "9087" not in r.text
    with Session(engine) as s:
        stored = s.get(Client, world.clients["a2"]).keysafe_code_encrypted
    assert stored is not None
    assert "9087" not in stored and KeysafeCipher(settings).decrypt(stored) == "9087"


def test_times_come_back_in_utc(world: World) -> None:
    call = world.post_call(source_ref="utc-1").json()
    assert call["received_at"].endswith("Z") or call["received_at"].endswith("+00:00")


def test_key_rotation_keeps_old_codes_readable(settings: Settings) -> None:
    old = KeysafeCipher(settings)
    token = old.encrypt("2468")
    new_key = Fernet.generate_key().decode()
    rotated = KeysafeCipher(settings.model_copy(update={"keysafe_key": new_key,
                                                         "keysafe_previous_keys": [settings.keysafe_key]}))
    assert rotated.decrypt(token) == "2468"
    fresh = rotated.rotate(token)
    assert KeysafeCipher(settings.model_copy(update={"keysafe_key": new_key})).decrypt(fresh) == "2468"


def test_production_refuses_placeholder_secret_and_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/nightcare")
    with pytest.raises(ValidationError, match="public development key"):
        Settings(environment="production")
    assert Settings().database_url == "postgresql+psycopg://u:p@db/nightcare"
    ok = Settings(environment="production", keysafe_key=Fernet.generate_key().decode())
    assert ok.keysafe_key != DEVELOPMENT_KEYSAFE_KEY
    monkeypatch.delenv("DATABASE_URL")
    with pytest.raises(ValidationError, match="production needs PostgreSQL"):
        Settings(environment="production", keysafe_key=Fernet.generate_key().decode())
    with pytest.raises(ValidationError, match="Fernet key"):
        Settings(keysafe_key="not-a-key")
