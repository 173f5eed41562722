"""A request-weight governor per venue, shared by every account of the process.

Venues limit request *weight* per IP (Binance 2400 per minute, Hyperliquid 1200 per minute)
or per account. Polling is what spends it steadily, so every account actor asks the governor
before each poll request; when the venue's share is spent, polls wait (and every account's
polls slow down together) instead of running into 429s, which would look like an outage
exactly when protection matters. Orders never wait here: they are few and come first.

:class:`WeightWindow` is the pure rule (a sliding one-minute window of weights, the moment
the next request fits); :class:`Governor` applies it under trio.
"""

from __future__ import annotations

from collections import deque

import attrs
import trio

WINDOW = 60.0


@attrs.define
class WeightWindow:
    """The weights spent in the last ``window`` seconds, against a ``capacity``."""

    capacity: int
    window: float = WINDOW
    spent: deque[tuple[float, int]] = attrs.Factory(deque)
    total: int = 0

    def used(self, now: float) -> int:
        self._expire(now)
        return self.total

    def take(self, now: float, weight: int) -> float:
        """Spend ``weight`` now and return 0.0, or return the seconds until it would fit
        (spending nothing). A weight larger than the capacity fits an empty window."""
        self._expire(now)
        if self.total + weight <= self.capacity or not self.spent:
            self.spent.append((now, weight))
            self.total += weight
            return 0.0
        needed = self.total + weight - self.capacity
        freed = 0
        for at, spent in self.spent:
            freed += spent
            if freed >= needed:
                return max(at + self.window - now, 1e-3)
        return self.window

    def force(self, now: float, weight: int) -> None:
        """Spend ``weight`` now even past the capacity."""
        self._expire(now)
        self.spent.append((now, weight))
        self.total += weight

    def _expire(self, now: float) -> None:
        while self.spent and self.spent[0][0] <= now - self.window:
            _, weight = self.spent.popleft()
            self.total -= weight


class Governor:
    """Per-venue windows; ``acquire`` waits (FIFO per venue) until the weight fits."""

    def __init__(self, capacities: dict[str, int]) -> None:
        self._windows = {venue: WeightWindow(c) for venue, c in capacities.items()}
        self._locks = {venue: trio.Lock() for venue in capacities}

    def used(self, venue: str) -> int:
        window = self._windows.get(venue)
        return 0 if window is None else window.used(trio.current_time())

    def charge(self, venue: str, weight: int) -> None:
        """Count weight spent without waiting (orders and the reads a trade needs go first;
        the polls that follow wait for it)."""
        window = self._windows.get(venue)
        if window is not None and weight > 0:
            window.force(trio.current_time(), weight)

    async def acquire(self, venue: str, weight: int) -> float:
        """Wait until ``weight`` fits the venue's window; return the seconds waited."""
        window = self._windows.get(venue)
        if window is None or weight <= 0:
            return 0.0
        began = trio.current_time()
        async with self._locks[venue]:
            while (wait := window.take(trio.current_time(), weight)) > 0:  # noqa: ASYNC110
                await trio.sleep(wait)  # the window frees weight with time, not on an event
        return trio.current_time() - began
