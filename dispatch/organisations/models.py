from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from dispatch.columns import utc_field


class Organisation(SQLModel, table=True):
    __tablename__ = "organisations"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    created_at: datetime = utc_field(now=True)
