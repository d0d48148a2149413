"""The live channel to the nurses' phones: a persisted outbox with a sequence number per nurse."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from dispatch.columns import utc_field


class NurseChannel(SQLModel, table=True):
    """Per nurse: the last sequence number handed out, and the last one her phone acknowledged."""

    __tablename__ = "nurse_channels"

    nurse_id: int = Field(foreign_key="nurses.id", primary_key=True)
    last_seq: int = 0
    acked_seq: int = 0
    acked_at: datetime | None = utc_field(nullable=True)


class OutboxMessage(SQLModel, table=True):
    """One message to one nurse's phone. Written in the transaction that caused it; kept for replay."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("nurse_id", "seq", name="uq_outbox_nurse_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    nurse_id: int = Field(foreign_key="nurses.id", index=True)
    seq: int
    kind: str = Field(max_length=30)  # job.offered | job.updated | job.cancelled | plan.changed
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = utc_field(now=True)


class VisitDecline(SQLModel, table=True):
    """A nurse declined a job (or did not answer in time): it is not offered to her again."""

    __tablename__ = "visit_declines"

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visits.id", index=True)
    nurse_id: int = Field(foreign_key="nurses.id")
    reason: str = Field(max_length=500)
    by: str = Field(max_length=80)  # username, or "escalation"
    at: datetime = utc_field(now=True)


class Alert(SQLModel, table=True):
    """Something the operators must see: a job nobody accepted, an SMS that failed."""

    __tablename__ = "alerts"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(now=True, index=True)
    kind: str = Field(max_length=40)
    visit_id: int | None = Field(default=None, foreign_key="visits.id")
    nurse_id: int | None = Field(default=None, foreign_key="nurses.id")
    message: str = Field(max_length=500)
    resolved_at: datetime | None = utc_field(nullable=True)
    resolved_by: str | None = Field(default=None, max_length=80)
