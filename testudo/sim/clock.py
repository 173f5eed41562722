"""Injectable wall clocks (milliseconds since the Unix epoch)."""

from __future__ import annotations

import time
from typing import Protocol

import attrs


class Clock(Protocol):
    """Source of the simulator's notion of "now"."""

    def now_ms(self) -> int:
        """Milliseconds since the Unix epoch."""
        ...


class SystemClock:
    """The machine's wall clock."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


@attrs.define
class ManualClock:
    """A clock that only moves when told to; for tests."""

    current_ms: int = 1_700_000_000_000

    def now_ms(self) -> int:
        return self.current_ms

    def advance(self, ms: int) -> None:
        """Move the clock forward by ``ms`` milliseconds."""
        self.current_ms += ms
