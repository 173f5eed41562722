"""Weight windows, the venues' weight tables and the request log, as plain functions."""

from __future__ import annotations

from hypothesis import given, strategies as st

from testudo.sim.dialects.binance.weights import FAPI, SAPI, depth_weight, request_weight
from testudo.sim.dialects.hyperliquid.weights import (
    batch_length,
    exchange_weight,
    info_extra_weight,
    info_weight,
)
from testudo.sim.ratelimit import (
    Budget,
    Budgets,
    WeightWindow,
    fixed_retry_after,
    sliding_retry_after,
    window_start,
)
from testudo.sim.request_log import RequestLog

MINUTE = 60_000
T0 = 1_700_000_080_000  # 40 s into a minute


def test_fixed_window_counts_per_calendar_minute_and_refuses_past_the_limit() -> None:
    window = WeightWindow(MINUTE, sliding=False)
    assert window.admit("ip", 2000, 2400, T0).used == 2000
    assert window.admit("ip", 400, 2400, T0 + 1000).used == 2400
    refused = window.admit("ip", 1, 2400, T0 + 2000)
    assert (refused.allowed, refused.used, refused.retry_after_s) == (False, 2400, 18)
    assert window.admit("other", 5, 2400, T0 + 2000).used == 5
    next_minute = window_start(T0, MINUTE) + MINUTE
    assert window.admit("ip", 1, 2400, next_minute).used == 1
    assert window.usage(next_minute) == {"ip": 1}


def test_sliding_window_frees_weight_as_it_ages() -> None:
    window = WeightWindow(MINUTE, sliding=True)
    window.admit("ip", 600, 1200, T0)
    window.admit("ip", 600, 1200, T0 + 30_000)
    refused = window.admit("ip", 20, 1200, T0 + 31_000)
    assert (refused.allowed, refused.retry_after_s) == (False, 29)
    assert window.admit("ip", 20, 1200, T0 + MINUTE + 1).used == 620


def test_retry_after_helpers() -> None:
    assert fixed_retry_after(T0, MINUTE) == 20
    assert fixed_retry_after(window_start(T0, MINUTE) + MINUTE - 1, MINUTE) == 1
    spends = [(T0, 500), (T0 + 10_000, 500), (T0 + 20_000, 200)]
    assert sliding_retry_after(spends, 400, 1200, T0 + 25_000, MINUTE) == 35
    assert sliding_retry_after(spends, 2000, 1200, T0 + 25_000, MINUTE) == 60


@given(
    st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 200)), min_size=1, max_size=60),
    st.booleans(),
)
def test_admitted_weight_never_exceeds_the_limit(
    steps: list[tuple[int, int]], sliding: bool
) -> None:
    window = WeightWindow(MINUTE, sliding=sliding)
    now, admitted = T0, []
    for gap, weight in steps:
        now += gap
        admission = window.admit("ip", weight, 500, now)
        if admission.allowed:
            admitted.append((now, weight))
        assert window.used("ip", now) <= 500
        assert admission.used == window.used("ip", now)
    if not sliding:
        start = window_start(now, MINUTE)
        assert window.used("ip", now) == sum(w for t, w in admitted if t >= start)


def test_no_limit_admits_everything_and_budgets_report_usage() -> None:
    budgets = Budgets()
    budgets.add("hl", Budget(WeightWindow(MINUTE, sliding=True), None, "docs"))
    assert budgets.admit("hl", "1.2.3.4", 10_000, T0).allowed
    budgets.spend("hl", "1.2.3.4", 7, T0)
    budgets.set_limit("hl", 100)
    assert not budgets.admit("hl", "1.2.3.4", 1, T0).allowed
    shown = budgets.public(T0)["hl"]
    assert shown == {
        "limit": 100,
        "window_ms": MINUTE,
        "window": "sliding",
        "used": {"1.2.3.4": 10_007},
        "total": 10_007,
        "source": "docs",
    }
    budgets.clear()
    assert budgets.admit("hl", "1.2.3.4", 100, T0).allowed


