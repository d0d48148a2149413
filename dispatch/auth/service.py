"""Users (password policy, disable/enable), opaque bearer tokens, and the database steps of a login.

The login itself (throttling, checking the password off the write lock) is run by login.py."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select, update

from dispatch.auth import passwords
from dispatch.auth.models import AuthToken, Role, Team, User
from dispatch.errors import Conflict, Invalid, NotFound, Unauthorized
from dispatch.nurses.models import Nurse
from dispatch.organisations.models import Organisation
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
    team: Team = Team.regional  # operators: the triage team they work in
    clinician: bool = False  # may draft protocol versions and sign them off (protocol_versions/drafts.py)

    def has(self, *roles: Role) -> bool:
        return self.role in roles


# One answer for an unknown user, a disabled user and a wrong password (same status, body and header).
WRONG_CREDENTIALS = "wrong username or password"

# The service acting on its own (assignment decisions): recorded as "dispatch" in call events.
SYSTEM = Principal(user_id=None, username="dispatch", role=Role.coordinator, organisation_id=None, nurse_id=None)


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
    team: Team = Team.regional,
    clinician: bool = False,
    profession: str = "",
    full_name: str = "",
) -> User:
    passwords.check_policy(password, username=username)
    if team != Team.regional and role != Role.operator:
        raise Invalid("only operators belong to a triage team", field="team")
    _check_clinician(clinician, profession)
    if session.exec(select(User).where(User.username == username)).first():
        raise Conflict(f"user {username!r} already exists", field="username")
    organisation_id = None
    if role == Role.partner and not organisation_code:
        raise Invalid("a partner user belongs to one organisation", field="organisation")
    if organisation_code:
        org = session.exec(select(Organisation).where(Organisation.code == organisation_code)).first()
        if org is None:
            raise Invalid(f"no organisation with code {organisation_code!r}", field="organisation")
        organisation_id = org.id
    if role == Role.nurse and (nurse_id is None or session.get(Nurse, nurse_id) is None):
        raise Invalid("a nurse user is linked to an existing nurse", field="nurse_id")
    user = User(
        username=username,
        password_hash=passwords.hash_password(settings, password),
        role=role.value,
        organisation_id=organisation_id,
        nurse_id=nurse_id if role == Role.nurse else None,
        team=team.value,
        clinician=clinician,
        profession=profession.strip(),
        full_name=full_name.strip(),
    )
    session.add(user)
    session.flush()
    return user


def _check_clinician(clinician: bool, profession: str) -> None:
    if clinician and not profession.strip():
        raise Invalid("a clinician's profession is recorded on every sign-off (e.g. GP, nurse practitioner)",
                      field="profession")


def set_clinician(session: Session, *, username: str, clinician: bool, profession: str | None = None,
                  full_name: str | None = None) -> User:
    """Give a user the clinician flag (with their profession and full name, recorded on sign-offs), or take it."""
    user = _user_named(session, username)
    profession = user.profession if profession is None else profession.strip()
    _check_clinician(clinician, profession)
    user.clinician, user.profession = clinician, profession
    if full_name is not None:
        user.full_name = full_name.strip()
    session.add(user)
    session.flush()
    return user


def _user_named(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user {username!r}", field="username")
    return user


def disable_user(session: Session, *, username: str) -> int:
    """Mark the user inactive and revoke every token of theirs still valid; returns how many."""
    user = _user_named(session, username)
    user.active = False
    session.add(user)
    revoked = session.exec(
        update(AuthToken)
        .where(col(AuthToken.user_id) == user.id, col(AuthToken.revoked).is_(False),
               col(AuthToken.expires_at) > utcnow())
        .values(revoked=True)
    ).rowcount
    session.flush()
    return revoked


def enable_user(session: Session, *, username: str) -> None:
    """Let the user log in again (tokens revoked when they were disabled stay revoked)."""
    user = _user_named(session, username)
    user.active = True
    session.add(user)
    session.flush()


@dataclass(frozen=True)
class LoginCandidate:
    """What a login needs to know about a user, read before the password is checked (no session open then)."""

    user_id: int
    password_hash: str
    active: bool
    role: Role


def login_candidate(session: Session, *, username: str) -> LoginCandidate | None:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or user.id is None:
        return None
    return LoginCandidate(user_id=user.id, password_hash=user.password_hash, active=user.active, role=Role(user.role))


def issue_token(session: Session, *, settings: Settings, candidate: LoginCandidate,
                new_hash: str | None = None) -> tuple[str, AuthToken]:
    """Store a new token for a user whose password was checked against `candidate.password_hash`; also
    store `new_hash` (the password under the current Argon2 cost) if given. Refused if the user was disabled
    or their password changed since it was read."""
    user = session.get(User, candidate.user_id)
    if user is None or not user.active or user.password_hash != candidate.password_hash:
        raise Unauthorized(WRONG_CREDENTIALS)
    if new_hash:
        user.password_hash = new_hash
        session.add(user)
    token = secrets.token_urlsafe(32)
    assert user.id is not None  # a stored user
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
        team=Team(user.team),
        clinician=user.clinician,
    )


def revoke(session: Session, token: str) -> None:
    record = session.exec(select(AuthToken).where(AuthToken.token_hash == _token_hash(token))).first()
    if record is not None:
        record.revoked = True
        session.add(record)
