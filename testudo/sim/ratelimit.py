"""Request-weight budgets: the weight each peer IP spends per window, and the refusal past it.

Pure bookkeeping on the injected clock (every call is handed ``now_ms``), so tests drive it
with a ``ManualClock``. Two window kinds, because the venues differ:

- **fixed** windows are aligned to the clock (``[k * window, (k + 1) * window)``): Binance's
  ``REQUEST_WEIGHT`` limiter counts per calendar minute and its ``X-MBX-USED-WEIGHT-1M``
  header restarts from zero at each minute;
- **sliding** windows count what was spent in the last ``window_ms``: Hyperliquid publishes
  only "per minute", and a sliding minute is the stricter reading a client must survive.
"""

from __future__ import annotations

import math
from collections import deque

import attrs

MINUTE_MS = 60_000


@attrs.frozen
class Admission:
    """The fate of one request: whether it may go on, the weight in use, when to retry."""

    allowed: bool
    used: int
    retry_after_s: int = 0


def window_start(now_ms: int, window_ms: int) -> int:
    """Start of the fixed window holding ``now_ms``."""
    return now_ms - now_ms % window_ms


def fixed_retry_after(now_ms: int, window_ms: int) -> int:
    """Whole seconds until the fixed window holding ``now_ms`` ends (at least 1)."""
    return max(1, math.ceil((window_start(now_ms, window_ms) + window_ms - now_ms) / 1000))


def sliding_retry_after(
    spends: list[tuple[int, int]], weight: int, limit: int, now_ms: int, window_ms: int
) -> int:
    """Whole seconds until enough of ``spends`` (oldest first) leaves the window for ``weight``.

    The answer is when the sum still in the window plus ``weight`` first fits in ``limit``.
    """
    used = sum(w for _, w in spends)
    for time_ms, spent in spends:
        used -= spent
        if used + weight <= limit:
            return max(1, math.ceil((time_ms + window_ms - now_ms) / 1000))
    return max(1, math.ceil(window_ms / 1000))


class WeightWindow:
    """Weight spent per key (a peer IP) within a fixed or sliding window."""

    def __init__(self, window_ms: int = MINUTE_MS, *, sliding: bool = False) -> None:
        if window_ms <= 0:
            raise ValueError("window_ms must be positive")
        self.window_ms = window_ms
        self.sliding = sliding
        self._spends: dict[str, deque[tuple[int, int]]] = {}

    def _live(self, key: str, now_ms: int) -> deque[tuple[int, int]]:
        """The spends of ``key`` still inside the window at ``now_ms`` (older ones dropped)."""
        spends = self._spends.setdefault(key, deque())
        if self.sliding:
            floor = now_ms - self.window_ms
            while spends and spends[0][0] <= floor:
                spends.popleft()
        else:
            start = window_start(now_ms, self.window_ms)
            while spends and spends[0][0] < start:
                spends.popleft()
        return spends

    def used(self, key: str, now_ms: int) -> int:
        """Weight ``key`` has spent in the window at ``now_ms``."""
        return sum(w for _, w in self._live(key, now_ms))

    def usage(self, now_ms: int) -> dict[str, int]:
        """Weight in use per key (keys with nothing in the window left out)."""
        shown = {key: self.used(key, now_ms) for key in list(self._spends)}
        return {key: used for key, used in shown.items() if used}

    def spend(self, key: str, weight: int, now_ms: int) -> int:
        """Record ``weight`` without checking a limit; return the weight now in use."""
        spends = self._live(key, now_ms)
        if weight > 0:
            spends.append((now_ms, weight))
        return sum(w for _, w in spends)

    def admit(self, key: str, weight: int, limit: int | None, now_ms: int) -> Admission:
        """Spend ``weight`` if it fits in ``limit`` (``None``: no limit), else refuse it.

        A refused request spends nothing; ``retry_after_s`` says when it would fit.
        """
        spends = self._live(key, now_ms)
        used = sum(w for _, w in spends)
        if limit is None or used + weight <= limit:
            return Admission(True, self.spend(key, weight, now_ms))
        if self.sliding:
            wait = sliding_retry_after(list(spends), weight, limit, now_ms, self.window_ms)
        else:
            wait = fixed_retry_after(now_ms, self.window_ms)
        return Admission(False, used, wait)

    def clear(self) -> None:
        """Forget every spend."""
        self._spends.clear()


@attrs.define
class Budget:
    """One venue limiter: its window, its limit (``None`` = unlimited) and where it comes from."""

    window: WeightWindow
    limit: int | None
    source: str = ""

    def public(self, now_ms: int) -> dict[str, object]:
        """JSON shape for the control API."""
        usage = self.window.usage(now_ms)
        return {
            "limit": self.limit,
            "window_ms": self.window.window_ms,
            "window": "sliding" if self.window.sliding else "fixed",
            "used": usage,
            "total": sum(usage.values()),
            "source": self.source,
        }


class Budgets:
    """Every venue's request-weight budget, by name (``binance``, ``hyperliquid``, ...)."""

    def __init__(self) -> None:
        self.by_name: dict[str, Budget] = {}

    def add(self, name: str, budget: Budget) -> None:
        """Register (or replace) a named budget."""
        self.by_name[name] = budget

    def admit(self, name: str, peer: str, weight: int, now_ms: int) -> Admission:
        """Spend ``weight`` for ``peer`` on budget ``name`` if it fits."""
        budget = self.by_name[name]
        return budget.window.admit(peer, weight, budget.limit, now_ms)

    def spend(self, name: str, peer: str, weight: int, now_ms: int) -> int:
        """Add weight learnt after answering (Hyperliquid's per-item surcharge)."""
        return self.by_name[name].window.spend(peer, weight, now_ms)

    def set_limit(self, name: str, limit: int | None) -> None:
        """Change a budget's limit (``None`` disables it); raise ``KeyError`` if unknown."""
        self.by_name[name].limit = limit

    def clear(self) -> None:
        """Forget the weight spent on every budget."""
        for budget in self.by_name.values():
            budget.window.clear()

    def public(self, now_ms: int) -> dict[str, object]:
        """JSON shape of every budget."""
        return {name: budget.public(now_ms) for name, budget in self.by_name.items()}
