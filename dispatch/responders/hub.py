"""Wakes the sockets that hold a nurse's or an operator's connection when there is news for them.

The outbox in the database is the truth; the hub only says "look again". One asyncio.Event per connection
(coalescing: ten messages in a burst wake a connection once, and it then reads all ten), and one sender task
per connection, so a slow or dead phone never delays the others.

Across worker processes (PostgreSQL): the transaction that writes a message also calls pg_notify, which
PostgreSQL delivers on commit to every worker's listener, including the writer's own. With SQLite (one
process) the wake-up runs in-process after the commit.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import weakref
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dispatch.events import after_commit

log = logging.getLogger("nightcare.responders")
CHANNEL = "nightcare_live"


class Connection:
    """One socket: its nurse (None for an operator's board) and the event that wakes its sender. An operator of
    the backup triage team (`team="backup"`) hears only of the calls handed to it."""

    def __init__(self, nurse_id: int | None, *, team: str = "regional") -> None:
        self.nurse_id = nurse_id
        self.team = team
        self.wake = asyncio.Event()
        self.board: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)


class Hub:
    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.nurses: dict[int, set[Connection]] = {}
        self.operators: set[Connection] = set()

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def add(self, conn: Connection) -> None:
        if conn.nurse_id is None:
            self.operators.add(conn)
        else:
            self.nurses.setdefault(conn.nurse_id, set()).add(conn)

    def remove(self, conn: Connection) -> None:
        if conn.nurse_id is None:
            self.operators.discard(conn)
        else:
            self.nurses.get(conn.nurse_id, set()).discard(conn)

    # -- called from any thread -------------------------------------------------------------------
    def deliver(self, note: dict[str, Any]) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._deliver, note)

    def _deliver(self, note: dict[str, Any]) -> None:
        for nurse_id in note.get("nurses", []):
            for conn in self.nurses.get(nurse_id, ()):
                conn.wake.set()
        if "board" in note:
            regional_only = note["board"].get("audience", "regional") == "regional"
            for conn in self.operators:
                if regional_only and conn.team != "regional":
                    continue
                if conn.board.full():  # a console that stopped reading is told to load the board afresh
                    while not conn.board.empty():
                        conn.board.get_nowait()
                    conn.board.put_nowait({"kind": "board.reload", "cause": "events were dropped for this console"})
                    conn.wake.set()
                    continue
                conn.board.put_nowait(note["board"])
                conn.wake.set()


# One hub per engine (an app, or a test's app, owns both).
_hubs: weakref.WeakKeyDictionary[Engine, Hub] = weakref.WeakKeyDictionary()


def register(engine: Engine, hub: Hub) -> None:
    _hubs[engine] = hub


def _note_after_commit(session: Session, note: dict[str, Any]) -> None:
    """PostgreSQL delivers the note to every worker when the transaction commits (and drops it on rollback);
    with SQLite (one process) it goes to this process's hub after the commit."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, :note)"), {"channel": CHANNEL, "note": json.dumps(note,
                                                                                                        default=str)})
        return
    hub = _hubs.get(bind)  # type: ignore[arg-type]
    if hub is not None:
        after_commit(session, lambda: hub.deliver(note))


def wake_after_commit(session: Session, nurse_id: int) -> None:
    _note_after_commit(session, {"nurses": [nurse_id]})


# PostgreSQL's NOTIFY carries at most 8000 bytes: a larger board event goes as a note to reload the board.
MAX_NOTE_BYTES = 7000


def board_after_commit(session: Session, kind: str, **data: Any) -> None:
    """An event for the operators' live board (call or visit changed, alert), sent once committed."""
    note = {"board": {"kind": kind, **data}}
    if len(json.dumps(note, default=str)) > MAX_NOTE_BYTES:
        note = {"board": {"kind": "board.reload", "audience": data.get("audience", "regional"), "cause": kind}}
    _note_after_commit(session, note)


class PostgresListener:
    """LISTEN on the live channel in a thread; every notification goes to this worker's hub."""

    def __init__(self, database_url: str, hub: Hub) -> None:
        self.url, self.hub = database_url, hub
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="nightcare-listen", daemon=True)
        self.ready = threading.Event()

    def start(self) -> None:
        self.thread.start()
        self.ready.wait(10)

    def _run(self) -> None:
        import psycopg

        url = self.url.replace("postgresql+psycopg://", "postgresql://", 1)
        while not self.stop_event.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.ready.set()
                    while not self.stop_event.is_set():
                        for notify in conn.notifies(timeout=0.5):
                            self.hub.deliver(json.loads(notify.payload))
            except Exception:
                log.exception("live-channel listener lost its connection; reconnecting")
                self.stop_event.wait(1)

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(5)
