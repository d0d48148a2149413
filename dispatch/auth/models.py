from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from dispatch.columns import utc_field


class Role(StrEnum):
    operator = "operator"
    nurse = "nurse"
    partner = "partner"
    coordinator = "coordinator"


class Team(StrEnum):
    """The triage team an operator works in: the region's own, or a partner's backup team that takes calls
    handed to it in peaks and calamities."""

    regional = "regional"
    backup = "backup"


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True, index=True)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=20)
    organisation_id: int | None = Field(default=None, foreign_key="organisations.id")
    nurse_id: int | None = Field(default=None, foreign_key="nurses.id")
    team: str = Field(default=Team.regional.value, max_length=20)  # operators: regional | backup
    # A clinician may draft protocol versions and sign them off for publication (any role may carry the flag).
    clinician: bool = False
    profession: str = Field(default="", max_length=80)  # e.g. "GP", "nurse practitioner": recorded on sign-offs
    full_name: str = Field(default="", max_length=120)  # the name recorded on sign-offs (else the username)
    active: bool = True
    created_at: datetime = utc_field(now=True)


class AuthToken(SQLModel, table=True):
    """Opaque bearer tokens; only their SHA-256 is stored, so a database dump holds no usable token."""

    __tablename__ = "auth_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = utc_field(now=True)
    expires_at: datetime = utc_field()
    revoked: bool = False
