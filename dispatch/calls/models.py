from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from dispatch.columns import utc_field


class Call(SQLModel, table=True):
    __tablename__ = "calls"
    # Intake is idempotent on the source's own id. `origin` namespaces refs that only one sender
    # controls (a partner system's refs are its own), so one partner cannot collide with another's.
    __table_args__ = (UniqueConstraint("source", "origin", "source_ref", name="uq_calls_source_ref"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=20)
    origin: str = Field(default="", max_length=40)
    source_ref: str = Field(max_length=120)
    caller_phone: str | None = Field(default=None, max_length=40)
    client_id: int | None = Field(default=None, foreign_key="clients.id", index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisations.id", index=True)
    client_match: str = Field(default="none", max_length=20)
    text: str = Field(default="", max_length=4000)
    # Projection of the last event's `to_state`, written only by calls.service.transition.
    state: str = Field(default="received", max_length=20, index=True)
    received_at: datetime = utc_field(now=True, index=True)
    created_by_user_id: int | None = Field(default=None, foreign_key="users.id")
    phone_status: str | None = Field(default=None, max_length=20)  # Twilio's CallStatus, from status callbacks
    # The triage team handling it: the region's own, or the backup team it was handed to (calls/overflow.py).
    team: str = Field(default="regional", max_length=20, index=True)


class CallEscalation(SQLModel, table=True):
    """An operator called 112 or the GP out-of-hours post about the call: when, whom, what was agreed."""

    __tablename__ = "call_escalations"

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="calls.id", index=True)
    to: str = Field(max_length=20)  # call_112 | gp_post
    called_at: datetime = utc_field()
    contact: str = Field(max_length=200)  # who was spoken to (e.g. "112 dispatcher, ref 4711")
    note: str = Field(default="", max_length=1000)
    by: str = Field(max_length=80)
    recorded_at: datetime = utc_field(now=True)


class Overflow(SQLModel, table=True):
    """The coordinator sends every new call to the backup triage team until a moment (a calamity, a peak)."""

    __tablename__ = "overflow"

    id: int | None = Field(default=None, primary_key=True)
    backup_until: datetime | None = utc_field(nullable=True)
    reason: str = Field(default="", max_length=200)
    set_by: str = Field(max_length=80)
    set_at: datetime = utc_field(now=True)


class CallEvent(SQLModel, table=True):
    __tablename__ = "call_events"
    __table_args__ = (UniqueConstraint("call_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="calls.id", index=True)
    seq: int
    at: datetime = utc_field(now=True)
    actor_user_id: int | None = Field(default=None, foreign_key="users.id")
    actor: str = Field(max_length=120)
    actor_role: str = Field(max_length=20)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str = Field(max_length=20)
    reason: str = Field(default="", max_length=1000)
