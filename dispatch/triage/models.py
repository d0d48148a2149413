from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from dispatch.columns import json_list_field, utc_field


class Triage(SQLModel, table=True):
    """One run of the protocol on a call. A re-triage supersedes the previous run, which is kept."""

    __tablename__ = "triages"

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="calls.id", index=True)
    protocol_id: str = Field(max_length=80)
    protocol_version: int
    complaint: str = Field(max_length=80)
    answers: list[list[str]] = json_list_field()  # [[node, answer], ...] in order
    signals: list[str] = json_list_field()  # set by the operator or detected (second call)
    state: str = Field(default="in_progress", max_length=20)  # in_progress | decided | superseded
    computed: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    final_urgency: str | None = Field(default=None, max_length=2)
    final_disposition: str | None = Field(default=None, max_length=20)
    override_reason: str = Field(default="", max_length=1000)
    advice_given: str = Field(default="", max_length=2000)
    started_at: datetime = utc_field(now=True)
    started_by: str = Field(max_length=80)
    decided_at: datetime | None = utc_field(nullable=True)
    decided_by: str | None = Field(default=None, max_length=80)
