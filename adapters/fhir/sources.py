"""Which record source serves which organisation: NIGHTCARE_FHIR_SOURCES, and outside production the demo record
systems for the organisations without one. Sources are kept (an OAuth2 token and what a server offers are learnt
once)."""
from __future__ import annotations

import threading

from adapters.fhir.client import FhirRecordSource
from adapters.fhir.demo_server import demo_sources
from dispatch.ports import RecordSource
from dispatch.settings import Settings


class FhirSources:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._made: dict[tuple[str, str], FhirRecordSource] = {}
        self._lock = threading.Lock()

    def for_organisation(self, code: str, name: str, *, base_url: str) -> RecordSource | None:
        """The organisation's record source, or None when it has none. `base_url`: where this service was reached
        (the demo record systems are served by the service itself), unless NIGHTCARE_DEMO_FHIR_BASE_URL says."""
        configured = self.settings.fhir_sources.get(code)
        demo_base = ""
        if configured is None:
            if self.settings.environment == "production":
                return None
            demo_base = self.settings.demo_fhir_base_url or base_url
            configured = demo_sources(self.settings, demo_base, [code])[code]
        with self._lock:
            key = (code, demo_base)
            if key not in self._made:
                self._made[key] = FhirRecordSource(configured, name=configured.name or name,
                                                   timeout_s=self.settings.record_timeout_s)
            return self._made[key]
