"""Injected faults as the real ccxt clients experience them."""

from __future__ import annotations

import time
from typing import Any

import ccxt
import pytest

from testudo.sim.client import SimClient

from .support import call

BTC = "BTC/USDT:USDT"


async def test_latency_delays_but_answers(sim: SimClient, binance: Any) -> None:
    await call(binance.load_markets)
    await sim.set_fault("binanceusdm", "latency", endpoint="/fapi/v3/account", latency_ms=300)
    started = time.monotonic()
    balance = await call(binance.fetch_balance)
    assert time.monotonic() - started >= 0.3
    assert balance["USDT"]["total"] == 10000.0


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, ccxt.ExchangeNotAvailable),
        (503, ccxt.ExchangeNotAvailable),
        (504, ccxt.RequestTimeout),
    ],
)
async def test_server_errors(
    sim: SimClient, binance: Any, hyperliquid: Any, status: int, error: type[Exception]
) -> None:
    await call(binance.load_markets)
    await call(hyperliquid.load_markets)
    await sim.set_fault("*", "error", status=status)
    with pytest.raises(error):
        await call(binance.fetch_balance)
    with pytest.raises(error):
        await call(hyperliquid.fetch_balance)


async def test_error_rate_fails_some_requests(sim: SimClient, binance: Any) -> None:
    await call(binance.load_markets)
    await sim.set_fault("binanceusdm", "error", endpoint="/fapi/v1/ticker/24hr", error_rate=0.5)
    outcomes = []
    for _ in range(20):
        try:
            await call(binance.fetch_ticker, BTC)
            outcomes.append(True)
        except ccxt.ExchangeNotAvailable:
            outcomes.append(False)
    assert True in outcomes and False in outcomes


async def test_rate_limit_answers_429_with_retry_after(
    sim: SimClient, binance: Any, hyperliquid: Any
) -> None:
    await call(binance.load_markets)
    await call(hyperliquid.load_markets)
    await sim.set_fault("binanceusdm", "rate_limit", retry_after=7)
    with pytest.raises(ccxt.DDoSProtection, match="-1003"):
        await call(binance.fetch_balance)
    raw = await sim.http.get("/binanceusdm/fapi/v1/time")
    assert (raw.status_code, raw.headers["Retry-After"], raw.json()["code"]) == (429, "7", -1003)
    await sim.set_fault("hyperliquid", "rate_limit", endpoint="/info", limit=1, window_ms=60_000)
    await call(hyperliquid.fetch_balance)
    with pytest.raises(ccxt.RateLimitExceeded):
        await call(hyperliquid.fetch_balance)


async def test_timeout_and_ambiguous_timeout(sim: SimClient, binance: Any) -> None:
    await call(binance.load_markets)
    binance.timeout = 500
    await sim.set_fault("binanceusdm", "timeout", endpoint="/fapi/v3/account", timeout_ms=20_000)
    with pytest.raises(ccxt.RequestTimeout):
        await call(binance.fetch_balance)
    await sim.set_fault(
        "binanceusdm", "timeout", endpoint="/fapi/v1/order", timeout_ms=20_000, apply=True
    )
    with pytest.raises(ccxt.RequestTimeout):
        await call(
            binance.create_order, BTC, "market", "buy", 0.01, None, {"clientOrderId": "intent-42"}
        )
    await sim.set_fault("binanceusdm", "off")
    binance.timeout = 10_000
    placed = await call(binance.fetch_order, None, BTC, {"clientOrderId": "intent-42"})
    assert (placed["status"], placed["filled"]) == ("closed", 0.01)


async def test_outage_then_recovery(sim: SimClient, binance: Any, hyperliquid: Any) -> None:
    await sim.set_fault("*", "outage")
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await call(binance.load_markets)
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await call(hyperliquid.load_markets)
    rules = await sim.set_fault("*", "off")
    assert rules == []
    assert BTC in await call(binance.load_markets)
    assert "BTC/USDC:USDC" in await call(hyperliquid.load_markets)


async def test_reject_answers_the_venues_own_error_then_lapses(
    sim: SimClient, binance: Any, hyperliquid: Any
) -> None:
    await call(binance.load_markets)
    await call(hyperliquid.load_markets)
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await sim.set_fault(
        "binanceusdm",
        "reject",
        endpoint="/fapi/v1/algoOrder",
        code=-4045,
        message="Reach max stop order limit.",
        count=1,
    )
    stop = {"stopLossPrice": 49000, "reduceOnly": True}
    await call(binance.create_order, BTC, "market", "buy", 0.01)
    with pytest.raises(ccxt.ExchangeError, match="-4045"):
        await call(binance.create_order, BTC, "market", "sell", 0.01, None, stop)
    placed = await call(binance.create_order, BTC, "market", "sell", 0.01, None, stop)
    assert placed["id"]
    await sim.set_fault(
        "hyperliquid",
        "reject",
        endpoint="/exchange:order",
        code="tpsl",
        message="Invalid TP/SL price. asset=0",
    )
    with pytest.raises(ccxt.InvalidOrder, match="Invalid TP/SL price"):
        await call(hyperliquid.create_order, "BTC/USDC:USDC", "market", "buy", 0.01, 50000)
