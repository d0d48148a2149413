"""Client import from a CSV file, for organisations without a record system nightcare can query
(docs/clients-import.md).

One import is one transaction. Each row is checked on its own; a bad row is reported (row, field, reason) and
left out, the good rows go in. Rows are matched to existing clients on the organisation's own id
(`ClientExternalId`, system `ecd` unless told otherwise): an existing client is updated only where the file
says something different, so importing the same file twice changes nothing the second time. A dry run does
all of it but writes nothing.

Speed: existing ids, clients and phones are read in batches; addresses are geocoded only for new clients and
changed addresses, each distinct address once.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from dispatch.audit import service as audit
from dispatch.auth.service import Principal
from dispatch.clients import consent
from dispatch.clients.models import Client, ClientExternalId, ClientPhone
from dispatch.clients.schemas import ImportedClient, ImportProblem, ImportReport
from dispatch.errors import AppError, Invalid, ServiceUnavailable
from dispatch.organisations.models import Organisation
from dispatch.ports import AddressNotFound, Geocoder, GeocoderUnavailable
from dispatch.timeutil import utcnow
from dispatch.validation import normalise_phone

REQUIRED = ("external_id", "given_name", "family_name", "street", "house_number", "postcode", "city",
            "consent_night_team")
OPTIONAL = ("date_of_birth", "phones", "keysafe_present", "access_notes", "consent_night_team_date",
            "consent_night_team_source", "consent_summary", "consent_summary_date", "consent_summary_source")
COLUMNS = REQUIRED + OPTIONAL
# Fields of the client row the file may set (beyond the consents, phones and the external id).
CLIENT_FIELDS = ("given_name", "family_name", "date_of_birth", "street", "house_number", "postcode", "city",
                 "keysafe_present", "access_notes")
ADDRESS_FIELDS = ("street", "house_number", "postcode", "city")
LIMITS = {"external_id": 100, "given_name": 100, "family_name": 100, "street": 200, "house_number": 20,
          "postcode": 10, "city": 100, "access_notes": 2000, "consent_night_team_source": 200,
          "consent_summary_source": 200, "phones": 400}
YES = {"yes", "y", "ja", "j", "true", "1"}
NO = {"no", "n", "nee", "false", "0"}
POSTCODE = re.compile(r"^([1-9][0-9]{3})\s?([A-Za-z]{2})$")
HOUSE_NUMBER = re.compile(r"^[1-9][0-9]{0,4}(\s?-?\s?[A-Za-z0-9]{1,6})?$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
EARLIEST_BIRTH = date(1890, 1, 1)
MAX_PHONES = 10
SUMMARY_LIMIT = 1000  # problems listed in a report at most (the counts are always complete)


class TooLarge(AppError):
    status = 413
    error = "too_large"


@dataclass
class Row:
    number: int  # the line in the file (the header is line 1)
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[ImportProblem] = field(default_factory=list)

    def bad(self, column: str, reason: str) -> None:
        self.problems.append(ImportProblem(row=self.number, field=column, reason=reason,
                                           external_id=self.values.get("external_id") or None))


# -- reading the file --------------------------------------------------------------------------------------------

def read_rows(data: bytes, *, max_bytes: int, max_rows: int) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header's columns and the data rows with their line numbers; refuses what is not a CSV of clients."""
    if len(data) > max_bytes:
        raise TooLarge(f"the file is larger than {max_bytes} bytes", field="file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("the file is not UTF-8 text (save the CSV as UTF-8)", field="file") from None
    if not text.strip():
        raise Invalid("the file is empty", field="file")
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";" if first.count(";") > first.count(",") else ",")
    try:
        header = [h.strip().lower() for h in next(reader)]
        rows: list[tuple[int, list[str]]] = []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= max_rows:
                raise Invalid(f"the file has more than {max_rows} rows; split it", field="file")
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise Invalid(f"the file is not readable as CSV near line {reader.line_num}: {exc}", field="file") from None
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    doubled = sorted({c for c in header if header.count(c) > 1})
    if missing or unknown or doubled:
        what = "; ".join(x for x in (missing and "missing: " + ", ".join(missing),
                                     unknown and "unknown: " + ", ".join(unknown),
                                     doubled and "twice: " + ", ".join(doubled)) if x)
        raise Invalid(f"the header's columns are wrong ({what}); see docs/clients-import.md", field="columns")
    return header, rows


