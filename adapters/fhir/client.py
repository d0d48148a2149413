"""`FhirRecordSource`: one organisation's FHIR R4 record system, read over httpx, every resource validated by
fhir.resources (R4B models). httpx and validation errors become `SourceUnavailable` here, at the boundary.

The whole fetch (sign-in, finding the patient, the summary or the searches) shares one deadline,
`timeout_s`. The patient is looked up with a POST search (`Patient/_search`), so the client's identifier stays out
of URLs and therefore out of access logs; credentials travel only in headers and request bodies."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

import httpx
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from adapters.fhir.translate import summarise
from dispatch.ports import RecordSummary, SourceUnavailable
from dispatch.settings import FhirSource
from dispatch.timeutil import utcnow

FHIR_JSON = "application/fhir+json"
# The searches when the server does not offer $summary: (resource type, extra parameters).
SEARCHES: tuple[tuple[str, dict[str, str]], ...] = (
    ("Flag", {"status": "active"}),
    ("Condition", {}),
    ("MedicationStatement", {}),
    ("MedicationRequest", {"status": "active"}),
    ("AllergyIntolerance", {}),
    ("CarePlan", {"status": "active"}),
    ("RelatedPerson", {}),
    ("Observation", {"_sort": "-date", "_count": "5"}),
)
NO_OPERATION = {400, 404, 405, 501}


class FhirRecordSource:
    def __init__(self, source: FhirSource, *, name: str, timeout_s: float, transport: httpx.BaseTransport | None = None,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.source, self.name, self.timeout_s, self.now = source, name, timeout_s, now
        self._transport = transport  # tests: httpx.MockTransport
        self._lock = threading.Lock()
        self._access_token: tuple[str, float] | None = None  # OAuth2: (token, monotonic expiry)
        self.offers_summary: bool | None = None  # learnt on the first try of $summary

    def summary(self, identifiers: Sequence[tuple[str, str]]) -> RecordSummary:
        if not identifiers:
            raise SourceUnavailable(f"the record system of {self.name} has no identifier for this client")
        deadline = time.monotonic() + self.timeout_s
        try:
            with httpx.Client(base_url=self.source.base_url.rstrip("/") + "/", transport=self._transport,
                              headers={"Accept": FHIR_JSON}, follow_redirects=False) as http:
                fetch = _Fetch(self, http, deadline)
                resources = fetch.run(identifiers)
        except httpx.TimeoutException:
            raise SourceUnavailable(f"the record system of {self.name} is unreachable (no answer within "
                                    f"{self.timeout_s:g} s)") from None
        except httpx.HTTPStatusError as exc:
            raise SourceUnavailable(f"the record system of {self.name} is unreachable (it answered "
                                    f"{exc.response.status_code})") from None
        except httpx.HTTPError:
            raise SourceUnavailable(f"the record system of {self.name} is unreachable") from None
        except ValidationError as exc:
            where = exc.errors()[0]["loc"] if exc.errors() else ()
            raise SourceUnavailable(f"the record system of {self.name} sent an invalid FHIR resource "
                                    f"({'.'.join(str(p) for p in where)})") from None
        except ValueError:  # not JSON, or not the resource asked for
            raise SourceUnavailable(f"the record system of {self.name} sent something that is not FHIR") from None
        return summarise(resources, source=self.name, fetched_at=self.now())

    # --- credentials -----------------------------------------------------------------------------------------------

    def auth_header(self, http: httpx.Client, timeout: float) -> dict[str, str]:
        if self.source.token is not None:
            return {"Authorization": f"Bearer {self.source.token.get_secret_value()}"}
        if not self.source.client_id:
            return {}
        with self._lock:
            if self._access_token and self._access_token[1] > time.monotonic():
                return {"Authorization": f"Bearer {self._access_token[0]}"}
        secret = self.source.client_secret.get_secret_value() if self.source.client_secret else ""
        r = http.post(self.source.token_url, timeout=timeout,
                      data={"grant_type": "client_credentials", "client_id": self.source.client_id,
                            "client_secret": secret})
        r.raise_for_status()
        body = r.json()
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise ValueError("no access_token in the token response")
        expires_in = float(body.get("expires_in") or 300)
        with self._lock:
            self._access_token = (body["access_token"], time.monotonic() + max(0.0, expires_in - 30))
        return {"Authorization": f"Bearer {body['access_token']}"}


class _Fetch:
    """One summary fetch: every request within the deadline, every answer parsed as a FHIR Bundle."""

    def __init__(self, source: FhirRecordSource, http: httpx.Client, deadline: float) -> None:
        self.source, self.http, self.deadline = source, http, deadline
        self.headers = source.auth_header(http, self._left())

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise httpx.TimeoutException("the fetch's deadline passed")
        return left

    def _bundle(self, r: httpx.Response) -> Bundle:
        r.raise_for_status()
        bundle = Bundle.model_validate(r.json())  # validates every resource inside (fhir.resources)
        return bundle

    def run(self, identifiers: Sequence[tuple[str, str]]) -> list:
        patient_id = self._patient(identifiers)
        if self.source.offers_summary is not False:
            r = self.http.get(f"Patient/{patient_id}/$summary", headers=self.headers, timeout=self._left())
            if r.status_code in NO_OPERATION:
                self.source.offers_summary = False
            else:
                self.source.offers_summary = True
                return [e.resource for e in self._bundle(r).entry or () if e.resource is not None]
        resources: list = []
        for kind, params in SEARCHES:
            r = self.http.get(kind, params={"patient": patient_id, **params}, headers=self.headers,
                              timeout=self._left())
            resources += [e.resource for e in self._bundle(r).entry or ()
                          if e.resource is not None and e.resource.get_resource_type() == kind]
        return resources

    def _patient(self, identifiers: Sequence[tuple[str, str]]) -> str:
        systems = self.source.source.identifier_systems
        for system, value in identifiers:
            r = self.http.post("Patient/_search", data={"identifier": f"{systems.get(system, system)}|{value}"},
                               headers=self.headers, timeout=self._left())
            patients = [e.resource for e in self._bundle(r).entry or ()
                        if e.resource is not None and e.resource.get_resource_type() == "Patient"]
            if len(patients) == 1 and patients[0].id:
                return patients[0].id
            if len(patients) > 1:
                raise SourceUnavailable(f"the record system of {self.source.name} holds more than one patient "
                                        "with this client's identifier")
        raise SourceUnavailable(f"the record system of {self.source.name} has no record of this client")
