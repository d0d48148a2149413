"""Geocoders (dispatch.ports.Geocoder): PDOK Locatieserver for production, a local table for the demo and tests.

`make_geocoder(settings)` picks one from NIGHTCARE_GEOCODER (local | pdok; default: pdok in production, local
elsewhere)."""
from __future__ import annotations

import httpx

from dispatch.ports import Geocoder
from dispatch.settings import Settings


def make_geocoder(settings: Settings, *, transport: httpx.BaseTransport | None = None) -> Geocoder:
    if settings.resolved_geocoder == "pdok":
        from adapters.geocoding.pdok import PdokGeocoder

        return PdokGeocoder(settings.pdok_url, timeout_s=settings.geocoder_timeout_s, transport=transport)
    from adapters.geocoding.local import LocalTableGeocoder

    return LocalTableGeocoder.demo()
