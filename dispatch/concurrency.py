"""Bound the requests in flight, so a request holding a database connection always finds a thread.

FastAPI runs a sync dependency and a sync handler in separate hops through the threadpool. A request
can therefore hold a connection (and, on SQLite, the write lock) while it waits for a thread. If
every thread is blocked waiting for that lock or for a pool connection, nothing moves until timeouts
fire. Keeping in-flight requests well below both the threadpool (40) and the pool size prevents that;
requests beyond the bound wait here without holding a thread, and after `wait_s` get a 503 with
Retry-After (sources retry, and intake is idempotent).
"""
from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Receive, Scope, Send


class RequestLimiter:
    def __init__(self, app: ASGIApp, *, limit: int, wait_s: float, prefix: str = "/api",
                 exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.wait_s = wait_s
        self.prefix = prefix
        # Paths that bound themselves and wait without holding a thread (the login: dispatch/auth/login.py),
        # so that a flood of them cannot take the slots other requests need.
        self.exempt = exempt
        self._semaphore: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix) or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:  # created on the serving loop
            self._semaphore = asyncio.Semaphore(self.limit)
        try:
            await asyncio.wait_for(self._semaphore.acquire(), timeout=self.wait_s)
        except TimeoutError:
            await _busy(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self._semaphore.release()


async def _busy(send: Send) -> None:
    body = json.dumps({"error": "busy", "detail": "the service is at capacity; retry shortly", "field": None}).encode()
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", b"1"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
