from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from dispatch.columns import json_list_field, utc_field


class Visit(SQLModel, table=True):
    """A visit by a night nurse: a planned night visit with a window, or an acute visit from a call."""

    __tablename__ = "visits"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # planned | acute
    client_id: int = Field(foreign_key="clients.id", index=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    call_id: int | None = Field(default=None, foreign_key="calls.id", index=True)
    window_start: datetime = utc_field(index=True)
    window_end: datetime = utc_field()
    service_minutes: int = 15
    skills: list[str] = json_list_field()
    nurse_id: int | None = Field(default=None, foreign_key="nurses.id", index=True)
    state: str = Field(default="open", max_length=20, index=True)
    notes: str = Field(default="", max_length=2000)
    external_ref: str | None = Field(default=None, max_length=120, unique=True)
    created_at: datetime = utc_field(now=True)
    urgency: str | None = Field(default=None, max_length=2)  # acute visits: the triage's final urgency
    locked: bool = False  # an operator fixed the nurse by hand
    eta: datetime | None = utc_field(nullable=True)  # the plan's arrival time
    decision_id: int | None = Field(default=None, foreign_key="assignment_decisions.id")
    on_scene_at: datetime | None = utc_field(nullable=True)
    # The nurse's phone (dispatch/responders): offered → accepted → en route → on scene → completed.
    offered_at: datetime | None = utc_field(nullable=True)  # offered to the current nurse
    sms_at: datetime | None = utc_field(nullable=True)  # the offer went out by SMS as well
    accepted_at: datetime | None = utc_field(nullable=True)
    completed_at: datetime | None = utc_field(nullable=True)
    handover_note: str = Field(default="", max_length=4000)


class Observation(SQLModel, table=True):
    """Observations a nurse records on a visit, with their NEWS2 score."""

    __tablename__ = "observations"

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visits.id", index=True)
    recorded_at: datetime = utc_field(now=True)
    recorded_by: str = Field(max_length=80)
    respiration_rate: int
    spo2: int
    spo2_scale: int = 1
    on_oxygen: bool
    systolic_bp: int
    pulse: int
    consciousness: str = Field(max_length=20)
    temperature: float
    news2_total: int
    news2_risk: str = Field(max_length=20)
