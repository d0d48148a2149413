"""`nightcare clients import FILE --organisation CODE [--dry-run]`: the CSV import from the command line."""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from sqlmodel import Session

from adapters.geocoding import make_geocoder
from dispatch.auth.models import Role
from dispatch.auth.service import Principal
from dispatch.clients import importer
from dispatch.clients.service import organisation_by_code
from dispatch.db import make_engine
from dispatch.errors import AppError
from dispatch.settings import Settings


def _cmd_import(args: argparse.Namespace) -> None:
    settings = Settings()
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        sys.exit(f"nightcare clients import: cannot read {args.file}: {exc.strerror}")
    who = Principal(user_id=None, username=f"cli:{getpass.getuser()}"[:80], role=Role.coordinator,
                    organisation_id=None, nurse_id=None, source_address="command line")
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with Session(engine) as session:
            report = importer.import_clients(
                session, who, organisation_by_code(session, args.organisation), data,
                geocoder=make_geocoder(settings), dry_run=args.dry_run, system=args.system,
                max_bytes=settings.import_max_bytes, max_rows=settings.import_max_rows)
            session.commit()
    except AppError as exc:
        sys.exit(f"nightcare clients import: {exc.field + ': ' if exc.field else ''}{exc.detail}")
    finally:
        engine.dispose()
    if args.json:
        print(report.model_dump_json(indent=2))
        return
    print(f"{'dry run: ' if report.dry_run else ''}{report.rows} rows: {report.created} created, "
          f"{report.updated} updated, {report.unchanged} unchanged, {report.rejected} rejected")
    for p in report.problems:
        print(f"  row {p.row}: {p.field}: {p.reason}")
    if report.problems_not_listed:
        print(f"  … and {report.problems_not_listed} more problems (--json lists the first {importer.SUMMARY_LIMIT})")


def add_commands(sub: argparse._SubParsersAction) -> None:
    clients = sub.add_parser("clients", help="client records")
    clients_sub = clients.add_subparsers(dest="clients_command", required=True)
    imp = clients_sub.add_parser("import", help="import clients from a CSV (docs/clients-import.md)")
    imp.add_argument("file")
    imp.add_argument("--organisation", required=True, help="the organisation's code")
    imp.add_argument("--system", default="ecd", help="the record system the ids come from (default: ecd)")
    imp.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    imp.add_argument("--json", action="store_true", help="print the report as JSON")
    imp.set_defaults(func=_cmd_import)
