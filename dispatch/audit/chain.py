"""The audit log's hash chain, as pure functions (no database): the format, linking and checking.

Every entry has a sequence number (`seq`, consecutive from 1), the hash of the entry before it
(`prev_hash`; 64 zeros for the first) and its own hash:

    hash = SHA-256( prev_hash + "\\n" + canonical(entry) )    (hex, lower case)

`canonical(entry)` is compact JSON (no spaces, UTF-8, keys in the order of FIELDS below, not sorted)
of the entry's fields, `seq` included and the database id not (it is assigned by the database after
the hash is computed): times as UTC ISO 8601 with microseconds and a Z (`2026-11-22T08:30:08.082010Z`),
None as null, booleans as true/false, strings as stored. Changing the format breaks every existing
chain: do it only with a migration that re-chains the log, and say so in docs/security.md.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
FIELDS = ("seq", "at", "user_id", "username", "role", "organisation_id", "on_behalf_of", "client_id", "action",
          "data", "reason", "break_glass", "outcome", "source_address")


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("audit times are UTC and timezone-aware")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def canonical(entry: Any) -> bytes:
    """The entry's fields (an AuditEntry or a row with the same attribute names), serialised for hashing."""
    fields = {name: _value(getattr(entry, name)) for name in FIELDS}
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def entry_hash(prev_hash: str, entry: Any) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(entry)).hexdigest()


def link(entries: Iterable[Any], *, last_seq: int, last_hash: str) -> tuple[int, str]:
    """Chain `entries`, in order, onto the entry (last_seq, last_hash): set seq, prev_hash and hash on each.

    Returns the new (last_seq, last_hash)."""
    for entry in entries:
        last_seq += 1
        entry.seq, entry.prev_hash = last_seq, last_hash
        entry.hash = last_hash = entry_hash(last_hash, entry)
    return last_seq, last_hash


@dataclass(frozen=True)
class Break:
    """The first broken link: the entry where checking stopped, and why."""

    seq: int
    id: int
    problem: str

    def __str__(self) -> str:
        return f"seq {self.seq} (id {self.id}): {self.problem}"


class Walker:
    """Checks a chain fed to it page by page in seq order, keeping only the last link (bounded memory)."""

    def __init__(self) -> None:
        self.count = 0
        self.last_seq = 0
        self.last_hash = GENESIS
        self.broken: Break | None = None

    def feed(self, rows: Sequence[Any]) -> bool:
        """Check the next rows (with id, seq, prev_hash, hash and FIELDS). False once a link is broken."""
        for row in rows:
            expected = self.last_seq + 1
            if row.seq < expected:
                self.broken = Break(row.seq, row.id, f"seq {row.seq} appears twice")
            elif row.seq != expected:
                missing = (f"seq {expected} is missing" if row.seq == expected + 1
                           else f"seqs {expected} to {row.seq - 1} are missing")
                self.broken = Break(row.seq, row.id, f"{missing} before it (deleted?)")
            elif row.prev_hash != self.last_hash:
                before = f"the hash of seq {self.last_seq}" if self.last_seq else "the start of the chain"
                self.broken = Break(row.seq, row.id, f"its prev_hash does not match {before} "
                                                     "(that entry was changed, or this link was)")
            elif row.hash != entry_hash(row.prev_hash, row):
                self.broken = Break(row.seq, row.id, "its hash does not match its contents (the entry was changed)")
            if self.broken:
                return False
            self.count += 1
            self.last_seq, self.last_hash = row.seq, row.hash
        return True
