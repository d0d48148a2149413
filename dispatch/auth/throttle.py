"""What keeps a login flood from hurting the service: failed-login budgets and hashing slots.

- `LoginThrottle` counts failed logins per username and per source address in tiers of fixed windows,
  each starting at its first failure (e.g. 5 a minute, 20 an hour, 100 a day). Once a tier is spent,
  logins for that username or from that address get a 429 whose Retry-After is when that window ends: it
  grows from a minute to an hour to a day as the failures go on. A throttled login spends no hash.
  Successful logins are not counted. The counts live in a `limits` storage: in memory per worker process
  by default, or in a store the workers share (Redis) when `NIGHTCARE_RATE_LIMIT_STORAGE` names one.
  (Fixed windows, not moving ones: a counter per window is cheap to keep and to expire, where the memory
  storage's moving windows keep every failure for a day and expire them key by key through a thread.)
- `HashSlots` lets at most `max_concurrent_hashes` Argon2 checks run at once, on threads of their own at a
  lower CPU priority; a login that finds no slot within `hash_slot_wait_s` gets a 429 instead of queueing
  up threads.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import os
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import TypeVar

from limits import RateLimitItem, parse_many
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

from dispatch.auth import passwords
from dispatch.errors import TooManyRequests
from dispatch.settings import Settings

NAMESPACE = "nightcare-login"
T = TypeVar("T")


def _async_uri(uri: str) -> str:
    """`limits` names its asyncio storages async+memory://, async+redis://, ...: accept both spellings."""
    return uri if uri.startswith("async+") else f"async+{uri}"


def _key(text: str) -> str:
    """Counts are kept under a digest, not under what someone typed as a username (maybe a password)."""
    return hashlib.sha256(text.strip().casefold().encode()).hexdigest()[:32]


class LoginThrottle:
    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.per_username: list[RateLimitItem] = parse_many(settings.login_limits_per_username)
        self.per_address: list[RateLimitItem] = parse_many(settings.login_limits_per_address)
        self.limiter = FixedWindowRateLimiter(storage_from_string(_async_uri(settings.rate_limit_storage)))
        self.clock = clock  # the storage's clock too; tests replace both

    def _budgets(self, username: str, address: str) -> list[tuple[RateLimitItem, str, str]]:
        return ([(item, "user", _key(username)) for item in self.per_username]
                + [(item, "address", _key(address)) for item in self.per_address])

    async def check(self, *, username: str, address: str) -> None:
        """Raise TooManyRequests when a tier for this username or address is spent."""
        waits = []
        for item, kind, key in self._budgets(username, address):
            if not await self.limiter.test(item, NAMESPACE, kind, key):
                stats = await self.limiter.get_window_stats(item, NAMESPACE, kind, key)
                waits.append(stats.reset_time - self.clock())
        if waits:
            seconds = max(1, math.ceil(max(waits)))
            raise TooManyRequests(f"too many failed logins: try again in {seconds} seconds", retry_after=seconds)

    async def failed(self, *, username: str, address: str) -> None:
        """Count a failed login against the username and the address."""
        for item, kind, key in self._budgets(username, address):
            await self.limiter.hit(item, NAMESPACE, kind, key)


HASH_NICE = 10


def _lower_priority() -> None:
    """Run this hashing thread (and the threads Argon2 starts for its lanes, which inherit it) at a lower CPU
    priority than the event loop and the request threads: under a flood of logins, the CPU goes to the calls
    first. Linux keeps a nice value per thread; elsewhere this does nothing."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICE)


# Password checks run on these threads, apart from the request threadpool; HashSlots lets at most
# max_concurrent_hashes (≤ 16) of them work at once.
_executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="nightcare-hash", initializer=_lower_priority)


class HashSlots:
    def __init__(self, settings: Settings) -> None:
        self.size = settings.max_concurrent_hashes
        self.wait_s = settings.hash_slot_wait_s
        self._semaphore: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _slots(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._loop is not loop:  # created on the serving loop
            self._semaphore, self._loop = asyncio.Semaphore(self.size), loop
        return self._semaphore

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        slots = self._slots()
        try:
            await asyncio.wait_for(slots.acquire(), timeout=self.wait_s)
        except TimeoutError:
            raise TooManyRequests("too many logins at once: try again in a second", retry_after=1) from None
        try:
            yield
        finally:
            slots.release()

    @staticmethod
    async def run(check: Callable[..., T], *args: object) -> T:
        """Run a password check on a hashing thread (call it within `slot()`)."""
        return await asyncio.get_running_loop().run_in_executor(_executor, check, *args)


class LoginGuard:
    """Both, as one per-app object (app.state.login_guard)."""

    def __init__(self, settings: Settings) -> None:
        self.throttle = LoginThrottle(settings)
        self.hashing = HashSlots(settings)
        _executor.submit(passwords.warm_up, settings)
