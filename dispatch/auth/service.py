"""Users, passwords (Argon2id, memory-hard) and opaque bearer tokens."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from dispatch.auth.models import AuthToken, Role, User
from dispatch.errors import Conflict, Invalid, Unauthorized
from dispatch.organisations.models import Organisation
from dispatch.nurses.models import Nurse
from dispatch.settings import Settings
from dispatch.timeutil import utcnow


@dataclass(frozen=True)
class Principal:
    """Who is asking: what every scope check and audit entry is based on."""

    user_id: int | None  # None: the service itself (e.g. the dispatcher)
    username: str
    role: Role
    organisation_id: int | None
    nurse_id: int | None
    source_address: str = ""

    def has(self, *roles: Role) -> bool:
        return self.role in roles


# The service acting on its own (assignment decisions): recorded as "dispatch" in call events.
SYSTEM = Principal(user_id=None, username="dispatch", role=Role.coordinator, organisation_id=None, nurse_id=None)


def password_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(memory_cost=settings.password_memory_kib, time_cost=settings.password_time_cost)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    session: Session,
    *,
    settings: Settings,
    username: str,
    password: str,
    role: Role,
    organisation_code: str | None = None,
    nurse_id: int | None = None,
) -> User:
    if len(password) < 8:
        raise Invalid("password must be at least 8 characters", field="password")
    if session.exec(select(User).where(User.username == username)).first():
        raise Conflict(f"user {username!r} already exists", field="username")
    organisation_id = None
    if role == Role.partner:
        if not organisation_code:
            raise Invalid("a partner user belongs to one organisation", field="organisation")
    if organisation_code:
        org = session.exec(select(Organisation).where(Organisation.code == organisation_code)).first()
        if org is None:
            raise Invalid(f"no organisation with code {organisation_code!r}", field="organisation")
        organisation_id = org.id
    if role == Role.nurse:
        if nurse_id is None or session.get(Nurse, nurse_id) is None:
            raise Invalid("a nurse user is linked to an existing nurse", field="nurse_id")
    user = User(
        username=username,
        password_hash=password_hasher(settings).hash(password),
        role=role.value,
        organisation_id=organisation_id,
        nurse_id=nurse_id if role == Role.nurse else None,
    )
    session.add(user)
    session.flush()
    return user


def login(session: Session, *, settings: Settings, username: str, password: str) -> tuple[str, AuthToken]:
    user = session.exec(select(User).where(User.username == username)).first()
    hasher = password_hasher(settings)
    if user is None or not user.active:
        # Spend the same effort as a real check so timing does not reveal which usernames exist.
        hasher.hash(password)
        raise Unauthorized("wrong username or password", field="username")
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("wrong username or password", field="password") from None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        session.add(user)
    token = secrets.token_urlsafe(32)
    record = AuthToken(
        user_id=user.id,
        token_hash=_token_hash(token),
        expires_at=utcnow() + timedelta(minutes=settings.token_ttl_minutes),
    )
    session.add(record)
    session.flush()
    return token, record


def principal_for_token(session: Session, token: str, *, source_address: str = "") -> Principal:
    record = session.exec(select(AuthToken).where(AuthToken.token_hash == _token_hash(token))).first()
    if record is None or record.revoked:
        raise Unauthorized("invalid token")
    if record.expires_at <= utcnow():
        raise Unauthorized("token expired; log in again")
    user = session.get(User, record.user_id)
    if user is None or not user.active:
        raise Unauthorized("invalid token")
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        organisation_id=user.organisation_id,
        nurse_id=user.nurse_id,
        source_address=source_address,
    )


def revoke(session: Session, token: str) -> None:
    record = session.exec(select(AuthToken).where(AuthToken.token_hash == _token_hash(token))).first()
    if record is not None:
        record.revoked = True
        session.add(record)
