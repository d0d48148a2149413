from __future__ import annotations

import datetime as dt
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from dispatch.validation import (
    City,
    Code,
    ExternalValue,
    HouseNumber,
    KeysafeCode,
    LongText,
    Name,
    Phone,
    Postcode,
    ShortText,
    Street,
    SystemName,
    documented,
    not_null,
)
from protocols.model import RISK_FLAGS, WISHES

# Dates with a lower bound: JSON Schema has no minimum for a date, so the bound's years are stated as a pattern.
BirthDate = Annotated[date, Field(ge=date(1890, 1, 1), le=date(2100, 1, 1)),
                      documented(pattern=r"^(189[0-9]|19[0-9]{2}|20[0-9]{2})-")]
ConsentDate = Annotated[dt.date, Field(ge=dt.date(1990, 1, 1)), documented(pattern=r"^(199[0-9]|[2-9][0-9]{3})-")]

# The client's recorded wishes and risk flags take part in triage (docs/protocol-format.md, "Vocabulary").
Wish = Literal[WISHES]  # type: ignore[valid-type]
RiskFlag = Literal[RISK_FLAGS]  # type: ignore[valid-type]
Wishes = Annotated[list[Wish], Field(max_length=len(WISHES), description="recorded wishes: " + ", ".join(WISHES))]
Risks = Annotated[list[RiskFlag], Field(max_length=len(RISK_FLAGS),
                                        description="known high risks: " + ", ".join(RISK_FLAGS))]


class ExternalIdIn(BaseModel):
    system: SystemName
    value: ExternalValue


class ClientIn(BaseModel):
    organisation: Code = Field(description="code of the client's home organisation")
    given_name: Name
    family_name: Name
    date_of_birth: BirthDate | None = None
    street: Street
    house_number: HouseNumber
    postcode: Postcode
    city: City
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    phones: list[Phone] = Field(default_factory=list, max_length=10)
    external_ids: list[ExternalIdIn] = Field(default_factory=list, max_length=10,
                                             json_schema_extra={"uniqueItems": True})
    access_notes: LongText = ""
    keysafe_code: KeysafeCode | None = Field(
        default=None, description="write-only: stored encrypted, never returned")
    consent_night_team: bool = True
    wishes: Wishes = Field(default_factory=list)
    risks: Risks = Field(default_factory=list)

    @field_validator("external_ids")
    @classmethod
    def _distinct_external_ids(cls, value: list[ExternalIdIn]) -> list[ExternalIdIn]:
        keys = [(e.system, e.value) for e in value]
        if len(set(keys)) != len(keys):
            raise ValueError("the same external id is listed twice")
        return value


class ClientPatch(BaseModel):
    """Only the fields sent change. null clears the date of birth, the key-safe code or (as [] does) the phones;
    the other fields cannot be cleared, so the schema does not allow null for them."""

    model_config = ConfigDict(json_schema_extra=not_null(
        "given_name", "family_name", "street", "house_number", "postcode", "city", "lat", "lon", "access_notes",
        "consent_night_team", "wishes", "risks"))
    given_name: Name | None = None
    family_name: Name | None = None
    date_of_birth: BirthDate | None = None
    street: Street | None = None
    house_number: HouseNumber | None = None
    postcode: Postcode | None = None
    city: City | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    phones: list[Phone] | None = Field(default=None, max_length=10)
    access_notes: LongText | None = None
    keysafe_code: KeysafeCode | None = None
    consent_night_team: bool | None = None
    wishes: Wishes | None = None
    risks: Risks | None = None


class ClientExternalOut(BaseModel):
    """One of the client's ids in a record system. (Named so that schemathesis' dependency analysis sees that
    `client_external_id` in a call refers to something the API hands out, and starts calls on its own.)"""

    system: str
    value: str


class ClientListItem(BaseModel):
    id: int
    organisation_id: int
    given_name: str
    family_name: str
    date_of_birth: date | None
    street: str
    house_number: str
    postcode: str
    city: str


class ClientOut(ClientListItem):
    lat: float
    lon: float
    phones: list[str]
    external_ids: list[ClientExternalOut]
    access_notes: str
    has_keysafe: bool
    consent_night_team: bool
    consent_night_team_date: date | None = None
    consent_night_team_source: str = ""
    consent_summary: bool = False
    consent_summary_date: date | None = None
    consent_summary_source: str = ""
    wishes: list[str] = Field(default_factory=list, description="empty when restricted")
    risks: list[str] = Field(default_factory=list, description="empty when restricted")
    restricted: bool = Field(default=False, description="true: the client has not consented to share the record "
                                                        "with the night team; identity, address and access "
                                                        "instructions only (break-glass opens the rest)")


class ImportProblem(BaseModel):
    row: int = Field(description="the line in the file (the header is line 1)")
    field: str = Field(description="the column at fault (`address`: the geocoder found no such address; "
                                   "`columns`: the row has the wrong number of cells)")
    reason: str
    external_id: str | None = None


class ImportedClient(BaseModel):
    row: int
    external_id: str
    action: Literal["created", "updated"]
    client_id: int | None = Field(description="empty for a client a dry run would create")
    fields: list[str] = Field(default_factory=list, description="what an update changes")


class ImportReport(BaseModel):
    dry_run: bool
    organisation: str
    system: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    problems: list[ImportProblem] = Field(default_factory=list)
    problems_not_listed: int = 0
    clients: list[ImportedClient] = Field(default_factory=list, description="the clients created or updated")


class ConsentIn(BaseModel):
    given: bool
    date: ConsentDate | None = Field(default=None, description="when the client gave (or refused) it")
    source: ShortText = Field(default="", description='e.g. "signed form", "verbal, recorded by J. Bakker"')


class ConsentsIn(BaseModel):
    night_team: ConsentIn = Field(description="share the record with the night team")
    summary: ConsentIn = Field(description="share the summary from the organisation's record system")


class ConsentOut(BaseModel):
    given: bool
    date: dt.date | None
    source: str
