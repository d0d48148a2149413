"""The insight API's shapes (the figures are described in docs/insight.md)."""
from __future__ import annotations

from pydantic import BaseModel, Field


class UrgencyCounts(BaseModel):
    U0: int
    U1: int
    U2: int
    U3: int
    U4: int
    U5: int
    untriaged: int


class OutcomeCounts(BaseModel):
    visit: int
    escalated: int
    deferred: int
    advice: int
    untriaged: int


class Response(BaseModel):
    calls: int = Field(description="calls of this urgency (current triage)")
    nurse_sent: int
    responses: int = Field(description="calls a nurse reached: the responses measured")
    no_arrival: int = Field(description="calls a nurse was sent to and did not reach within the target")
    under_way: int = Field(description="calls a nurse was sent to, not reached yet, whose target has not passed")
    p50_s: int | None = Field(description="median response, seconds from the call to the nurse on scene")
    p90_s: int | None
    target_min: int = Field(description="the region's target for this urgency")
    within_target: int
    within_target_share: float | None


class Responses(BaseModel):
    U0: Response
    U1: Response
    U2: Response
    U3: Response


class Hour(BaseModel):
    hour: int = Field(ge=0, le=23, description="local hour of the night (region's time zone)")
    label: str
    calls: int
    by_urgency: UrgencyCounts
    by_outcome: OutcomeCounts
    responses: int
    p50_s: int | None


class OrganisationFigures(BaseModel):
    organisation: str
    name: str
    calls: int
    by_urgency: UrgencyCounts
    by_outcome: OutcomeCounts
    responses: Responses


class NurseUse(BaseModel):
    shift_minutes: int
    travel_minutes: int
    care_minutes: int
    busy_share: float | None


class NamedNurseUse(NurseUse):
    nurse: str


class Utilisation(BaseModel):
    team: NurseUse
    nurses: list[NamedNurseUse]


class KpisOut(BaseModel):
    from_: str = Field(alias="from", description="first night, YYYY-MM-DD")
    to: str
    nights: int
    period_start: str
    period_end: str
    time_zone: str
    handover_at: str
    generated_at: str
    last_finished_night: str
    current_night: str
    complete: bool = Field(description="false while the last night of the period is still going on")
    scope: str = Field(description="region (coordinator) or organisation (a partner's own calls)")
    targets_min: dict[str, int]
    calls: int
    by_urgency: UrgencyCounts
    by_outcome: OutcomeCounts
    responses: Responses
    hours: list[Hour]
    organisations: list[OrganisationFigures]
    utilisation: Utilisation | None
