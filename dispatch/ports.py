"""What dispatch needs from outside, as small interfaces; `adapters/` implements them (wired in app.py)."""
from __future__ import annotations

from typing import Protocol


class SmsFailed(Exception):
    """The SMS could not be sent (the provider refused or could not be reached)."""


class SmsSender(Protocol):
    def send(self, to: str, body: str) -> str:
        """Send `body` to the E.164 number `to`; returns the provider's message id or raises SmsFailed."""
        ...


class NoSms:
    """No SMS provider configured: every send fails, so the escalation alerts the operators instead."""

    def send(self, to: str, body: str) -> str:
        raise SmsFailed("no SMS provider is configured (NIGHTCARE_TWILIO_ACCOUNT_SID / _AUTH_TOKEN)")


class AddressNotFound(Exception):
    """The geocoder knows no such address."""


class GeocoderUnavailable(Exception):
    """The geocoder could not be asked (down, slow, or it answered something unreadable)."""


class Geocoder(Protocol):
    def locate(self, postcode: str, house_number: str, street: str | None = None,
               city: str | None = None) -> tuple[float, float]:
        """(lat, lon) of a Dutch address (postcode "9401 AB", house number "12a"); raises AddressNotFound or
        GeocoderUnavailable."""
        ...
