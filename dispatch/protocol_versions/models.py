"""Protocol versions and their governance: drafts (mutable), clinicians' sign-offs (append-only), published
versions (immutable: the database refuses UPDATE and DELETE on both of the latter)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from dispatch.columns import json_list_field, utc_field


class ProtocolVersion(SQLModel, table=True):
    """A published protocol version. Immutable: the database refuses UPDATE and DELETE."""

    __tablename__ = "protocol_versions"
    __table_args__ = (UniqueConstraint("protocol_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    protocol_id: str = Field(max_length=80, index=True)
    version: int
    title: str = Field(max_length=200)
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    sha256: str = Field(max_length=64)
    published_at: datetime = utc_field(now=True)
    published_by: str = Field(max_length=80)
    # Who drafted, reviewed and published it: {drafted_by: {name, profession, date}, reviewed_by: [{name,
    # profession, date, comment}], published_by, published_at, shipped?, statement?} (see governance.py).
    governance: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class DraftState(StrEnum):
    draft = "draft"  # open for review; its document may change (which voids earlier sign-offs)
    published = "published"  # its document is now a protocol version; the draft is kept as the record


class ProtocolDraft(SQLModel, table=True):
    """A version on its way to publication: changeable until published."""

    __tablename__ = "protocol_drafts"
    __table_args__ = (UniqueConstraint("protocol_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    protocol_id: str = Field(max_length=80, index=True)
    version: int
    title: str = Field(max_length=200)
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    sha256: str = Field(max_length=64)  # of the current document: sign-offs of another document do not count
    drafted_by: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))  # {name, profession, date}
    authors: list[str] = json_list_field()  # usernames who submitted or changed the document: none may sign it off
    state: str = Field(default=DraftState.draft.value, max_length=20)
    created_at: datetime = utc_field(now=True)
    updated_at: datetime = utc_field(now=True)
    updated_by: str = Field(max_length=80)


class ProtocolSignoff(SQLModel, table=True):
    """A clinician's sign-off of one draft's document (by its sha256). Append-only."""

    __tablename__ = "protocol_signoffs"
    __table_args__ = (UniqueConstraint("draft_id", "sha256", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="protocol_drafts.id", index=True)
    protocol_id: str = Field(max_length=80)
    version: int
    sha256: str = Field(max_length=64)
    user_id: int = Field(foreign_key="users.id")
    username: str = Field(max_length=80)
    name: str = Field(max_length=120)
    profession: str = Field(max_length=80)
    comment: str = Field(default="", max_length=2000)
    signed_at: datetime = utc_field(now=True)
