"""A nurse's phone on the live channel, as the tests and the benchmark use it (the real websockets client)."""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import websockets


class Phone:
    def __init__(self, base_url: str, token: str) -> None:
        self.url = base_url.replace("http://", "ws://") + "/ws/nurse"
        self.token = token
        self.ws: Any = None
        self.welcome: dict[str, Any] = {}
        self.last_seq = 0

    async def connect(self, *, last_seq: int | None = None, **options: Any) -> dict[str, Any]:
        self.ws = await websockets.connect(self.url, **options)
        await self.ws.send(json.dumps({"type": "hello", "token": self.token,
                                       "last_seq": self.last_seq if last_seq is None else last_seq}))
        self.welcome = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
        return self.welcome

    async def next_frame(self, timeout: float = 10) -> dict[str, Any]:
        """The next message or catch-up (heartbeats skipped); the phone acknowledges where it now is."""
        deadline = time.monotonic() + timeout
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), max(0.01, deadline - time.monotonic())))
            if frame["type"] in ("message", "caught_up"):
                self.last_seq = frame["seq"] if frame["type"] == "message" else frame["last_seq"]
                await self.ws.send(json.dumps({"type": "ack", "seq": self.last_seq}))
                return frame

    async def next_message(self, timeout: float = 10) -> dict[str, Any]:
        """The next sequenced message, acknowledged."""
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.next_frame(max(0.01, deadline - time.monotonic()))
            if frame["type"] == "message":
                return frame

    async def drain(self, until_seq: int, timeout: float = 10) -> list[dict[str, Any]]:
        """Every message the server sends until the phone is at `until_seq` (passed-over ones excluded)."""
        got = []
        while self.last_seq < until_seq:
            frame = await self.next_frame(timeout)
            if frame["type"] == "message":
                got.append(frame)
        return got

    async def wait_for(self, predicate, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            message = await self.next_message(max(0.01, deadline - time.monotonic()))
            if predicate(message):
                return message

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
