from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from dispatch.columns import utc_field


class Decision(SQLModel, table=True):
    """One assignment decision: what triggered it, the routing problem, and the plan (replayable)."""

    __tablename__ = "assignment_decisions"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field(now=True, index=True)  # the problem's now_s = 0 is this moment
    triggers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    problem: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    plan: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    solver: str = Field(max_length=40)
    status: str = Field(max_length=200)
    solve_ms: int
    decision_ms: int = 0  # state read + solve + apply
