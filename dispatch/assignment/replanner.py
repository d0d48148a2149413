"""Coalescing re-plans: changes of the night ask for a re-plan; at most one runs and one more waits.

Requests made while a re-plan runs are merged into the next one, so a burst of changes never queues
work without bound. `request` is thread-safe (request handlers run in the threadpool); the re-plan
itself runs in a worker thread, off the event loop.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

log = logging.getLogger("nightcare.assignment")
MAX_TRIGGERS_KEPT = 50


class Replanner:
    def __init__(self, run: Callable[[list[str]], object]) -> None:
        self._run = run
        self._lock = threading.Lock()
        self._pending: list[str] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._busy = False
        self.requests = 0
        self.runs = 0

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._work(), name="nightcare-replanner")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def request(self, trigger: str) -> None:
        with self._lock:
            self.requests += 1
            self._pending.append(trigger)
            del self._pending[:-MAX_TRIGGERS_KEPT]
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def idle(self) -> None:
        """Wait until nothing is pending or running (tests, shutdown)."""
        while True:
            with self._lock:
                pending = bool(self._pending)
            if not pending and (self._wake is None or not self._wake.is_set()) and not self._busy:
                return
            await asyncio.sleep(0.01)

    async def _work(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            with self._lock:
                triggers, self._pending = self._pending, []
            if not triggers:
                continue
            self._busy = True
            try:
                await asyncio.to_thread(self._run, triggers)
                self.runs += 1
            except Exception:
                log.exception("re-plan failed (%d triggers)", len(triggers))
            finally:
                self._busy = False
