"""Twilio: SMS out (through the real SDK) and the signature check on Twilio's webhooks.

The SDK's `Client` takes an injectable HTTP client (`twilio.http.HttpClient`); the service passes none (the
SDK's own), tests pass one that records requests and answers like Twilio's API, so the real SDK builds and
signs every request and nothing leaves the machine. Twilio errors are translated here into `SmsFailed`.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping

from requests import RequestException
from twilio.base.exceptions import TwilioException
from twilio.http import HttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from dispatch.ports import SmsFailed

log = logging.getLogger("nightcare.twilio")


class TwilioSms:
    """dispatch.ports.SmsSender over Twilio's Messages API."""

    def __init__(self, account_sid: str, auth_token: str, from_number: str, *,
                 http_client: HttpClient | None = None) -> None:
        self._client = Client(account_sid, auth_token, http_client=http_client)
        self._from = from_number

    def send(self, to: str, body: str) -> str:
        try:
            message = self._client.messages.create(to=to, from_=self._from, body=body)
        except TwilioException as exc:
            # The exception text can carry the request; log its kind only, never the body.
            log.warning("SMS to a nurse failed: %s", type(exc).__name__)
            raise SmsFailed(f"Twilio refused the SMS ({type(exc).__name__})") from None
        except (RequestException, OSError) as exc:  # Twilio unreachable: no network, DNS, timeout
            log.warning("SMS to a nurse failed: Twilio unreachable (%s)", type(exc).__name__)
            raise SmsFailed(f"Twilio could not be reached ({type(exc).__name__})") from None
        return str(message.sid)


def signature_valid(auth_token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    """Twilio's X-Twilio-Signature over the full URL and the POSTed form parameters."""
    return bool(signature) and RequestValidator(auth_token).validate(url, dict(params), signature)
