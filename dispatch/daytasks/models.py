from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from dispatch.columns import utc_field


class DayTask(SQLModel, table=True):
    """Care deferred to the client's own day team ("defer to day team" outcome, night handover)."""

    __tablename__ = "day_tasks"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    client_id: int = Field(foreign_key="clients.id", index=True)
    call_id: int | None = Field(default=None, foreign_key="calls.id", index=True)
    summary: str = Field(max_length=2000)
    advice_given: str = Field(default="", max_length=4000)
    state: str = Field(default="open", max_length=10, index=True)  # open | done
    created_at: datetime = utc_field(now=True)
    done_at: datetime | None = utc_field(nullable=True)
    done_by: str | None = Field(default=None, max_length=80)
