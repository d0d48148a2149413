"""The live channel: `/ws/nurse` (a nurse's own jobs, sequenced and replayable) and `/ws/operators` (the board).

Protocol (JSON text frames; see docs/live-channel.md):
  phone → server  {"type": "hello", "token": "<bearer token>", "last_seq": 17}   first frame, within 10 s
                  {"type": "ack", "seq": 18}                                     after handling a message
                  {"type": "ping"}
  server → phone  {"type": "welcome", "nurse_id": 3, "last_seq": 21}
                  {"type": "message", "seq": 18, "kind": "job.offered", "at": "...", "payload": {...}}
                  {"type": "caught_up", "last_seq": 21}     messages up to 21 she no longer needs were passed over
                  {"type": "heartbeat", "at": "..."}  {"type": "pong"}
Close codes: 4400 bad hello or an unreadable frame (binary, not JSON), 4401 token invalid, expired or revoked
(checked again every few seconds while the socket is open), 4403 wrong role.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dispatch.auth.models import Role
from dispatch.auth.service import Principal, principal_for_token
from dispatch.errors import AppError
from dispatch.responders import outbox
from dispatch.responders.hub import Connection, Hub
from dispatch.responders.models import NurseChannel
from dispatch.timeutil import utcnow

router = APIRouter(tags=["live"])
log = logging.getLogger("nightcare.responders")
HELLO_TIMEOUT_S = 10
ACK_WRITE_S = 1.0
# Database work of the live channel runs here, apart from the request threadpool: a storm of reconnecting
# phones cannot take the threads that HTTP requests need.
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="nightcare-live")


async def _db(engine: Engine, fn, *args: Any) -> Any:
    def run() -> Any:
        with Session(engine, expire_on_commit=False) as session:
            result = fn(session, *args)
            session.commit()
            return result
    return await asyncio.get_running_loop().run_in_executor(_executor, run)


def _reader(ws: WebSocket) -> Engine:
    """Reads of the outbox and tokens go through the app's reader engine (SQLite: beside the writer)."""
    return ws.app.state.reader_engine


async def _hello(ws: WebSocket, role: Role) -> tuple[Principal, int, str] | None:
    await ws.accept()
    try:
        hello = json.loads(await asyncio.wait_for(_receive_text(ws), timeout=HELLO_TIMEOUT_S))
        if not isinstance(hello, dict) or hello.get("type") != "hello" or not isinstance(hello.get("token"), str):
            raise ValueError("the first frame must be {\"type\": \"hello\", \"token\": ...}")
        last_seq = hello.get("last_seq", 0)
        if not isinstance(last_seq, int) or isinstance(last_seq, bool) or last_seq < 0:
            raise ValueError("last_seq must be a whole number ≥ 0")
    except WebSocketDisconnect:
        return None  # gone before saying hello
    except (ValueError, TimeoutError) as exc:
        await _close(ws, 4400, str(exc) or "no hello within 10 s")
        return None
    host = ws.client.host if ws.client else ""
    try:
        principal = await _db(ws.app.state.engine,
                              lambda s: principal_for_token(s, hello["token"], source_address=host))
    except AppError:
        await _close(ws, 4401, "token invalid or expired: log in again")
        return None
    if principal.role != role and not (role == Role.operator and principal.role == Role.coordinator):
        await _close(ws, 4403, f"this channel is for the {role.value} role")
        return None
    return principal, last_seq, hello["token"]


async def _receive_text(ws: WebSocket) -> str:
    """The next text frame; a binary frame is refused (4400), as is a frame that is not JSON."""
    message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    if message.get("text") is None:
        raise ValueError("frames are JSON text, not binary")
    return message["text"]


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    try:
        await ws.send_text(json.dumps({"type": "error", "detail": reason}))
        await ws.close(code=code, reason=reason[:120])
    except (WebSocketDisconnect, RuntimeError):
        pass


@router.websocket("/ws/nurse")
async def nurse_socket(ws: WebSocket) -> None:
    hello = await _hello(ws, Role.nurse)
    if hello is None:
        return
    principal, last_seq, token = hello
    nurse_id = principal.nurse_id
    if nurse_id is None:
        await _close(ws, 4403, "this login is not linked to a nurse")
        return
    engine, hub = ws.app.state.engine, ws.app.state.hub
    conn = Connection(nurse_id)
    hub.add(conn)  # before the first read: a message committed meanwhile wakes us
    try:
        channel = await _db(_reader(ws), lambda s: s.get(NurseChannel, nurse_id))
        newest = channel.last_seq if channel else 0
        # A phone that claims more than the server has (a database restored from backup) gets everything.
        last_seq = last_seq if last_seq <= newest else 0
        await ws.send_text(json.dumps({"type": "welcome", "nurse_id": nurse_id, "last_seq": newest}))
        acks = _Acks(engine, nurse_id)
        try:
            await _run(ws, sender=_nurse_sender(ws, conn, _reader(ws), last_seq),
                       on_frame=lambda frame: _nurse_frame(ws, acks, frame), token=token)
        finally:
            await acks.flush()
    finally:
        hub.remove(conn)


