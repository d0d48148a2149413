"""Passwords: Argon2id hashing and checking, and the policy a new password must meet.

Checking is CPU- and memory-bound (tens to hundreds of milliseconds): callers run `check` off the event
loop, with no database transaction open, and within a hashing slot (see throttle.py).
"""
from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from dispatch.errors import Invalid
from dispatch.settings import Settings

MIN_LENGTH = 12
# zxcvbn's score: 0-2 means fewer than 10^8 guesses, i.e. the password is (made of) a common password,
# a dictionary word or name, a keyboard pattern, a sequence, a repeat or a date.
MIN_SCORE = 3
ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; a longer password is judged on its first 72 characters


def password_hasher(settings: Settings) -> PasswordHasher:
    return PasswordHasher(memory_cost=settings.password_memory_kib, time_cost=settings.password_time_cost)


def hash_password(settings: Settings, password: str) -> str:
    return password_hasher(settings).hash(password)


@functools.lru_cache(maxsize=4)
def _dummy_hash(memory_kib: int, time_cost: int) -> str:
    """A hash of a random secret with the current cost: checking against it costs what a real check does."""
    return PasswordHasher(memory_cost=memory_kib, time_cost=time_cost).hash(secrets.token_urlsafe(24))


def warm_up(settings: Settings) -> None:
    """Make the dummy hash ahead of the first login for an unknown user, which would otherwise take longer."""
    _dummy_hash(settings.password_memory_kib, settings.password_time_cost)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    new_hash: str | None = None  # set when the stored hash used older costs: store this one instead


def check(settings: Settings, stored_hash: str | None, password: str) -> Verdict:
    """Check `password` against `stored_hash`; without a stored hash (no such user), spend the same effort
    against a dummy hash and fail, so that timing does not tell which usernames exist. Blocking."""
    hasher = password_hasher(settings)
    target = stored_hash or _dummy_hash(settings.password_memory_kib, settings.password_time_cost)
    try:
        hasher.verify(target, password)
    except (VerificationError, InvalidHashError):
        return Verdict(ok=False)
    if stored_hash is None:  # unreachable in practice: nobody knows the dummy's secret
        return Verdict(ok=False)
    new_hash = hasher.hash(password) if hasher.check_needs_rehash(stored_hash) else None
    return Verdict(ok=True, new_hash=new_hash)


def check_policy(password: str, *, username: str) -> None:
    """Refuse a password that is short, contains the username or is common (zxcvbn's frequency lists and
    patterns). Raises Invalid naming the field `password`."""
    if len(password) < MIN_LENGTH:
        raise Invalid(f"a password needs at least {MIN_LENGTH} characters", field="password")
    name = username.strip().casefold()
    if name and name in password.casefold():
        raise Invalid("a password must not be or contain the username", field="password")
    result = zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[username])
    if result["score"] < MIN_SCORE:
        why = result["feedback"]["warning"] or "it is made of common passwords, words or patterns"
        raise Invalid(f"this password is too common or too easy to guess ({why.rstrip('.')}): "
                      "choose a passphrase of several unrelated words", field="password")
