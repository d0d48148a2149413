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


class InboundSms(SQLModel, table=True):
    """An SMS reply a nurse sent (Twilio's MessageSid): a reply is acted on once, however often it is delivered."""

    __tablename__ = "inbound_sms"

    message_sid: str = Field(primary_key=True, max_length=40)
    nurse_id: int | None = Field(default=None, foreign_key="nurses.id")
    at: datetime = utc_field(now=True)
