from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class AlertOut(BaseModel):
    kind: str  # do_not_resuscitate | infection_risk | aggression | other
    text: str


class ContactOut(BaseModel):
    name: str
    relationship: str = ""
    phone: str = ""


class NightTeamOut(BaseModel):
    """What nightcare itself holds about the client (shown whether or not her record system answers)."""

    access_notes: str = ""
    wishes: list[str] = []
    risks: list[str] = []


class SummaryOut(BaseModel):
    client_id: int
    available: bool
    reason: str | None = None  # why there is no summary ("the record system of … is unreachable")
    source: str = ""
    fetched_at: datetime | None = None
    cached: bool = False  # fetched earlier tonight
    alerts: list[AlertOut] = []
    problems: list[str] = []
    medication: list[str] = []
    allergies: list[str] = []
    care_plan: list[str] = []
    contacts: list[ContactOut] = []
    observations: list[str] = []
    night_team: NightTeamOut
