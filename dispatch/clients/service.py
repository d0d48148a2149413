"""Clients: create, update, search — scoped and audited."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dispatch.audit import service as audit
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.clients.models import Client, ClientExternalId, ClientPhone
from dispatch.clients.schemas import ClientExternalOut, ClientIn, ClientOut, ClientPatch
from dispatch.errors import Conflict, Forbidden, Invalid
from dispatch.keysafes.crypto import KeysafeCipher
from dispatch.organisations.models import Organisation
from dispatch.timeutil import utcnow


def organisation_by_code(session: Session, code: str, *, field: str = "organisation") -> Organisation:
    org = session.exec(select(Organisation).where(Organisation.code == code)).first()
    if org is None:
        raise Invalid(f"no organisation with code {code!r}", field=field)
    return org


def _check_may_manage(principal: Principal, organisation_id: int) -> None:
    if principal.role == Role.coordinator:
        return
    if principal.role == Role.partner and principal.organisation_id == organisation_id:
        return
    raise Forbidden("only a coordinator or the client's own organisation manages client records",
                    field="organisation")


def create_client(session: Session, principal: Principal, cipher: KeysafeCipher, body: ClientIn) -> Client:
    org = organisation_by_code(session, body.organisation)
    assert org.id is not None  # a stored organisation
    _check_may_manage(principal, org.id)
    for ext in body.external_ids:
        taken = session.exec(select(ClientExternalId).where(
            ClientExternalId.organisation_id == org.id, ClientExternalId.system == ext.system,
            ClientExternalId.value == ext.value)).first()
        if taken:
            raise Conflict(f"external id {ext.system}/{ext.value} already belongs to another client",
                           field="external_ids")
    client = Client(
        organisation_id=org.id,
        **body.model_dump(include={"given_name", "family_name", "date_of_birth", "street", "house_number",
                                   "postcode", "city", "lat", "lon", "access_notes", "consent_night_team",
                                   "wishes", "risks"}),
        keysafe_code_encrypted=cipher.encrypt(body.keysafe_code) if body.keysafe_code else None,
    )
    session.add(client)
    session.flush()
    assert client.id is not None  # flushed
    for number in dict.fromkeys(body.phones):
        session.add(ClientPhone(client_id=client.id, number=number))
    try:
        with session.begin_nested():
            for ext in body.external_ids:
                session.add(ClientExternalId(client_id=client.id, organisation_id=org.id, system=ext.system,
                                             value=ext.value))
            session.flush()
    except IntegrityError:  # registered concurrently by another request
        raise Conflict("an external id already belongs to another client", field="external_ids") from None
    audit.record(session, principal, action="create", data="client", client_ids=[client.id],
                 reason="client registration")
    return client


def update_client(session: Session, principal: Principal, cipher: KeysafeCipher,
                  client: Client, body: ClientPatch) -> Client:
    _check_may_manage(principal, client.organisation_id)
    changes = body.model_dump(exclude_unset=True)
    changed_fields = sorted(changes)
    phones = changes.pop("phones", None)
    code = changes.pop("keysafe_code", None)
    for key, value in changes.items():
        if value is None and key not in ("date_of_birth",):
            raise Invalid(f"{key} cannot be cleared", field=key)
        setattr(client, key, value)
    if "keysafe_code" in body.model_fields_set:
        client.keysafe_code_encrypted = cipher.encrypt(code) if code else None
    if phones is not None:
        for old in session.exec(select(ClientPhone).where(ClientPhone.client_id == client.id)):
            session.delete(old)
        session.flush()
        assert client.id is not None  # a stored client
        for number in dict.fromkeys(phones):
            session.add(ClientPhone(client_id=client.id, number=number))
    client.updated_at = utcnow()
    session.add(client)
    session.flush()
    audit.record(session, principal, action="update", data="client:" + ",".join(changed_fields),
                 client_ids=[client.id], reason="client record maintenance")
    return client


def client_out(session: Session, client: Client, *, full: bool = True) -> ClientOut:
    """The record; `full=False` keeps to identity, address and access instructions (no consent to share)."""
    phones = session.exec(select(ClientPhone.number).where(ClientPhone.client_id == client.id)).all() if full else []
    ext = session.exec(select(ClientExternalId).where(ClientExternalId.client_id == client.id)).all() if full else []
    shown = client.model_dump(exclude={"keysafe_code_encrypted", "keysafe_present", "created_at", "updated_at"})
    if not full:
        shown.update(wishes=[], risks=[])
    return ClientOut(
        **shown,
        phones=list(phones),
        external_ids=[ClientExternalOut(system=e.system, value=e.value) for e in ext],
        has_keysafe=client.keysafe_present or client.keysafe_code_encrypted is not None,
        restricted=not full,
    )


def search_clients(session: Session, principal: Principal, *, q: str | None, phone: str | None,
                   postcode: str | None, organisation_id: int | None, limit: int, offset: int,
                   date_of_birth: date | None = None, house_number: str | None = None,
                   external_id: str | None = None) -> list[Client]:
    stmt = select(Client)
    if principal.role == Role.partner:
        stmt = stmt.where(Client.organisation_id == principal.organisation_id)
    if organisation_id is not None:
        stmt = stmt.where(Client.organisation_id == organisation_id)
    if q:
        for word in q.split()[:5]:
            like = f"%{word.lower()}%"
            stmt = stmt.where(or_(func.lower(Client.family_name).like(like),
                                  func.lower(Client.given_name).like(like),
                                  func.lower(Client.street).like(like),
                                  func.lower(Client.city).like(like)))
    if phone:
        stmt = stmt.where(col(Client.id).in_(select(ClientPhone.client_id).where(ClientPhone.number == phone)))
    if postcode:
        stmt = stmt.where(func.replace(func.upper(Client.postcode), " ", "") == postcode.replace(" ", "").upper())
    if date_of_birth:
        stmt = stmt.where(Client.date_of_birth == date_of_birth)
    if house_number:
        stmt = stmt.where(func.lower(Client.house_number) == house_number.lower())
    if external_id:
        stmt = stmt.where(col(Client.id).in_(select(ClientExternalId.client_id)
                                             .where(ClientExternalId.value == external_id)))
    stmt = stmt.order_by(col(Client.family_name), col(Client.given_name), col(Client.id)).offset(offset).limit(limit)
    return list(session.exec(stmt))
