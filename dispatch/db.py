"""Engines and the per-request session: the session dependency commits or rolls back; services only flush."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive; we re-attach UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(database_url: str, *, pool_size: int = 20, reader: bool = False) -> Engine:
    """Create an engine. SQLite runs in WAL mode with full fsync and immediate write locks.

    `reader=True` (SQLite): transactions begin deferred, so reads run beside the writer (WAL) instead of
    queueing for the write lock; for sessions that only read (the live channel's outbox reads)."""
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            database_url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=pool_size,
            hide_parameters=True,
        )
        _configure_sqlite(engine, immediate=not reader)
        return engine
    return create_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        hide_parameters=True,
    )


def _configure_sqlite(engine: Engine, *, immediate: bool = True) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy (not pysqlite) decide when a transaction begins, so we can BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the call is acknowledged (survives power loss too).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    if not immediate:
        @event.listens_for(engine, "begin")
        def _on_begin_deferred(connection):
            connection.exec_driver_sql("BEGIN")
        return

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Take the write lock up front: a deferred transaction that reads and then writes can fail
        # with SQLITE_BUSY_SNAPSHOT under concurrency instead of waiting its turn.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def get_session(request: Request) -> Iterator[Session]:
    """FastAPI dependency: one session per request, committed when the handler returns normally."""
    engine: Engine = request.app.state.engine
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()  # what reacts after the commit runs here (dispatch/events.py)
        except BaseException as exc:
            session.rollback()
            kept = getattr(exc, "keep", None)
            if kept:
                session.add_all(kept)
                session.commit()
            raise


# `scope="function"`: the commit runs when the handler returns, before the response is sent, so a
# 2xx always means the data is committed (and a failing commit turns into an error response).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


# async: FastAPI runs a sync dependency in the threadpool, a hop these do not need.
async def _engine(request: Request) -> Engine:
    return request.app.state.engine


async def _reader_engine(request: Request) -> Engine:
    return request.app.state.reader_engine


# For handlers that run their own short transactions instead of the request's session (e.g. the login,
# which must hold no transaction while it checks a password). ReaderEngine: on SQLite its transactions
# begin deferred, so reads run beside the writer; on PostgreSQL it is the one engine.
WriterEngine = Annotated[Engine, Depends(_engine)]
ReaderEngine = Annotated[Engine, Depends(_reader_engine)]
