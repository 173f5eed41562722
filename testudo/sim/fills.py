"""Per-account fill storage with the look-ups the venues' history endpoints need."""

from __future__ import annotations

import bisect
import operator
from collections.abc import Iterable, Sequence

from testudo.sim.model import Fill

_by_time = operator.attrgetter("time_ms", "id")
_by_id = operator.attrgetter("id", "time_ms")


def _time_key(fill: Fill) -> int:
    return fill.time_ms


def _id_key(fill: Fill) -> int:
    return fill.id


class FillLog:
    """Fills of one account, kept sorted by time (and, per symbol, by id)."""

    def __init__(self) -> None:
        self._all: list[Fill] = []
        self._by_symbol: dict[str, list[Fill]] = {}

    def __len__(self) -> int:
        return len(self._all)

    def append(self, fill: Fill) -> None:
        """Record a live fill (newer than everything stored)."""
        if self._all and fill.time_ms < self._all[-1].time_ms:
            self.extend([fill])
            return
        self._all.append(fill)
        self._by_symbol.setdefault(fill.symbol, []).append(fill)

    def extend(self, fills: Iterable[Fill]) -> None:
        """Merge a batch of fills of any age."""
        batch = list(fills)
        if not batch:
            return
        self._all.extend(batch)
        self._all.sort(key=_by_time)
        by_symbol: dict[str, list[Fill]] = {}
        for fill in batch:
            by_symbol.setdefault(fill.symbol, []).append(fill)
        for symbol, fills in by_symbol.items():
            rows = self._by_symbol.setdefault(symbol, [])
            rows.extend(fills)
            rows.sort(key=_by_id)

    def all(self) -> Sequence[Fill]:
        """Every fill, oldest first."""
        return self._all

    def latest(self, limit: int) -> list[Fill]:
        """The ``limit`` newest fills, newest first."""
        return list(reversed(self._all[-limit:])) if limit > 0 else []

    def between(
        self, start_ms: int, end_ms: int | None, limit: int, *, within_latest: int | None = None
    ) -> list[Fill]:
        """Up to ``limit`` fills with ``start_ms <= time <= end_ms``, oldest first.

        ``within_latest`` searches only the newest that many fills (Hyperliquid serves only a
        user's 10,000 most recent fills, whatever the time range asked).
        """
        floor = 0 if within_latest is None else max(0, len(self._all) - within_latest)
        lo = max(floor, bisect.bisect_left(self._all, start_ms, key=_time_key))
        hi = (
            len(self._all)
            if end_ms is None
            else bisect.bisect_right(self._all, end_ms, key=_time_key)
        )
        return self._all[lo : min(hi, lo + limit)]

    def symbol_from_id(self, symbol: str, from_id: int, limit: int) -> list[Fill]:
        """Up to ``limit`` fills of ``symbol`` with id >= ``from_id``, by id."""
        rows = self._by_symbol.get(symbol, [])
        lo = bisect.bisect_left(rows, from_id, key=_id_key)
        return rows[lo : lo + limit]

    def symbol_between(
        self, symbol: str, start_ms: int, end_ms: int, limit: int, *, newest: bool
    ) -> list[Fill]:
        """Fills of ``symbol`` in a time window, oldest first; the newest ``limit`` if asked."""
        rows = [f for f in self._window(start_ms, end_ms) if f.symbol == symbol]
        return rows[-limit:] if newest else rows[:limit]

    def _window(self, start_ms: int, end_ms: int) -> Sequence[Fill]:
        lo = bisect.bisect_left(self._all, start_ms, key=_time_key)
        hi = bisect.bisect_right(self._all, end_ms, key=_time_key)
        return self._all[lo:hi]
