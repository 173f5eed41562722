"""Bybit's time windows for order history and executions: at most 7 days per request.

No ``startTime`` and no ``endTime``: the last 7 days; ``startTime`` alone: 7 days from it;
``endTime`` alone: the 7 days before it; both: at most 7 days apart. Unified accounts keep
executions for 730 days and orders for 2 years.
"""

from __future__ import annotations

from testudo.sim.dialects.bybit.common import Params, integer
from testudo.sim.dialects.bybit.errors import params_error

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
EXECUTION_RETENTION_MS = 730 * DAY_MS
ORDER_RETENTION_MS = 2 * 365 * DAY_MS


def window(params: Params, now_ms: int, retention_ms: int) -> tuple[int, int]:
    """The inclusive ``(start, end)`` a request covers; raise ``10001`` for a bad range."""
    start = integer(params, "startTime")
    end = integer(params, "endTime")
    if start is None and end is None:
        start, end = now_ms - WEEK_MS, now_ms
    elif start is None:
        assert end is not None
        start = end - WEEK_MS
    elif end is None:
        end = start + WEEK_MS
    if end < start:
        raise params_error("endTime must be greater than startTime")
    if end - start > WEEK_MS:
        raise params_error("The time range between startTime and endTime cannot exceed 7 days")
    return max(start, now_ms - retention_ms), end


def execution_window(params: Params, now_ms: int) -> tuple[int, int]:
    """The window of ``/v5/execution/list``."""
    return window(params, now_ms, EXECUTION_RETENTION_MS)


def history_window(params: Params, now_ms: int) -> tuple[int, int]:
    """The window of ``/v5/order/history``."""
    return window(params, now_ms, ORDER_RETENTION_MS)
