from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from dispatch.columns import utc_field


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