def _nurse_sender(ws: WebSocket, conn: Connection, engine: Engine, last_seq: int):
    nurse_id = conn.nurse_id
    assert nurse_id is not None  # her own channel

    async def send() -> None:
        sent = last_seq
        while True:
            conn.wake.clear()
            while True:  # what the phone still needs after what it has, in order, a page at a time
                page = await _db(engine, functools.partial(outbox.after, nurse_id=nurse_id, seq=sent))
                for m in page.messages:
                    await ws.send_text(json.dumps({"type": "message", "seq": m.seq, "kind": m.kind,
                                                   "at": m.created_at.isoformat(), "payload": m.payload}))
                if page.last_seq > (page.messages[-1].seq if page.messages else sent):
                    # Passed over what she no longer needs: the phone moves on to here (and acknowledges it).
                    await ws.send_text(json.dumps({"type": "caught_up", "last_seq": page.last_seq}))
                sent = max(sent, page.last_seq)
                if not page.more:
                    break
            await _await_news(ws, conn)
    return send


class _Acks:
    """The phone acknowledges every message; the highest number is written at most once a second (a burst of
    acks is one write, not one per message)."""

    def __init__(self, engine: Engine, nurse_id: int) -> None:
        self.engine, self.nurse_id = engine, nurse_id
        self.seen = self.written = 0
        self.task: asyncio.Task | None = None

    def add(self, seq: int) -> None:
        self.seen = max(self.seen, seq)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._later())

    async def _later(self) -> None:
        await asyncio.sleep(ACK_WRITE_S)
        await self.flush()

    async def flush(self) -> None:
        if self.seen > self.written:
            seq, self.written = self.seen, self.seen
            await _db(self.engine, lambda s: outbox.acknowledge(s, self.nurse_id, seq))


async def _nurse_frame(ws: WebSocket, acks: _Acks, frame: dict[str, Any]) -> None:
    if frame.get("type") == "ack" and isinstance(frame.get("seq"), int) and not isinstance(frame["seq"], bool):
        acks.add(frame["seq"])
    elif frame.get("type") == "ping":
        await ws.send_text(json.dumps({"type": "pong"}))


@router.websocket("/ws/operators")
async def operator_socket(ws: WebSocket) -> None:
    """The operators' live board: calls, visits, plans and alerts as they change. No replay: a console that
    reconnects reloads the board over HTTP."""
    hello = await _hello(ws, Role.operator)
    if hello is None:
        return
    hub: Hub = ws.app.state.hub
    token = hello[2]
    conn = Connection(None, team=hello[0].team.value)
    hub.add(conn)
    async def send() -> None:
        while True:
            conn.wake.clear()
            while not conn.board.empty():
                await ws.send_text(json.dumps({"type": "event", **conn.board.get_nowait()}))
            await _await_news(ws, conn)

    async def frame(f: dict[str, Any]) -> None:
        if f.get("type") == "ping":
            await ws.send_text(json.dumps({"type": "pong"}))

    try:
        await ws.send_text(json.dumps({"type": "welcome", "user": hello[0].username}))
        await _run(ws, sender=send, on_frame=frame, token=token)
    finally:
        hub.remove(conn)


async def _await_news(ws: WebSocket, conn: Connection) -> None:
    """Until the hub wakes this connection; a heartbeat whenever nothing has come for a while."""
    try:
        await asyncio.wait_for(conn.wake.wait(), timeout=ws.app.state.settings.live_heartbeat_s)
    except TimeoutError:
        await ws.send_text(json.dumps({"type": "heartbeat", "at": utcnow().isoformat()}))


class _Closed(Exception):
    """End the socket with this close code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


async def _run(ws: WebSocket, *, sender, on_frame, token: str) -> None:
    """Send and receive until either side ends; a phone silent for three heartbeats is gone; a token that
    expires or is revoked (logout, a disabled user) ends the socket within `live_token_check_s`."""
    settings = ws.app.state.settings
    silence = 3 * settings.live_heartbeat_s

    async def receive() -> None:
        while True:
            try:
                raw = await asyncio.wait_for(_receive_text(ws), timeout=silence)
                frame = json.loads(raw)
            except ValueError as exc:
                raise _Closed(4400, f"unreadable frame: {exc}") from None
            if not isinstance(frame, dict):
                raise _Closed(4400, "a frame is a JSON object")
            await on_frame(frame)

    async def watch_token() -> None:
        while True:
            await asyncio.sleep(settings.live_token_check_s)
            try:
                await _db(_reader(ws), lambda s: principal_for_token(s, token))
            except AppError:
                raise _Closed(4401, "logged out, or the login expired: log in again") from None

    tasks = [asyncio.create_task(sender()), asyncio.create_task(receive()), asyncio.create_task(watch_token())]
    closing: _Closed | None = None
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = task.exception()
            if isinstance(exc, _Closed):
                closing = exc
            elif exc is not None and not isinstance(exc, (WebSocketDisconnect, TimeoutError, RuntimeError)):
                log.warning("live channel ended: %s", type(exc).__name__)
            elif exc is not None:
                log.info("live channel closed (%s)", type(exc).__name__)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if closing is not None:
            await _close(ws, closing.code, closing.reason)
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # closed already, or the phone is gone
            await ws.close()