def test_binance_weights_follow_the_documentation() -> None:
    assert request_weight("GET", "/fapi/v1/openOrders", {"symbol": "BTCUSDT"}) == (FAPI, 1)
    assert request_weight("GET", "/fapi/v1/openOrders", {}) == (FAPI, 40)
    assert request_weight("GET", "/fapi/v1/openAlgoOrders", {}) == (FAPI, 40)
    assert request_weight("GET", "/fapi/v3/account", {}) == (FAPI, 5)
    assert request_weight("GET", "/fapi/v3/positionRisk", {}) == (FAPI, 5)
    assert request_weight("POST", "/fapi/v1/order", {"symbol": "BTCUSDT"}) == (FAPI, 0)
    assert request_weight("POST", "/fapi/v1/algoOrder", {}) == (FAPI, 0)
    assert request_weight("GET", "/fapi/v1/userTrades", {"symbol": "X"}) == (FAPI, 5)
    assert request_weight("GET", "/fapi/v1/ticker/24hr", {}) == (FAPI, 40)
    assert request_weight("GET", "/fapi/v1/ticker/24hr", {"symbol": "X"}) == (FAPI, 1)
    assert request_weight("GET", "/fapi/v1/positionSide/dual", {}) == (FAPI, 30)
    assert request_weight("GET", "/fapi/v1/multiAssetsMargin", {}) == (FAPI, 30)
    assert request_weight("GET", "/fapi/v1/exchangeInfo", {}) == (FAPI, 1)
    assert request_weight("GET", "/sapi/v1/capital/config/getall", {}) == (SAPI, 10)
    assert request_weight("GET", "/fapi/v9/unknown", {}) == (FAPI, 1)
    assert [depth_weight(x) for x in ("5", "50", "100", "500", "1000", None, "7")] == [
        2,
        2,
        5,
        10,
        20,
        10,
        10,
    ]


def test_hyperliquid_weights_follow_the_documentation() -> None:
    assert [info_weight(k) for k in ("l2Book", "clearinghouseState", "orderStatus")] == [2, 2, 2]
    assert [info_weight(k) for k in ("frontendOpenOrders", "meta", "userFills", None)] == [
        20,
        20,
        20,
        20,
    ]
    assert info_weight("userRole") == 60
    assert info_extra_weight("userFills", 2000) == 100
    assert info_extra_weight("userFillsByTime", 39) == 1
    assert info_extra_weight("candleSnapshot", 120) == 2
    assert info_extra_weight("frontendOpenOrders", 500) == 0
    assert exchange_weight({"type": "order", "orders": [{}] * 79}) == 2
    assert exchange_weight({"type": "cancel", "cancels": [{}] * 40}) == 2
    assert exchange_weight({"type": "updateLeverage"}) == 1
    assert exchange_weight(None) == 1
    assert batch_length({"type": "batchModify", "modifies": [{}] * 3}) == 3


def test_request_log_is_a_bounded_ring_with_filters() -> None:
    log = RequestLog(capacity=3)
    for n, key in enumerate(["/info:meta", "/exchange:setReferrer", "/exchange:order", "/x"]):
        entry = log.record(
            "hyperliquid", "POST", key.split(":")[0], ["/p", key], peer="ip", now_ms=n
        )
        with log.serving(entry):
            log.note_signer("0xABC")
    log.note_signer("0xignored")
    assert len(log) == 3
    assert [e.seq for e in log.select()] == [2, 3, 4]
    assert [e.keys[-1] for e in log.select(key="/exchange:*")] == [
        "/exchange:setReferrer",
        "/exchange:order",
    ]
    assert log.select(exchange="binanceusdm") == []
    assert [e.seq for e in log.select(limit=1)] == [4]
    assert log.select(limit=0) == []
    row = log.select(key="/exchange:order")[0].public()
    assert (row["key"], row["signer"], row["time"]) == ("/exchange:order", "0xabc", 2)
    log.clear()
    assert len(log) == 0
