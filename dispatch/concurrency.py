"""ASGI middleware at the edge: how many requests are in flight, how large a body may be, which headers every
answer carries.

Bound the requests in flight, so a request holding a database connection always finds a thread.

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

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class RequestLimiter:
    def __init__(self, app: ASGIApp, *, limit: int, wait_s: float, prefixes: tuple[str, ...] = ("/api",),
                 exempt: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.wait_s = wait_s
        self.prefixes = prefixes
        # Paths that bound themselves and wait without holding a thread (the login: dispatch/auth/login.py),
        # so that a flood of them cannot take the slots other requests need.
        self.exempt = exempt
        self._semaphore: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes) or scope["path"] in self.exempt:
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
    await _error(send, 503, "busy", "the service is at capacity; retry shortly", [(b"retry-after", b"1")])


async def _error(send: Send, status: int, error: str, detail: str, headers: list[tuple[bytes, bytes]] = []) -> None:  # noqa: B006
    body = json.dumps({"error": error, "detail": detail, "field": None}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store"), *headers]})
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse a request body larger than `max_bytes` with 413, whether its Content-Length says so or it streams
    past the limit; nothing reads more than that."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"the request body is larger than {self.max_bytes} bytes"
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await _error(send, 413, "too_large", too_large)
            return
        seen, exceeded, answered = 0, False, False

        async def counted() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal answered
            if exceeded:  # whatever the app made of the cut-off body, the answer is 413
                if not answered:
                    answered = True
                    await _error(send, 413, "too_large", too_large)
                return
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not answered:
                await _error(send, 413, "too_large", too_large)


class SecurityHeaders:
    """Every answer: no framing, no sniffing, no referrer, a content security policy that allows only this
    service's own scripts, styles and connections (pages load nothing from elsewhere); HSTS when served over
    TLS. API answers carry client data or tokens: `Cache-Control: no-store`.

    `style_hashes`: the CSP sources (`'sha256-…'`) of the printables' inline stylesheets (the handover, a protocol
    book). The pages fetch those with the login and open them as blob: pages, which keep the opener's policy: these
    exact stylesheets, and no other inline style, may then apply."""

    CSP = ("default-src 'self'; script-src 'self'; style-src 'self'{styles}; img-src 'self' data: {images}; "
           "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
           "frame-ancestors 'none'")

    def __init__(self, app: ASGIApp, *, hsts: bool, image_sources: tuple[str, ...] = (),
                 style_hashes: tuple[str, ...] = ()) -> None:
        """`image_sources`: origins pages may show images from (the map's tile server)."""
        self.app, self.hsts = app, hsts
        self.csp = self.CSP.format(images=" ".join(s for s in image_sources if s),
                                   styles="".join(f" {h}" for h in style_hashes)).replace("  ", " ")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        # Swagger UI and ReDoc (web/apidocs.py) start with an inline script and styles: they carry a CSP of their
        # own (their inline scripts by hash), not this one. Their assets are this service's own.
        docs = path in ("/docs", "/redoc") or path.startswith("/docs/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("X-Frame-Options", "DENY")
                if not docs:
                    headers.setdefault("Content-Security-Policy", self.csp)
                if path.startswith(("/api/", "/twilio/")) or path == "/api":
                    headers["Cache-Control"] = "no-store"
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
            await send(message)

        await self.app(scope, receive, with_headers)
