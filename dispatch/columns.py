"""Column helpers shared by the domain models."""
from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field

from dispatch.db import UTCDateTime
from dispatch.timeutil import utcnow


def utc_field(*, nullable: bool = False, index: bool = False, now: bool = False) -> Any:
    kwargs: dict[str, Any] = {"default_factory": utcnow} if now else ({"default": None} if nullable else {})
    return Field(sa_column=Column(UTCDateTime(), nullable=nullable, index=index), **kwargs)


def json_list_field() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))