def _date(row: Row, column: str, raw: str, *, today: date) -> date | None:
    for fmt in ("%Y-%m-%d", "%d-%m-%Y"):
        try:
            value = datetime.strptime(raw, fmt).date()  # noqa: DTZ007 - a calendar date; no time of day, no zone
            break
        except ValueError:
            continue
    else:
        row.bad(column, f"{raw!r} is not a date (YYYY-MM-DD or DD-MM-YYYY)")
        return None
    if value > today:
        row.bad(column, f"{value.isoformat()} lies in the future")
    elif column == "date_of_birth" and value < EARLIEST_BIRTH:
        row.bad(column, f"{value.isoformat()} lies before {EARLIEST_BIRTH.year}")
    return value


def _yes_no(row: Row, column: str, raw: str) -> bool | None:
    if raw.lower() in YES:
        return True
    if raw.lower() in NO:
        return False
    row.bad(column, f"{raw!r} is not yes or no")
    return None


def parse_row(number: int, header: list[str], cells: list[str], *, today: date) -> Row:
    """Check one row; the values are normalised as they are stored."""
    row = Row(number)
    if len(cells) != len(header):
        row.bad("columns", f"{len(cells)} cells where the header has {len(header)}")
        return row
    raw = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
    row.values["external_id"] = raw["external_id"]
    for column, value in raw.items():
        if CONTROL.search(value):
            row.bad(column, "contains control characters")
        elif len(value) > LIMITS.get(column, 100):
            row.bad(column, f"longer than {LIMITS.get(column, 100)} characters")
    if row.problems:
        return row
    for column in ("external_id", "given_name", "family_name", "street", "house_number", "postcode", "city"):
        if not raw[column]:
            row.bad(column, "is empty")
    v = row.values
    v.update({c: raw[c] for c in ("given_name", "family_name", "street", "city")})
    if raw["postcode"]:
        match = POSTCODE.match(raw["postcode"])
        if match:
            v["postcode"] = f"{match.group(1)} {match.group(2).upper()}"
        else:
            row.bad("postcode", f"{raw['postcode']!r} is not a Dutch postcode (four digits, two letters: 9401 AB)")
    if raw["house_number"]:
        if HOUSE_NUMBER.match(raw["house_number"]):
            v["house_number"] = raw["house_number"]
        else:
            row.bad("house_number", f"{raw['house_number']!r} is not a house number (e.g. 12, 12a, 12-2)")
    if "date_of_birth" in raw:
        v["date_of_birth"] = _date(row, "date_of_birth", raw["date_of_birth"], today=today) \
            if raw["date_of_birth"] else None
    if "phones" in raw:
        numbers: list[str] = []
        for part in filter(None, (p.strip() for p in re.split(r"[;|]", raw["phones"]))):
            phone = normalise_phone(part)
            if phone is None:
                row.bad("phones", f"{part!r} is not a phone number")
            elif phone not in numbers:
                numbers.append(phone)
        if len(numbers) > MAX_PHONES:
            row.bad("phones", f"more than {MAX_PHONES} phone numbers")
        v["phones"] = numbers
    if "keysafe_present" in raw:
        v["keysafe_present"] = _yes_no(row, "keysafe_present", raw["keysafe_present"]) \
            if raw["keysafe_present"] else False
    if "access_notes" in raw:
        v["access_notes"] = raw["access_notes"]
    for kind in consent.KINDS:
        column = f"consent_{kind}"
        if column not in raw:
            continue
        given = _yes_no(row, column, raw[column]) if raw[column] else (None if kind == "night_team" else False)
        if given is None and not raw[column]:
            row.bad(column, "is empty (yes or no)")
        on_raw, source = raw.get(f"{column}_date", ""), raw.get(f"{column}_source", "")
        on = _date(row, f"{column}_date", on_raw, today=today) if on_raw else None
        if given and not on_raw:
            row.bad(f"{column}_date", "a consent given needs its date")
        if given and not source:
            row.bad(f"{column}_source", "a consent given needs its source (e.g. signed form)")
        v[column] = (given, on, source)
    return row


