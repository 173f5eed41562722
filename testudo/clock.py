"""Wall-clock time behind one small interface, so tests can move time (TTL, expiry).

Everything that compares against "now" for a business rule (nonce and pairing TTLs, token
expiry, grace windows) asks a :class:`Clock`; SQL gets the time as a parameter instead of
calling ``now()``, so a test's :class:`ManualClock` governs the database's view as well.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class ManualClock:
    """A clock that only moves when told to (for tests and scenario scripts)."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += dt.timedelta(seconds=seconds)
