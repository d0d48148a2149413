"""PDOK Locatieserver (the Dutch national geocoder, over the BAG address register): its free search.

    GET {base}/free?q=9401AB 12a&fq=type:adres&fl=...&rows=5
    → {"response": {"numFound": n, "docs": [{"type": "adres", "postcode": "9401AB", "huisnummer": 12,
        "huisletter": "A", "huisnummertoevoeging": ..., "centroide_ll": "POINT(6.56 52.99)", ...}]}}

The free search is fuzzy (it answers with the nearest match it can find), so a document counts only when its
postcode and house number are the ones asked for. httpx errors, timeouts, 4xx/5xx and unreadable answers are
translated here into GeocoderUnavailable; no match is AddressNotFound."""
from __future__ import annotations

import logging
import re

import httpx

from dispatch.ports import AddressNotFound, GeocoderUnavailable

log = logging.getLogger("nightcare.geocoding")

PDOK_URL = "https://api.pdok.nl/bzk/locatieserver/search/v3_1"
FIELDS = "type,weergavenaam,postcode,huisnummer,huisletter,huisnummertoevoeging,huis_nlt,centroide_ll"
_POINT = re.compile(r"^POINT\(\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)\s*\)$")
_NUMBER = re.compile(r"^(\d+)\s*-?\s*(.*)$")


def parse_point(wkt: str) -> tuple[float, float]:
    """'POINT(lon lat)' → (lat, lon)."""
    match = _POINT.match(wkt.strip())
    if not match:
        raise ValueError(f"not a WKT point: {wkt[:60]!r}")
    return float(match.group(2)), float(match.group(1))


class PdokGeocoder:
    """dispatch.ports.Geocoder over PDOK Locatieserver."""

    def __init__(self, base_url: str = PDOK_URL, *, timeout_s: float = 5.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport,
                                  headers={"Accept": "application/json"})

    def close(self) -> None:
        self._http.close()

    def locate(self, postcode: str, house_number: str, street: str | None = None,
               city: str | None = None) -> tuple[float, float]:
        pc6 = postcode.replace(" ", "").upper()
        number = _NUMBER.match(house_number.strip())
        if number is None:
            raise AddressNotFound(f"house number {house_number!r} does not start with a number")
        wanted_number, wanted_suffix = int(number.group(1)), number.group(2).replace(" ", "").upper()
        params = {"q": f"{pc6} {house_number.strip()}", "fq": "type:adres", "fl": FIELDS, "rows": "5"}
        try:
            answer = self._http.get("/free", params=params)
            answer.raise_for_status()
            docs = answer.json()["response"]["docs"]
        except httpx.TimeoutException:
            raise GeocoderUnavailable("PDOK Locatieserver did not answer in time") from None
        except httpx.HTTPStatusError as exc:
            raise GeocoderUnavailable(f"PDOK Locatieserver answered {exc.response.status_code}") from None
        except httpx.HTTPError as exc:
            raise GeocoderUnavailable(f"PDOK Locatieserver could not be reached ({type(exc).__name__})") from None
        except (ValueError, KeyError, TypeError):
            raise GeocoderUnavailable("PDOK Locatieserver answered something unreadable") from None
        for doc in docs if isinstance(docs, list) else []:
            if not isinstance(doc, dict) or doc.get("type") != "adres":
                continue
            if str(doc.get("postcode", "")).upper() != pc6 or doc.get("huisnummer") != wanted_number:
                continue
            suffix = (str(doc.get("huisletter") or "") + str(doc.get("huisnummertoevoeging") or "")).upper()
            if suffix != wanted_suffix:
                continue
            try:
                return parse_point(str(doc.get("centroide_ll", "")))
            except ValueError:
                raise GeocoderUnavailable("PDOK Locatieserver answered an unreadable point") from None
        raise AddressNotFound(f"PDOK Locatieserver knows no address {postcode} {house_number}")
