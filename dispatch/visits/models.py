from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from dispatch.columns import json_list_field, utc_field


class Visit(SQLModel, table=True):
    """A visit by a night nurse: a planned night visit with a window, or an acute visit from a call."""

    __tablename__ = "visits"
    # A planning system's id is its own: unique within the organisation that sent it.
    __table_args__ = (UniqueConstraint("organisation_id", "external_ref", name="uq_visits_org_external_ref"),)

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
    # Projection of the last event's `to_state`, written only by visits.service.move (lifecycle.py).
    state: str = Field(default="open", max_length=20, index=True)
    notes: str = Field(default="", max_length=2000)
    external_ref: str | None = Field(default=None, max_length=120)
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


class VisitEvent(SQLModel, table=True):
    """Every move of a visit: who, when, which move, from and to which state and nurse, why. Append-only."""

    __tablename__ = "visit_events"

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visits.id", index=True)
    at: datetime = utc_field(now=True)
    actor_user_id: int | None = Field(default=None, foreign_key="users.id")
    actor: str = Field(max_length=120)
    actor_role: str = Field(max_length=20)
    move: str = Field(max_length=20)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str = Field(max_length=20)
    nurse_before: int | None = None
    nurse_id: int | None = None
    reason: str = Field(default="", max_length=1000)


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


class VisitDecline(SQLModel, table=True):
    """A nurse declined a job (`declined`: it is never offered to her again) or did not answer in time
    (`unanswered`: it goes to another nurse if one can take it, otherwise back to her)."""

    __tablename__ = "visit_declines"

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visits.id", index=True)
    nurse_id: int = Field(foreign_key="nurses.id")
    kind: str = Field(default="declined", max_length=20)  # declined | unanswered
    reason: str = Field(max_length=500)
    by: str = Field(max_length=80)  # username, or "escalation"
    at: datetime = utc_field(now=True)
