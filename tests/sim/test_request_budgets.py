"""Request weight and the request log, as the real ccxt clients meet them."""

from __future__ import annotations

import time
from typing import Any

import ccxt
import pytest

from testudo.sim.client import SimAccount, SimClient
from testudo.sim.clock import ManualClock
from testudo.sim.simulator import SimConfig

from .support import call

BTC = "BTC/USDT:USDT"
HL_BTC = "BTC/USDC:USDC"


@pytest.fixture
def sim_config() -> SimConfig:
    """A clock that only moves when the test says, started at the real time (ccxt's
    timestamps and nonces are the machine's)."""
    return SimConfig(port=0, walk_interval_s=None, clock=ManualClock(time.time_ns() // 1_000_000))


def advance(sim: SimClient, ms: int) -> None:
    clock = sim.simulator.clock
    assert isinstance(clock, ManualClock)
    clock.advance(ms)


async def test_binance_reports_used_weight_and_answers_429_past_the_limit(
    sim: SimClient, binance: Any
) -> None:
    await sim.set_weight_limit("binance", 55)
    first = await sim.http.get("/binanceusdm/fapi/v1/ticker/24hr", params={"symbol": "BTCUSDT"})
    assert first.headers["X-MBX-USED-WEIGHT-1M"] == "1"
    every = await sim.http.get("/binanceusdm/fapi/v1/ticker/24hr")
    assert every.headers["X-MBX-USED-WEIGHT-1M"] == "41"
    await call(binance.fetch_positions)  # exchangeInfo 1, leverageBracket 1, positionRisk 5
    weights = await sim.weights()
    assert weights["binance"]["used"] == {"127.0.0.1": 48}
    assert weights["binance"]["limit"] == 55
    await call(binance.fetch_open_orders, BTC)  # 1 with a symbol
    await call(binance.fetch_balance)  # account: 5, 54 in all
    with pytest.raises(ccxt.DDoSProtection, match="-1003"):
        await call(binance.fetch_balance)
    refused = await sim.http.get("/binanceusdm/fapi/v1/ticker/24hr")
    assert refused.status_code == 429
    assert refused.json()["code"] == -1003
    assert refused.headers["X-MBX-USED-WEIGHT-1M"] == "54"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    advance(sim, 60_000)
    again = await sim.http.get("/binanceusdm/fapi/v1/time")
    assert (again.status_code, again.headers["X-MBX-USED-WEIGHT-1M"]) == (200, "1")


async def test_binance_orders_weigh_nothing_and_sapi_has_its_own_budget(
    sim: SimClient, account: SimAccount
) -> None:
    binance = sim.binance(account)
    await call(binance.load_markets)  # exchangeInfo 1 + two /sapi calls (10 + 1)
    used = (await sim.weights())["binance"]["total"]
    clock = await sim.http.get("/binanceusdm/fapi/v1/time")
    assert clock.headers["X-MBX-USED-WEIGHT-1M"] == str(used + 1)
    await call(binance.create_order, BTC, "market", "buy", 0.01)
    weights = await sim.weights()
    assert weights["binance"]["total"] == used + 1
    assert weights["binance_sapi"]["total"] == 10 + 1


async def test_hyperliquid_weight_budget_refuses_with_429_null(
    sim: SimClient, hyperliquid: Any, account: SimAccount
) -> None:
    hyperliquid.options["builderFee"] = False
    await call(hyperliquid.load_markets)
    await sim.http.delete("/_sim/weights")
    await sim.set_weight_limit("hyperliquid", 100)
    for _ in range(5):  # frontendOpenOrders weighs 20
        await call(hyperliquid.fetch_open_orders, HL_BTC)
    assert (await sim.weights())["hyperliquid"]["used"] == {"127.0.0.1": 100}
    with pytest.raises(ccxt.RateLimitExceeded):
        await call(hyperliquid.fetch_open_orders, HL_BTC)
    raw = await sim.http.post("/hyperliquid/info", json={"type": "l2Book", "coin": "BTC"})
    assert (raw.status_code, raw.text) == (429, "null")
    advance(sim, 60_001)
    assert await call(hyperliquid.fetch_open_orders, HL_BTC) == []


async def test_hyperliquid_fills_cost_extra_weight_per_20_items(
    sim: SimClient, account: SimAccount
) -> None:
    await sim.generate_history(account, venue="hyperliquid", fills=3000, days=30, seed=3)
    await sim.http.delete("/_sim/weights")
    fills = await sim.http.post(
        "/hyperliquid/info", json={"type": "userFills", "user": account.wallet_address}
    )
    assert len(fills.json()) == 2000
    assert (await sim.weights())["hyperliquid"]["total"] == 20 + 2000 // 20
    await sim.http.post(
        "/hyperliquid/info", json={"type": "clearinghouseState", "user": account.wallet_address}
    )
    assert (await sim.weights())["hyperliquid"]["total"] == 122


async def test_request_log_shows_referral_and_builder_fee_actions_and_their_signer(
    sim: SimClient, account: SimAccount
) -> None:
    default = sim.hyperliquid(account)
    await call(default.create_order, HL_BTC, "market", "buy", 0.01, 50000)
    sent = [r["key"] for r in await sim.requests("hyperliquid", key="/exchange:*")]
    assert sent == ["/exchange:approveBuilderFee", "/exchange:setReferrer", "/exchange:order"]
    signers = {r["signer"] for r in await sim.requests("hyperliquid", key="/exchange:*")}
    assert signers == {account.wallet_address.lower()}
    await sim.http.delete("/_sim/requests")
    quiet = sim.hyperliquid(account, refSet=True, approvedBuilderFee=True, builderFee=False)
    await call(quiet.create_order, HL_BTC, "market", "sell", 0.01, 50000)
    await call(quiet.fetch_open_orders, HL_BTC)
    logged = await sim.requests("hyperliquid")
    assert [r["key"] for r in logged if r["key"].startswith("/exchange")] == ["/exchange:order"]
    assert "/info:frontendOpenOrders" in [r["key"] for r in logged]
    assert all(r["status"] == 200 and r["peer"] == "127.0.0.1" for r in logged)
    assert [r["key"] for r in await sim.requests("hyperliquid", limit=1)] == [
        "/info:frontendOpenOrders"
    ]
    binance = sim.binance(account, fetchCurrencies=False)
    await call(binance.fetch_balance)
    assert [r["path"] for r in await sim.requests("binanceusdm")][-1] == "/fapi/v3/account"
