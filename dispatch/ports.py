"""What dispatch needs from outside, as small interfaces; `adapters/` implements them (wired in app.py)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Protocol


class SmsFailed(Exception):
    """The SMS could not be sent (the provider refused or could not be reached)."""


class SmsNotConfigured(SmsFailed):
    """No SMS provider is configured: not a failure of one message, but of the set-up (one alert a night)."""


class SmsSender(Protocol):
    def send(self, to: str, body: str) -> str:
        """Send `body` to the E.164 number `to`; returns the provider's message id or raises SmsFailed."""
        ...


class NoSms:
    """No SMS provider configured: every send fails, so the escalation alerts the operators instead."""

    def send(self, to: str, body: str) -> str:
        raise SmsNotConfigured("no SMS provider is configured (NIGHTCARE_TWILIO_ACCOUNT_SID / _AUTH_TOKEN)")


class AddressNotFound(Exception):
    """The geocoder knows no such address."""


class GeocoderUnavailable(Exception):
    """The geocoder could not be asked (down, slow, or it answered something unreadable)."""


class Geocoder(Protocol):
    def locate(self, postcode: str, house_number: str, street: str | None = None,
               city: str | None = None) -> tuple[float, float]:
        """(lat, lon) of a Dutch address (postcode "9401 AB", house number "12a"); raises AddressNotFound or
        GeocoderUnavailable."""


# --- Partner record systems -------------------------------------------------------------------------------------


class SourceUnavailable(Exception):
    """The client's record system could not give a summary (down, slow, refused, no record, invalid answer).

    `str(exc)` is a short reason fit to show a nurse; it never carries a credential."""


@dataclass(frozen=True)
class RecordAlert:
    kind: str  # do_not_resuscitate | infection_risk | aggression | other
    text: str


@dataclass(frozen=True)
class RecordContact:
    name: str
    relationship: str = ""
    phone: str = ""


@dataclass(frozen=True)
class RecordSummary:
    """What a night nurse needs from the client's own record, alerts first. Plain data (no FHIR types)."""

    source: str
    fetched_at: datetime
    alerts: tuple[RecordAlert, ...] = ()
    problems: tuple[str, ...] = ()
    medication: tuple[str, ...] = ()
    allergies: tuple[str, ...] = ()
    care_plan: tuple[str, ...] = ()
    contacts: tuple[RecordContact, ...] = ()
    observations: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        data = asdict(self)
        data["fetched_at"] = self.fetched_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> RecordSummary:
        return cls(source=data["source"], fetched_at=datetime.fromisoformat(data["fetched_at"]),
                   alerts=tuple(RecordAlert(**a) for a in data.get("alerts", ())),
                   problems=tuple(data.get("problems", ())), medication=tuple(data.get("medication", ())),
                   allergies=tuple(data.get("allergies", ())), care_plan=tuple(data.get("care_plan", ())),
                   contacts=tuple(RecordContact(**c) for c in data.get("contacts", ())),
                   observations=tuple(data.get("observations", ())))


class RecordSource(Protocol):
    name: str  # shown with the summary ("the record system of <name>")

    def summary(self, identifiers: Sequence[tuple[str, str]]) -> RecordSummary:
        """The summary of the client known to this source by one of `identifiers` ((system, value) pairs, the
        organisation's own ids for her); raises SourceUnavailable."""
        ...


class RecordSources(Protocol):
    def for_organisation(self, code: str, name: str, *, base_url: str) -> RecordSource | None:
        """The record source of the organisation with this code (None: it has none)."""
        ...
