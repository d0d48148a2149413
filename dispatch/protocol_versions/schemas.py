"""The protocol versions' API shapes."""
from __future__ import annotations

from datetime import date as Date
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from dispatch.validation import Text

PersonName = Annotated[str, Text(120, 1)]
Profession = Annotated[str, Text(80)]
Comment = Annotated[str, Text(2000)]


class ComplaintOut(BaseModel):
    id: str
    title: str


class VersionOut(BaseModel):
    protocol_id: str
    version: int
    title: str
    sha256: str
    published_at: datetime
    published_by: str
    governance: dict[str, Any]


class CurrentOut(VersionOut):
    note: str
    complaints: list[ComplaintOut]
    pinned: bool = Field(description="NIGHTCARE_PROTOCOL_VERSION keeps this version in use")
    dispositions_for: dict[str, list[str]] = Field(
        description="which dispositions fit each urgency (the first is the default): what an override may choose")


class VersionDocumentOut(VersionOut):
    document: dict[str, Any]


class DraftedByIn(BaseModel):
    """Who drafted the version; by default the user submitting it (name, profession) and today."""

    name: PersonName
    profession: Profession = ""
    date: Date | None = None


class DraftIn(BaseModel):
    document: str | dict[str, Any] = Field(description="the protocol document, as YAML/JSON text or as an object",
                                           max_length=500_000)
    drafted_by: DraftedByIn | None = None


class DraftChangeIn(BaseModel):
    document: str | dict[str, Any] | None = Field(default=None, max_length=500_000,
                                                  description="the new document: earlier sign-offs no longer count")
    drafted_by: DraftedByIn | None = None


class SignoffIn(BaseModel):
    comment: Comment = ""
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$",
                               description="the document read (the draft's sha256): refused if it changed since")


class SignoffOut(BaseModel):
    name: str
    profession: str
    username: str
    comment: str
    signed_at: datetime
    date: str
    sha256: str
    valid: bool = Field(description="given for the draft's current document (a change voids it)")


class DraftOut(BaseModel):
    protocol_id: str
    version: int
    title: str
    sha256: str
    state: str
    drafted_by: dict[str, Any]
    authors: list[str]
    created_at: datetime
    updated_at: datetime
    updated_by: str
    signoffs: list[SignoffOut]
    signoffs_needed: int
    ready_to_publish: bool


class DraftDocumentOut(DraftOut):
    document: dict[str, Any]
