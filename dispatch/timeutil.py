"""All times are stored in UTC; these helpers keep that true. "Now" comes from one clock per process.

The clock runs in real time. A test or a demo may start it at another moment (`NIGHTCARE_CLOCK_START`,
refused in production): the service then believes it is, say, 02:00 on a winter night and its clock runs on
from there at real speed, so that what depends on the hour (the shift on duty, the bag check, the visits in
the plan) can be tried at any hour of the day.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self.start = start
        self.offset = (start - datetime.now(UTC)) if start is not None else timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


_clock = Clock()


def utcnow() -> datetime:
    return _clock.now()


def current_clock() -> Clock:
    return _clock


def use_clock(clock: Clock) -> Clock:
    """Make `clock` the process's clock; returns the one it replaces (tests put it back)."""
    global _clock
    previous, _clock = _clock, clock
    return previous

