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

    async def next_message(self, timeout: float = 10) -> dict[str, Any]:
        """The next sequenced message (heartbeats skipped), acknowledged."""
        deadline = time.monotonic() + timeout
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), max(0.01, deadline - time.monotonic())))
            if frame["type"] == "message":
                self.last_seq = frame["seq"]
                await self.ws.send(json.dumps({"type": "ack", "seq": frame["seq"]}))
                return frame

    async def drain(self, until_seq: int, timeout: float = 10) -> list[dict[str, Any]]:
        got = []
        while self.last_seq < until_seq:
            got.append(await self.next_message(timeout))
        return got

    async def wait_for(self, predicate, timeout: float = 10) -> dict[str, Any]:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        while True:
            message = await self.next_message(max(0.01, deadline - time.monotonic()))
            if predicate(message):
                return message

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
