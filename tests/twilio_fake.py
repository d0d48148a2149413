"""An HTTP client for the real Twilio SDK that records requests and answers like Twilio's API (nothing leaves
the machine). Also signs webhook requests the way Twilio does, for the webhook tests."""
from __future__ import annotations

import json
import logging
from typing import Any

import requests
from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "f" * 32


class RecordingTwilioHttp(HttpClient):
    def __init__(self, *, fail: bool = False) -> None:
        super().__init__(logging.getLogger("tests.twilio"), False)
        self.requests: list[dict[str, Any]] = []
        self.fail = fail
        self.unreachable = False  # as when the network or DNS is down: the SDK's transport raises

    def request(self, method: str, uri: str, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False) -> Response:
        self.requests.append({"method": method, "uri": uri, "data": dict(data or {}), "headers": dict(headers or {}),
                              "auth": auth})
        if self.unreachable:
            raise requests.ConnectionError("Failed to establish a new connection: [Errno -3] name resolution")
        if self.fail:
            return Response(400, json.dumps({"code": 21211, "message": "The 'To' number is not a valid phone number.",
                                             "status": 400}))
        sid = f"SM{len(self.requests):032x}"
        return Response(201, json.dumps({"sid": sid, "account_sid": ACCOUNT_SID, "to": (data or {}).get("To"),
                                         "from": (data or {}).get("From"), "body": (data or {}).get("Body"),
                                         "status": "queued"}))

    @property
    def bodies(self) -> list[str]:
        return [r["data"].get("Body", "") for r in self.requests]


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)