# -- the import --------------------------------------------------------------------------------------------------

def _chunks(items: list[Any], size: int = 500) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _existing(session: Session, organisation_id: int, system: str,
              ids: list[str]) -> tuple[dict[str, Client], dict[int, list[str]]]:
    by_external: dict[str, int] = {}
    for chunk in _chunks(ids):
        for value, client_id in session.exec(select(ClientExternalId.value, ClientExternalId.client_id).where(
                ClientExternalId.organisation_id == organisation_id, ClientExternalId.system == system,
                col(ClientExternalId.value).in_(chunk))):
            by_external[value] = client_id
    clients: dict[int, Client] = {}
    phones: dict[int, list[str]] = {}
    for chunk in _chunks(list(by_external.values())):
        clients.update({c.id: c for c in session.exec(select(Client).where(col(Client.id).in_(chunk)))
                        if c.id is not None})
        for client_id, number in session.exec(select(ClientPhone.client_id, ClientPhone.number)
                                              .where(col(ClientPhone.client_id).in_(chunk))
                                              .order_by(col(ClientPhone.id))):
            phones.setdefault(client_id, []).append(number)
    return {value: clients[cid] for value, cid in by_external.items()}, phones


def _changes(row: Row, client: Client, phones: list[str]) -> list[str]:
    v = row.values
    changed = [f for f in CLIENT_FIELDS if f in v and getattr(client, f) != v[f]]
    if "phones" in v and sorted(v["phones"]) != sorted(phones):
        changed.append("phones")
    changed += [f"consent_{k}" for k in consent.KINDS
                if f"consent_{k}" in v and consent.current(client, k) != v[f"consent_{k}"]]
    return changed


class _Locator:
    """Each distinct address geocoded once per import; an unreachable geocoder stops the import (503)."""

    def __init__(self, geocoder: Geocoder) -> None:
        self.geocoder, self.seen = geocoder, {}  # type: ignore[var-annotated]

    def __call__(self, row: Row) -> tuple[float, float] | None:
        v = row.values
        key = (v["postcode"], v["house_number"].lower(), v["city"].lower())
        if key not in self.seen:
            try:
                self.seen[key] = self.geocoder.locate(v["postcode"], v["house_number"], v["street"], v["city"])
            except AddressNotFound:
                self.seen[key] = None
            except GeocoderUnavailable as exc:
                raise ServiceUnavailable(f"the geocoder is unavailable ({exc}); nothing was imported, try again",
                                         field="geocoder") from None
        if self.seen[key] is None:
            row.bad("address", f"{v['postcode']} {v['house_number']} ({v['city']}) was not found by the geocoder")
        return self.seen[key]


def import_clients(session: Session, principal: Principal, organisation: Organisation, data: bytes, *,
                   geocoder: Geocoder, dry_run: bool, system: str = "ecd", max_bytes: int = 2 * 1024 * 1024,
                   max_rows: int = 5000, today: date | None = None) -> ImportReport:
    """Import (or, with dry_run, check) a CSV of clients for `organisation`. The caller checks that the principal
    may manage that organisation's clients."""
    today = today or utcnow().date()
    assert organisation.id is not None  # a stored organisation
    header, raw_rows = read_rows(data, max_bytes=max_bytes, max_rows=max_rows)
    rows = [parse_row(number, header, cells, today=today) for number, cells in raw_rows]
    first_of: dict[str, int] = {}
    for row in rows:
        ext = row.values.get("external_id")
        if ext and ext in first_of:
            row.bad("external_id", f"duplicate id {ext!r} within the file (first on row {first_of[ext]})")
        elif ext:
            first_of[ext] = row.number
    good = [r for r in rows if not r.problems]
    existing, phones = _existing(session, organisation.id, system, [r.values["external_id"] for r in good])
    locate = _Locator(geocoder)
    plan: list[tuple[Row, Client | None, list[str], tuple[float, float] | None]] = []
    for row in good:
        client = existing.get(row.values["external_id"])
        changed = _changes(row, client, phones.get(client.id, [])) if client and client.id is not None else ["new"]
        if not changed:
            plan.append((row, client, [], None))
            continue
        point = None
        if client is None or any(f in changed for f in ADDRESS_FIELDS):
            point = locate(row)
            if point is None:
                continue
        plan.append((row, client, changed, point))

    report = ImportReport(dry_run=dry_run, organisation=organisation.code, system=system, rows=len(rows))
    changes: list[tuple[Row, Client | None, list[str], tuple[float, float] | None, ImportedClient]] = []
    for row, client, changed, point in plan:
        if not changed:
            report.unchanged += 1
            continue
        action = "created" if client is None else "updated"
        setattr(report, action, getattr(report, action) + 1)
        shown = ImportedClient(row=row.number, external_id=row.values["external_id"], action=action,
                               client_id=client.id if client else None, fields=[] if client is None else changed)
        report.clients.append(shown)
        changes.append((row, client, changed, point, shown))
    problems = [p for r in rows for p in r.problems]
    report.rejected = sum(1 for r in rows if r.problems)
    report.problems = problems[:SUMMARY_LIMIT]
    report.problems_not_listed = max(0, len(problems) - SUMMARY_LIMIT)
    if not dry_run:
        _write(session, principal, organisation, system, changes)
        _audit(session, principal, organisation, report)
    return report


