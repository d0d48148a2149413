"""`nightcare protocol book|diff` (the protocol book and the difference between versions, as HTML files) and
`nightcare user clinician` (who may draft protocol versions and sign them off)."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import protocols
from protocols.book import render_book
from protocols.diff_book import render_diff
from protocols.model import Protocol, ProtocolError

SHIPPED_NOTE = {"shipped": True, "signed_off": False,
                "statement": "shipped starting point, not signed off by the region's clinicians"}


def _shipped(protocol_id: str, version: int | None) -> Protocol:
    docs = [d for d in protocols.shipped_documents() if d.get("protocol") == protocol_id]
    if not docs:
        sys.exit(f"nightcare protocol: no shipped protocol {protocol_id!r}")
    found = docs[-1] if version is None else next((d for d in docs if d.get("version") == version), None)
    if found is None:
        sys.exit(f"nightcare protocol: {protocol_id} v{version} is not shipped (shipped: "
                 f"{', '.join(str(d.get('version')) for d in docs)}); give a draft with --file")
    return protocols.load(found)


def _from_file(path: str) -> Protocol:
    try:
        return protocols.load(protocols.parse(Path(path).read_text(encoding="utf-8")))
    except OSError as exc:
        sys.exit(f"nightcare protocol: cannot read {path}: {exc.strerror}")
    except ProtocolError as exc:
        sys.exit(f"nightcare protocol: {path}: {exc}")


def _write(html: str, out: str | None) -> None:
    if out is None:
        sys.stdout.write(html)
        return
    try:
        Path(out).write_text(html, encoding="utf-8")
    except OSError as exc:
        sys.exit(f"nightcare protocol: cannot write {out}: {exc.strerror}")
    print(f"wrote {out} ({len(html.encode()) // 1024} KiB)", file=sys.stderr)


def _cmd_book(args: argparse.Namespace) -> None:
    if args.file:
        protocol, governance = _from_file(args.file), {"signed_off": False, "statement": f"draft from {args.file}"}
    else:
        protocol, governance = _shipped(args.protocol, args.version), SHIPPED_NOTE
    _write(render_book(protocol, governance=governance), args.out)


def _cmd_diff(args: argparse.Namespace) -> None:
    old = _shipped(args.protocol, args.from_version)
    new = _from_file(args.file) if args.file else _shipped(args.protocol, args.to_version)
    if args.file and args.to_version is not None and new.version != args.to_version:
        sys.exit(f"nightcare protocol diff: {args.file} is v{new.version}, not v{args.to_version}")
    if args.to_version is None and not args.file:
        sys.exit("nightcare protocol diff: give --to N (a shipped version) or --file PATH (a draft)")
    _write(render_diff(old, new), args.out)


def _cmd_clinician(args: argparse.Namespace, user_command: Callable) -> None:
    from dispatch.auth.service import set_clinician

    def work(session, _settings) -> str:
        user = set_clinician(session, username=args.username, clinician=not args.off, profession=args.profession,
                             full_name=args.full_name)
        if not user.clinician:
            return f"user {user.username} is no longer a clinician"
        return f"user {user.username} is a clinician ({user.profession}): may draft and sign off protocol versions"

    user_command(work)


def add_commands(sub: argparse._SubParsersAction, user_sub: argparse._SubParsersAction, *,
                 user_command: Callable) -> None:
    clinician = user_sub.add_parser("clinician", help="let a user draft protocol versions and sign them off")
    clinician.add_argument("username")
    clinician.add_argument("--profession", help="recorded on every sign-off, e.g. GP, nurse practitioner")
    clinician.add_argument("--full-name", help="the name recorded on sign-offs (default: the username)")
    clinician.add_argument("--off", action="store_true", help="take the clinician flag away")
    clinician.set_defaults(func=lambda args: _cmd_clinician(args, user_command))

    protocol = sub.add_parser("protocol", help="the shared call protocol: its book and the difference of versions")
    protocol_sub = protocol.add_subparsers(dest="protocol_command", required=True)
    book = protocol_sub.add_parser("book", help="write a version as a readable, printable HTML book")
    book.add_argument("--version", type=int, help="a shipped version (default: the newest)")
    book.add_argument("--file", metavar="PATH", help="a protocol document (e.g. a draft) instead of a shipped one")
    diff = protocol_sub.add_parser("diff", help="write what changed between two versions as an HTML book")
    diff.add_argument("--from", dest="from_version", type=int, required=True, help="the older, shipped version")
    diff.add_argument("--to", dest="to_version", type=int, help="the newer, shipped version")
    diff.add_argument("--file", metavar="PATH", help="the newer version as a document (e.g. a draft)")
    for command, func in ((book, _cmd_book), (diff, _cmd_diff)):
        command.add_argument("--protocol", default=protocols.DEFAULT_PROTOCOL_ID)
        command.add_argument("--out", metavar="FILE", help="write here (default: standard output)")
        command.set_defaults(func=func)
