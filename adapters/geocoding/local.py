"""A geocoder from a local table: the demo region around Assen, and the tests (no network).

The table (CSV: postcode, house_number, city, lat, lon, radius_km) holds exact addresses (a full postcode and a
house number) and postcode areas (the four digits, no house number) with a centre and a radius. An address not
listed exactly is placed inside its postcode area (preferring the row of its city where an area is shared), at a
point derived from its postcode and house number: the same address always lands on the same spot. A postcode
with no row is not found.

`python -m adapters.geocoding.local` rewrites demo_addresses.csv from the demo region's places
(dispatch/seed/places.py)."""
from __future__ import annotations

import csv
import hashlib
import math
from functools import cache
from pathlib import Path

from dispatch.ports import AddressNotFound

DEMO_TABLE = Path(__file__).with_name("demo_addresses.csv")
COLUMNS = ("postcode", "house_number", "city", "lat", "lon", "radius_km")


def _pc6(postcode: str) -> str:
    return postcode.replace(" ", "").upper()


class LocalTableGeocoder:
    """dispatch.ports.Geocoder over an in-memory table."""

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self._exact: dict[tuple[str, str], tuple[float, float]] = {}
        self._areas: dict[str, list[tuple[str, float, float, float]]] = {}
        for row in rows:
            lat, lon = float(row["lat"]), float(row["lon"])
            if row.get("house_number"):
                self._exact[(_pc6(row["postcode"]), row["house_number"].strip().lower())] = (lat, lon)
            else:
                self._areas.setdefault(_pc6(row["postcode"])[:4], []).append(
                    (row.get("city", "").strip().lower(), lat, lon, float(row.get("radius_km") or 0.5)))

    @classmethod
    def from_csv(cls, path: Path) -> LocalTableGeocoder:
        with path.open(newline="", encoding="utf-8") as f:
            return cls(list(csv.DictReader(f)))

    @staticmethod
    @cache
    def demo() -> LocalTableGeocoder:
        return LocalTableGeocoder.from_csv(DEMO_TABLE)

    def locate(self, postcode: str, house_number: str, street: str | None = None,
               city: str | None = None) -> tuple[float, float]:
        pc6, number = _pc6(postcode), house_number.strip().lower()
        if (pc6, number) in self._exact:
            return self._exact[(pc6, number)]
        areas = self._areas.get(pc6[:4])
        if not areas:
            raise AddressNotFound(f"no address {postcode} {house_number} in the local table")
        wanted = (city or "").strip().lower()
        _, lat, lon, radius_km = next((a for a in areas if a[0] == wanted), areas[0])
        digest = hashlib.sha256(f"{pc6}|{number}".encode()).digest()
        angle = digest[0] / 256 * 2 * math.pi
        dist = math.sqrt(int.from_bytes(digest[1:3]) / 65536) * radius_km * 0.9
        return (round(lat + dist / 111.0 * math.sin(angle), 6),
                round(lon + dist / (111.0 * math.cos(math.radians(lat))) * math.cos(angle), 6))


def write_demo_table(path: Path = DEMO_TABLE) -> None:
    from dispatch.seed.places import PLACES

    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(COLUMNS)
        for place in PLACES:
            for digit in range(1, 10):  # the demo's postcodes: the place's three digits and one more
                out.writerow((f"{place.postcode}{digit}", "", place.name, place.lat, place.lon, place.radius_km))


if __name__ == "__main__":
    write_demo_table()
