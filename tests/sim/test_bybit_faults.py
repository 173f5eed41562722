"""Every fault mode as the real ``ccxt.bybit`` experiences it."""

from __future__ import annotations

import time
from typing import Any

import ccxt
import pytest

from testudo.sim.client import SimAccount, SimClient

from .support import call

BTC = "BTC/USDT:USDT"


@pytest.fixture
async def bybit(sim: SimClient, account: SimAccount) -> Any:
    """A ``ccxt.bybit`` with its markets and unified-account probes already loaded."""
    exchange = sim.bybit(account)
    await call(exchange.load_markets)
    await call(exchange.is_unified_enabled)
    return exchange


async def test_latency_delays_but_answers(sim: SimClient, bybit: Any) -> None:
    await sim.set_fault("bybit", "latency", endpoint="/v5/account/wallet-balance", latency_ms=300)
    started = time.monotonic()
    balance = await call(bybit.fetch_balance)
    assert time.monotonic() - started >= 0.3
    assert balance["USDT"]["total"] == 10000.0


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, ccxt.ExchangeNotAvailable),
        (502, ccxt.ExchangeNotAvailable),
        (503, ccxt.ExchangeNotAvailable),
        (504, ccxt.RequestTimeout),
    ],
)
async def test_server_errors(
    sim: SimClient, bybit: Any, status: int, error: type[Exception]
) -> None:
    await sim.set_fault("bybit", "error", endpoint="/v5/position/list", status=status)
    with pytest.raises(error):
        await call(bybit.fetch_positions)
    assert (await call(bybit.fetch_balance))["USDT"]["total"] == 10000.0


async def test_error_rate_fails_some_requests(sim: SimClient, bybit: Any) -> None:
    await sim.set_fault("bybit", "error", endpoint="/v5/market/tickers", error_rate=0.5)
    outcomes = []
    for _ in range(20):
        try:
            await call(bybit.fetch_ticker, BTC)
            outcomes.append(True)
        except ccxt.ExchangeNotAvailable:
            outcomes.append(False)
    assert True in outcomes and False in outcomes


async def test_rate_limit_answers_10006_with_the_limit_headers(
    sim: SimClient, bybit: Any, account: SimAccount
) -> None:
    await sim.set_fault("bybit", "rate_limit", endpoint="/v5/order/create", retry_after=3)
    with pytest.raises(ccxt.RateLimitExceeded, match=r"10006.*Too many visits!"):
        await call(bybit.create_order, BTC, "market", "buy", 0.01)
    headers = {k.lower(): v for k, v in bybit.last_response_headers.items()}
    assert (headers["x-bapi-limit"], headers["x-bapi-limit-status"]) == ("20", "0")
    reset = int(headers["x-bapi-limit-reset-timestamp"])
    assert 2_000 < reset - bybit.milliseconds() <= 3_500
    await sim.set_fault("bybit", "off")
    assert await call(bybit.fetch_open_orders, BTC) == []


async def test_ip_rate_limit_answers_a_bare_403(sim: SimClient, bybit: Any) -> None:
    await sim.set_fault("bybit", "rate_limit", status=403)
    with pytest.raises(ccxt.RateLimitExceeded):
        await call(bybit.fetch_balance)
    raw = await sim.http.get("/bybit/v5/market/time")
    assert (raw.status_code, raw.text) == (403, "access too frequent")


async def test_sliding_window_rate_limit(sim: SimClient, bybit: Any) -> None:
    await sim.set_fault(
        "bybit", "rate_limit", endpoint="/v5/account/wallet-balance", limit=2, window_ms=60_000
    )
    await call(bybit.fetch_balance)
    await call(bybit.fetch_balance)
    with pytest.raises(ccxt.RateLimitExceeded, match="10006"):
        await call(bybit.fetch_balance)
    assert await call(bybit.fetch_positions) == []


async def test_timeout_and_ambiguous_timeout(sim: SimClient, bybit: Any) -> None:
    bybit.timeout = 500
    await sim.set_fault(
        "bybit", "timeout", endpoint="/v5/account/wallet-balance", timeout_ms=20_000
    )
    with pytest.raises(ccxt.RequestTimeout):
        await call(bybit.fetch_balance)
    await sim.set_fault(
        "bybit", "timeout", endpoint="/v5/order/create", timeout_ms=20_000, apply=True
    )
    with pytest.raises(ccxt.RequestTimeout):
        await call(
            bybit.create_order, BTC, "market", "buy", 0.01, None, {"clientOrderId": "intent-42"}
        )
    await sim.set_fault("bybit", "off")
    bybit.timeout = 10_000
    (placed,) = await call(bybit.fetch_open_orders, BTC, None, None, {"orderLinkId": "intent-42"})
    assert (placed["status"], placed["filled"]) == ("closed", 0.01)
    (history,) = await call(
        bybit.fetch_closed_orders, BTC, None, None, {"orderLinkId": "intent-42"}
    )
    assert history["id"] == placed["id"]


async def test_outage_then_recovery(sim: SimClient, account: SimAccount) -> None:
    await sim.set_fault("bybit", "outage")
    with pytest.raises(ccxt.ExchangeNotAvailable):
        await call(sim.bybit(account).load_markets)
    assert await sim.set_fault("bybit", "off") == []
    assert BTC in await call(sim.bybit(account).load_markets)


async def test_reject_answers_bybits_envelope_then_lapses(sim: SimClient, bybit: Any) -> None:
    await call(bybit.create_order, BTC, "market", "buy", 0.01)
    await sim.set_fault(
        "bybit",
        "reject",
        endpoint="/v5/order/create",
        code=110009,
        message="The number of stop orders exceeds maximum limit allowed",
        count=1,
    )
    stop = {"stopLossPrice": 49000, "reduceOnly": True}
    with pytest.raises(ccxt.InvalidOrder, match="110009"):
        await call(bybit.create_order, BTC, "market", "sell", 0.01, None, stop)
    assert (await call(bybit.create_order, BTC, "market", "sell", 0.01, None, stop))["id"]
    await sim.set_fault("bybit", "reject", endpoint="/v5/position/list", code=10016)
    with pytest.raises(ccxt.ExchangeError):
        await call(bybit.fetch_positions)
    raw = await sim.http.get("/bybit/v5/position/list")
    assert raw.status_code == 200
    assert raw.json() == {
        "retCode": 10016,
        "retMsg": "",
        "result": {},
        "retExtInfo": {},
        "time": raw.json()["time"],
    }
