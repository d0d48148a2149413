from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from dispatch.columns import utc_field


class CostAgreement(SQLModel, table=True):
    """How the night team's cost is shared over a period of whole months (dispatch/costshare/service.py).

    One organisation runs the team and bears its cost (`monthly_cost_cents` a month); every participant's share
    follows from `weights` over the bases (fixed percentages in `shares`, clients in care, calls, visits, care or
    travel minutes). A single-basis model is a weight of 1 on it."""

    __tablename__ = "cost_agreements"

    id: int | None = Field(default=None, primary_key=True)
    first_month: date = Field(index=True)  # the first day of the first month
    last_month: date | None = None  # the first day of the last month (included); None: until further notice
    runner_organisation_id: int = Field(foreign_key="organisations.id")
    monthly_cost_cents: int
    model: str = Field(max_length=20)  # fixed | clients | calls | visits | care_minutes | travel_minutes | mix
    weights: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    shares: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))  # code → percent
    participants: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # org codes
    note: str = Field(default="", max_length=1000)
    created_by: str = Field(max_length=80)
    created_at: datetime = utc_field(now=True)
