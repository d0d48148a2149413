from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dispatch.auth.models import Team
from dispatch.calls.lifecycle import CallState
from dispatch.validation import (
    Code,
    Contact,
    ExternalValue,
    LongText,
    Moment,
    RawPhone,
    Ref,
    ShortText,
    SystemName,
    not_blank,
)


class CallSource(StrEnum):
    phone = "phone"
    alarm = "alarm"
    partner = "partner"
    manual = "manual"


class CallIn(BaseModel):
    # source_ref is required (and not null) except for manual entry.
    model_config = ConfigDict(json_schema_extra={
        "if": {"properties": {"source": {"const": "manual"}}},
        "else": {"required": ["source_ref"], "properties": {"source_ref": {"type": "string"}}}})

    source: CallSource
    source_ref: Ref | None = Field(
        default=None, description="the source's own id; retries with the same id return the same call. "
                                  "Required except for manual entry")
    caller_phone: RawPhone | None = Field(default=None, description="caller id as received")
    client_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    organisation: Code | None = Field(default=None, description="organisation code (partner calls, external ids)")
    client_external_id: ExternalValue | None = None
    client_external_system: SystemName | None = None
    text: LongText = ""


class TransitionIn(BaseModel):
    # Cancelling needs a reason.
    model_config = ConfigDict(json_schema_extra={
        "if": {"properties": {"to": {"const": "cancelled"}}},
        "then": {"required": ["reason"], "properties": {"reason": {"pattern": not_blank()}}}})

    to: CallState
    reason: ShortText = ""


class HandoverIn(BaseModel):
    to: Team = Field(description="backup: to the backup triage team; regional: back to the region's own")
    reason: ShortText = ""


class EscalationIn(BaseModel):
    to: Literal["call_112", "gp_post"]
    called_at: Moment | None = Field(default=None, description="when the call was made (default: now)")
    contact: Contact = Field(description="who was spoken to, e.g. '112 dispatcher, ref 4711'")
    note: LongText = Field(default="", description="what was agreed")


class EscalationOut(BaseModel):
    to: str
    called_at: datetime
    contact: str
    note: str
    by: str


class OverflowIn(BaseModel):
    backup_until: Moment | None = Field(description="new calls go to the backup team until then; null stops it")
    reason: ShortText = ""


class OverflowOut(BaseModel):
    backup_until: datetime | None
    reason: str
    set_by: str | None
    set_at: datetime | None


class IdentifyIn(BaseModel):
    client_id: int = Field(ge=1, le=2**31 - 1)
    reason: ShortText = Field(default="", description="required when correcting an earlier match")


class CallEventOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    actor_role: str
    from_state: str | None
    to_state: str
    reason: str


class CallOut(BaseModel):
    id: int
    source: str
    source_ref: str
    caller_phone: str | None
    client_id: int | None
    organisation_id: int | None
    client_match: str
    text: str
    state: str
    received_at: datetime
    team: str
    allowed_transitions: list[str]
    events: list[CallEventOut] = Field(default_factory=list)
