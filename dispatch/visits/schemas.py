from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from dispatch.validation import (
    LongText,
    Moment,
    Ref,
    ShortText,
    Skill,
    documented,
    not_blank,
)


class PlannedVisitIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={
        "description": "`window_end` lies after `window_start`, at most two days later (else 422)"})

    client_id: int = Field(ge=1, le=2**31 - 1)
    window_start: Moment
    window_end: Moment
    service_minutes: int = Field(default=15, ge=1, le=480)
    skills: list[Skill] = Field(default_factory=list, max_length=10)
    notes: LongText = ""
    external_ref: Ref | None = Field(
        default=None, description="the planning system's id, unique within the organisation; a retry with the "
                                  "same id returns the same visit")

    @field_validator("window_end")
    @classmethod
    def _after_start(cls, window_end: datetime, info: ValidationInfo) -> datetime:
        """Named on window_end (a model validator's error names no field)."""
        window_start = info.data.get("window_start")
        if window_start is not None and window_end <= window_start:
            raise ValueError("window_end must be after window_start")
        if window_start is not None and (window_end - window_start).days > 2:
            raise ValueError("a night visit window spans at most two days")
        return window_end


class AssignIn(BaseModel):
    """An operator's assignment always sticks: the planner leaves the visit with this nurse until an operator
    releases or unlocks it, or the nurse declines."""

    model_config = ConfigDict(extra="forbid")
    nurse_id: int | None = Field(ge=1, le=2**31 - 1, description="the nurse; null hands the visit back to the planner")


class ReasonIn(BaseModel):
    reason: Annotated[ShortText, documented(pattern=not_blank(3), minLength=3)] = Field(
        description="why (in the visit's and the call's history), at least 3 characters")

    @field_validator("reason")
    @classmethod
    def _given(cls, value: str) -> str:
        if len(value.strip()) < 3:
            raise ValueError("a reason is needed (at least 3 characters)")
        return value.strip()


class OptionalReasonIn(BaseModel):
    reason: ShortText = ""


class MaterialIn(BaseModel):
    item_id: int = Field(ge=1, le=2**31 - 1)
    quantity: int = Field(ge=1, le=1000)


class ProgressIn(BaseModel):
    # The handover note and materials come with the completion (else 409).
    model_config = ConfigDict(json_schema_extra={
        "if": {"properties": {"state": {"const": "completed"}}},
        "else": {"properties": {"handover_note": {"maxLength": 0}, "materials": {"maxItems": 0}}}})

    state: Literal["en_route", "on_scene", "completed"]
    handover_note: LongText = Field(default="", description="for the client's day team (on completion)")
    materials: list[MaterialIn] = Field(default_factory=list, max_length=50)


class VisitOut(BaseModel):
    id: int
    kind: str
    client_id: int
    organisation_id: int
    call_id: int | None
    window_start: datetime
    window_end: datetime
    service_minutes: int
    skills: list[str]
    nurse_id: int | None
    state: str
    notes: str
    external_ref: str | None
    urgency: str | None
    locked: bool
    eta: datetime | None
    allowed_actions: list[str] = Field(description="what you may do with this visit now")
    actions_after: dict[str, dict] = Field(
        default_factory=dict, description="for each move you can make from here on: the state it leads to and what "
                                          "is allowed there (a phone without a connection goes on while its moves "
                                          "wait to be sent)")


class VisitEventOut(BaseModel):
    at: datetime
    actor: str
    actor_role: str
    move: str
    from_state: str | None
    to_state: str
    nurse_before: int | None
    nurse_id: int | None
    reason: str


class MaterialUsed(BaseModel):
    item_id: int
    name: str
    quantity: int
    recorded_by: str
    at: datetime


class VisitDetail(VisitOut):
    """A visit with what the nurse recorded: for the operators, the client's organisation and the nurse."""

    accepted_at: datetime | None
    on_scene_at: datetime | None
    completed_at: datetime | None
    handover_note: str
    materials: list[MaterialUsed]
    observations: list[dict]
    events: list[VisitEventOut]
