from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from dispatch.columns import json_list_field, utc_field


class Client(SQLModel, table=True):
    __tablename__ = "clients"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisations.id", index=True)
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    date_of_birth: date | None = None
    street: str = Field(max_length=200)
    house_number: str = Field(max_length=20)
    postcode: str = Field(max_length=10)
    city: str = Field(max_length=100)
    lat: float
    lon: float
    access_notes: str = Field(default="", max_length=2000)
    # Fernet token; never returned by the API except through the key-safe reveal.
    keysafe_code_encrypted: str | None = Field(default=None, max_length=500)
    # A key safe is at the door (the code itself is entered apart, encrypted; an import only says "present").
    keysafe_present: bool = False
    # Consent, recorded by the client's own organisation (dispatch/clients/consent.py keeps the history):
    # share the record with the night team; share the summary from the organisation's record system.
    consent_night_team: bool = True
    consent_night_team_date: date | None = None
    consent_night_team_source: str = Field(default="", max_length=200)
    consent_summary: bool = False
    consent_summary_date: date | None = None
    consent_summary_source: str = Field(default="", max_length=200)
    # What takes part in triage (protocols/model.py: WISHES, RISK_FLAGS): e.g. do_not_hospitalise, anticoagulated.
    wishes: list[str] = json_list_field()
    risks: list[str] = json_list_field()
    created_at: datetime = utc_field(now=True)
    updated_at: datetime = utc_field(now=True)


class ClientPhone(SQLModel, table=True):
    __tablename__ = "client_phones"
    __table_args__ = (UniqueConstraint("client_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="clients.id", index=True)
    number: str = Field(max_length=20, index=True)  # E.164


class ClientExternalId(SQLModel, table=True):
    """The client's id in a partner's record system (e.g. the organisation's ECD)."""

    __tablename__ = "client_external_ids"
    __table_args__ = (UniqueConstraint("organisation_id", "system", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="clients.id", index=True)
    organisation_id: int = Field(foreign_key="organisations.id")
    system: str = Field(max_length=60)
    value: str = Field(max_length=100)


class ClientConsent(SQLModel, table=True):
    """One recorded consent decision (append-only: the database refuses UPDATE and DELETE). The current state
    is on the client (`consent_*`); this is its history."""

    __tablename__ = "client_consents"

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="clients.id", index=True)
    kind: str = Field(max_length=20)  # night_team | summary
    given: bool
    consent_date: date | None = None
    source: str = Field(default="", max_length=200)  # e.g. "signed form", "verbal, recorded by J. Bakker"
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = utc_field(now=True)
