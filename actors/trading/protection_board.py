"""The process's view of which managed positions are unprotected right now (metrics only).

Each trade-group actor reports after every change whether its position lacks its stop; the
board turns those reports into ``testudo_unprotected_positions`` (how many now),
``testudo_unprotected_seconds_total`` (how long, accrued at every report) and
``testudo_time_to_protection_seconds`` (fill seen → stop acknowledged).
"""

from __future__ import annotations

import attrs
import trio

from actors.runtime.metrics import TIME_TO_PROTECTION, UNPROTECTED_POSITIONS, UNPROTECTED_SECONDS


@attrs.define
class _Exposure:
    venue: str
    since: float  # trio time the position became unprotected
    accrued_to: float  # trio time up to which its seconds are counted


class ProtectionBoard:
    """Group id → since when its position has been unprotected (trio time)."""

    def __init__(self) -> None:
        self._exposed: dict[str, _Exposure] = {}

    def __len__(self) -> int:
        return len(self._exposed)

    def report(self, group_id: str, venue: str, state: str) -> None:
        """The group's protection state (``protected``, ``unprotected``, ``flat``,
        ``unguarded``); an exposure that ends with the stop acknowledged is measured."""
        now = trio.current_time()
        exposure = self._exposed.get(group_id)
        unprotected = state == "unprotected"
        if unprotected and exposure is None:
            self._exposed[group_id] = _Exposure(venue, now, now)
            UNPROTECTED_POSITIONS.labels(venue).inc()
        elif exposure is not None:
            UNPROTECTED_SECONDS.labels(venue).inc(now - exposure.accrued_to)
            exposure.accrued_to = now
            if not unprotected:
                del self._exposed[group_id]
                UNPROTECTED_POSITIONS.labels(venue).dec()
                if state == "protected":
                    TIME_TO_PROTECTION.labels(venue).observe(now - exposure.since)

    def forget(self, group_id: str) -> None:
        """The group's actor stops: its exposure is no longer this process's to count."""
        exposure = self._exposed.pop(group_id, None)
        if exposure is not None:
            now = trio.current_time()
            UNPROTECTED_SECONDS.labels(exposure.venue).inc(now - exposure.accrued_to)
            UNPROTECTED_POSITIONS.labels(exposure.venue).dec()


BOARD = ProtectionBoard()
