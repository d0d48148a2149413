from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from dispatch.columns import utc_field


class HandoverPush(SQLModel, table=True):
    """One night's handover Bundle sent (or being sent) to an organisation's FHIR endpoint."""

    __tablename__ = "handover_pushes"
    __table_args__ = (UniqueConstraint("organisation_id", "night", name="uq_handover_pushes_org_night"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    night: date
    attempts: int = 0
    last_error: str = Field(default="", max_length=500)
    last_attempt_at: datetime | None = utc_field(nullable=True)
    next_attempt_at: datetime | None = utc_field(nullable=True)
    pushed_at: datetime | None = utc_field(nullable=True)
    clients: int = 0  # clients in the pushed Bundle
    created_at: datetime = utc_field(now=True)
