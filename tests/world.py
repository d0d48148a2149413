"""A small, known region for API tests: two organisations, their clients, two nurses, a user per role."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dispatch.auth.models import Role
from dispatch.auth.service import create_user
from dispatch.clients.models import Client, ClientExternalId, ClientPhone
from dispatch.keysafes.crypto import KeysafeCipher
from dispatch.nurses.models import Nurse
from dispatch.organisations.models import Organisation
from dispatch.settings import Settings
from dispatch.visits.models import Visit

PASSWORD = "correct horse battery"
SHARED_LINE = "+31592333333"  # a couple in different organisations sharing one landline
KEYSAFE_CODE = "4711"


@dataclass
class World:
    client: TestClient
    orgs: dict[str, int] = field(default_factory=dict)
    clients: dict[str, int] = field(default_factory=dict)
    nurses: dict[str, int] = field(default_factory=dict)
    visits: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def app(self) -> FastAPI:
        """The application under test (its state: settings, geocoder)."""
        return cast("FastAPI", self.client.app)

    def h(self, who: str) -> dict[str, str]:
        """Authorization headers of a user: operator, coordinator, nurse1, nurse2, partner_a, partner_b."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def post_call(self, who: str = "operator", **body: object):
        body.setdefault("source", "phone")
        return self.client.post("/api/calls", json=body, headers=self.h(who))

    def move(self, call_id: int, to: str, who: str = "operator", reason: str = ""):
        return self.client.post(f"/api/calls/{call_id}/transitions", json={"to": to, "reason": reason},
                                headers=self.h(who))


def _client(session: Session, cipher: KeysafeCipher, org: Organisation, name: str, phone: str | None,
            external: str | None, code: str | None) -> Client:
    given, family = name.split()
    assert org.id is not None
    client = Client(organisation_id=org.id, given_name=given, family_name=family, street="Kerkstraat",
                    house_number="1", postcode="9401 AA", city="Assen", lat=52.99, lon=6.56,
                    keysafe_code_encrypted=cipher.encrypt(code) if code else None)
    session.add(client)
    session.flush()
    assert client.id is not None and org.id is not None
    if phone:
        session.add(ClientPhone(client_id=client.id, number=phone))
    if external:
        session.add(ClientExternalId(client_id=client.id, organisation_id=org.id, system="ecd", value=external))
    return client


def build_world(engine: Engine, settings: Settings, http: TestClient) -> World:
    world = World(client=http)
    cipher = KeysafeCipher(settings)
    with Session(engine) as session:
        org_a = Organisation(code="org-a", name="Thuiszorg A")
        org_b = Organisation(code="org-b", name="Thuiszorg B")
        session.add_all([org_a, org_b])
        session.flush()
        assert org_a.id is not None and org_b.id is not None
        clients = {
            "a1": _client(session, cipher, org_a, "Aaltje Bakker", "+31592111111", "A-1", KEYSAFE_CODE),
            "a2": _client(session, cipher, org_a, "Hendrik Mulder", "+31592111112", "A-2", None),
            "a3": _client(session, cipher, org_a, "Jan Koops", SHARED_LINE, "A-3", None),
            "b1": _client(session, cipher, org_b, "Geertje Wolters", "+31592222222", "B-1", "1234"),
            "b2": _client(session, cipher, org_b, "Janna Koops", SHARED_LINE, "B-2", None),
        }
        n1 = Nurse(name="Anouk", phone="+31612340001", skills=["palliative"])
        n2 = Nurse(name="Sanne", phone="+31612340002", skills=["wound"])
        session.add_all([n1, n2])
        session.flush()
        assert n1.id is not None and n2.id is not None
        ids = {k: c.id for k, c in clients.items() if c.id is not None}
        start = datetime.now(UTC) + timedelta(hours=1)
        # Given to Anouk by an operator (locked: the re-plan at start-up, with nobody on duty, leaves it with her).
        visit_a1 = Visit(kind="planned", client_id=ids["a1"], organisation_id=org_a.id, window_start=start,
                         window_end=start + timedelta(hours=1), service_minutes=20, nurse_id=n1.id, state="assigned",
                         locked=True, offered_at=datetime.now(UTC))
        visit_b1 = Visit(kind="planned", client_id=ids["b1"], organisation_id=org_b.id, window_start=start,
                         window_end=start + timedelta(hours=1), service_minutes=20)
        session.add_all([visit_a1, visit_b1])
        session.flush()
        assert visit_a1.id is not None and visit_b1.id is not None
        users = [("operator", Role.operator, None, None), ("coordinator", Role.coordinator, None, None),
                 ("nurse1", Role.nurse, None, n1.id), ("nurse2", Role.nurse, None, n2.id),
                 ("partner_a", Role.partner, "org-a", None), ("partner_b", Role.partner, "org-b", None)]
        for username, role, org_code, nurse_id in users:
            create_user(session, settings=settings, username=username, password=PASSWORD, role=role,
                        organisation_code=org_code, nurse_id=nurse_id)
        session.commit()
        world.orgs = {"a": org_a.id, "b": org_b.id}
        world.clients = ids
        world.nurses = {"n1": n1.id, "n2": n2.id}
        world.visits = {"a1": visit_a1.id, "b1": visit_b1.id}
    for username, *_ in users:
        response = http.post("/api/auth/token", data={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.text
        world.tokens[username] = response.json()["access_token"]
    return world
