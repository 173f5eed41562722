"""Binance's userTrades windows: never startTime after endTime, whatever the watermark says."""

from __future__ import annotations

from hypothesis import given, strategies as st

from testudo.exchanges.venues import binance_history as history
from testudo.exchanges.venues.history import Watermark, ms_to_datetime

NOW = 1_796_000_000_000
DAY = 86_400_000


def test_a_run_right_after_the_last_one_asks_for_the_end_instant_alone() -> None:
    saved = Watermark(last_time=ms_to_datetime(NOW))  # the previous run read up to now
    cursor = history.start(saved, NOW - 90 * DAY)
    request = history.request_of("BTCUSDT", cursor, NOW - 90 * DAY, NOW)
    assert request["startTime"] <= request["endTime"] == NOW
    following = history.advance(cursor, request, [], NOW)
    assert following.done


@given(
    resume=st.integers(NOW - 100 * DAY, NOW + DAY),
    lookback=st.integers(1, 90),
)
def test_windows_are_never_inverted(resume: int, lookback: int) -> None:
    start_ms = NOW - lookback * DAY
    cursor = history.start(Watermark(last_time=ms_to_datetime(resume)), start_ms)
    for _ in range(20):
        request = history.request_of("BTCUSDT", cursor, start_ms, NOW)
        assert start_ms <= request["startTime"] <= request["endTime"] <= NOW
        cursor = history.advance(cursor, request, [], NOW)
        if cursor.done:
            break