def _write(session: Session, principal: Principal, organisation: Organisation, system: str,
           changes: list[tuple[Row, Client | None, list[str], tuple[float, float] | None, ImportedClient]]) -> None:
    """Write the planned changes: the client rows first (one flush gives the new ones their ids), then what hangs
    off them (external id, phones, consents)."""
    assert organisation.id is not None  # a stored organisation
    clients: list[Client] = []
    stale_phones: list[int] = []
    for row, existing, changed, point, _ in changes:
        v = row.values
        if existing is None:
            assert point is not None  # a new client is located before it is planned
            client = Client(organisation_id=organisation.id, lat=point[0], lon=point[1],
                            **{f: v[f] for f in CLIENT_FIELDS if f in v})
        else:
            client = existing
            for f in CLIENT_FIELDS:
                if f in changed:
                    setattr(client, f, v[f])
            if point is not None:
                client.lat, client.lon = point
            client.updated_at = utcnow()
            if "phones" in changed and client.id is not None:
                stale_phones.append(client.id)
        session.add(client)
        clients.append(client)
    for chunk in _chunks(stale_phones):
        session.execute(delete(ClientPhone).where(col(ClientPhone.client_id).in_(chunk)))
    session.flush()
    for (row, _, changed, _, shown), client in zip(changes, clients, strict=True):
        assert client.id is not None  # flushed above
        v = row.values
        if shown.action == "created":
            shown.client_id = client.id
            session.add(ClientExternalId(client_id=client.id, organisation_id=organisation.id, system=system,
                                         value=v["external_id"]))
        if "phones" in v and (shown.action == "created" or "phones" in changed):
            session.add_all([ClientPhone(client_id=client.id, number=n) for n in v["phones"]])
        for kind in consent.KINDS:
            if f"consent_{kind}" in v:
                given, on, source = v[f"consent_{kind}"]
                consent.record(session, principal, client, kind, given=given, on=on, source=source)
    session.flush()


def _audit(session: Session, principal: Principal, organisation: Organisation, report: ImportReport) -> None:
    """An entry per client created or updated (the access log is per client), and one for the import itself;
    unchanged rows write nothing."""
    reason = f"client import for {organisation.code}"
    for action, verb in (("created", "create"), ("updated", "update")):
        ids = [c.client_id for c in report.clients if c.action == action]
        if ids:
            audit.record(session, principal, action=verb, data="client (import)", client_ids=ids, reason=reason)
    listed = [str(c.client_id) for c in report.clients]
    audit.record(session, principal, action="import", data="clients.csv", client_ids=[None],
                 reason=f"{reason}: {report.created} created, {report.updated} updated, {report.unchanged} "
                        f"unchanged, {report.rejected} rejected; changed clients: "
                        + (",".join(listed[:150]) + ("…" if len(listed) > 150 else "") or "none"))
