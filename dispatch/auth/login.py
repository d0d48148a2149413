"""The login use case, kept off the write lock and off the event loop.

1. Throttle: a username or address whose failed-login budget is spent gets a 429 (no hash, no database,
   no thread), answered after `throttled_login_delay_s`.
2. Wait (on the event loop, briefly) for one of the few hashing slots; none free in time: 429.
3. Read the user in a short read transaction (the reader engine: on SQLite a deferred transaction beside
   the writer), closed before the password is checked.
4. Check the password (Argon2) on a hashing thread (lower CPU priority) with no database session open.
   An unknown user is checked against a dummy hash: the same effort, the same answer.
5. A success writes the token (and a rehash) in a short write transaction of its own, committed before the
   response is sent. A failure counts against the username and the address, and gets the one 401 that
   every failure gets.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from dispatch.auth import passwords, service
from dispatch.auth.models import AuthToken
from dispatch.auth.service import WRONG_CREDENTIALS, LoginCandidate
from dispatch.auth.throttle import LoginGuard
from dispatch.errors import TooManyRequests, Unauthorized
from dispatch.settings import Settings

T = TypeVar("T")


def _in_transaction(engine: Engine, work: Callable[[Session], T]) -> T:
    """One short transaction on `engine`, committed (blocking: run in a worker thread)."""
    with Session(engine, expire_on_commit=False) as session:
        result = work(session)
        session.commit()
        return result


async def login(*, guard: LoginGuard, engine: Engine, reader_engine: Engine, settings: Settings,
                username: str, password: str, address: str) -> tuple[str, AuthToken, LoginCandidate]:
    """Returns (token, its record, the user): the token is committed when this returns."""
    try:
        await guard.throttle.check(username=username, address=address)
    except TooManyRequests:
        # Answer a throttled login late (as pam_faildelay does a failed one): a flood that waits for its
        # answers slows down to a few requests a second per connection, instead of keeping the event loop
        # busy with thousands of cheap 429s. Costs nothing here: a sleeping coroutine holds no thread.
        await asyncio.sleep(settings.throttled_login_delay_s)
        raise
    # At most max_concurrent_hashes logins get past here: only they use worker threads and the database.
    # The others wait here, holding neither (and, exempt from the request limiter, no request slot either).
    async with guard.hashing.slot():
        # Again, now that this login may hash: logins for one name that waited for a slot together cannot
        # all spend a hash after the budget ran out meanwhile.
        await guard.throttle.check(username=username, address=address)
        candidate = await run_in_threadpool(
            _in_transaction, reader_engine, lambda s: service.login_candidate(s, username=username))
        verdict = await guard.hashing.run(
            passwords.check, settings, candidate.password_hash if candidate else None, password)
        if candidate is not None and verdict.ok and candidate.active:
            token, record = await run_in_threadpool(
                _in_transaction, engine,
                lambda s: service.issue_token(s, settings=settings, candidate=candidate, new_hash=verdict.new_hash))
            return token, record, candidate
    await guard.throttle.failed(username=username, address=address)
    raise Unauthorized(WRONG_CREDENTIALS)
