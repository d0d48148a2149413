from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from dispatch.columns import utc_field


class Alert(SQLModel, table=True):
    """Something the operators must see and acknowledge: a job nobody accepted, an SMS that failed."""

    __tablename__ = "alerts"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(now=True, index=True)
    kind: str = Field(max_length=40)
    visit_id: int | None = Field(default=None, foreign_key="visits.id")
    nurse_id: int | None = Field(default=None, foreign_key="nurses.id")
    call_id: int | None = Field(default=None, foreign_key="calls.id")
    message: str = Field(max_length=500)
    resolved_at: datetime | None = utc_field(nullable=True)  # acknowledged by an operator
    resolved_by: str | None = Field(default=None, max_length=80)
