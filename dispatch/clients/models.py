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
    consent_night_team: bool = True
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
