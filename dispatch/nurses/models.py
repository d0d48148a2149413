from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from dispatch.columns import json_list_field, utc_field


class Nurse(SQLModel, table=True):
    __tablename__ = "nurses"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    phone: str = Field(max_length=20)  # E.164
    skills: list[str] = json_list_field()
    active: bool = True
    created_at: datetime = utc_field(now=True)
    # Live state during a shift.
    available: bool = True  # false: temporarily unavailable (break, car trouble, long job)
    lat: float | None = None
    lon: float | None = None
    position_at: datetime | None = utc_field(nullable=True)


class Shift(SQLModel, table=True):
    __tablename__ = "shifts"

    id: int | None = Field(default=None, primary_key=True)
    nurse_id: int = Field(foreign_key="nurses.id", index=True)
    starts_at: datetime = utc_field(index=True)
    ends_at: datetime = utc_field()
    # planned -> started (bag checked, on duty) -> ended
    state: str = Field(default="planned", max_length=20)
    external_ref: str | None = Field(default=None, max_length=100, unique=True)
