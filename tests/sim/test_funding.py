"""Funding payments: at every funding time of the venue (Binance every 8 h, Hyperliquid every
hour, on the simulator's clock) open positions pay or receive ``size * mark * rate``; the
wallet moves by it and the real ccxt clients read it with ``fetch_funding_history``."""

from __future__ import annotations

import time
from decimal import Decimal as D
from typing import Any

import httpx
import pytest

from testudo.sim.client import SimAccount, SimClient
from testudo.sim.clock import ManualClock
from testudo.sim.engine import Engine
from testudo.sim.funding import HOUR_MS, amount, due_times
from testudo.sim.model import OrderKind, OrderRequest, Side
from testudo.sim.simulator import SimConfig

from .support import call

BINANCE_BTC = "BTC/USDT:USDT"
HL_BTC = "BTC/USDC:USDC"


@pytest.fixture
def sim_config() -> SimConfig:
    """A simulator whose funding times follow a manual clock that starts at the real time."""
    clock = ManualClock(time.time_ns() // 1_000_000)
    return SimConfig(host="127.0.0.1", port=0, seed=0, walk_interval_s=None, clock=clock)


def advance(sim: SimClient, ms: int) -> None:
    clock = sim.simulator.clock
    assert isinstance(clock, ManualClock)
    clock.advance(ms)


def in_step(sim: SimClient, client: Any) -> Any:
    """Make ccxt's timestamps the simulator's time (ccxt signs ``now - timeDifference``)."""
    client.options["timeDifference"] = client.milliseconds() - sim.simulator.now()
    return client


async def wallet(sim: SimClient, account: SimAccount, venue: str) -> D:
    return D((await sim.state(account))["venues"][venue]["balance"]["wallet"])


def test_funding_times_and_amounts() -> None:
    assert due_times(0, 3 * HOUR_MS - 1, HOUR_MS) == [HOUR_MS, 2 * HOUR_MS]
    assert due_times(HOUR_MS, HOUR_MS, HOUR_MS) == []
    assert due_times(HOUR_MS - 1, HOUR_MS, HOUR_MS) == [HOUR_MS]
    quantum = D("0.00000001")
    assert amount(D("0.02"), D("50000"), D("0.0001"), quantum) == D("-0.1")  # a long pays
    assert amount(D("-0.02"), D("50000"), D("0.0001"), quantum) == D("0.1")  # a short receives
    assert amount(D("0.02"), D("50000"), D("-0.0001"), quantum) == D("0.1")


def _buy(engine: Engine, qty: str) -> None:
    engine.place(
        1, OrderRequest(symbol="BTC_USDT", side=Side.BUY, kind=OrderKind.MARKET, qty=D(qty))
    )


def test_each_venue_pays_at_its_own_interval(
    binance_engine: Engine, hl_engine: Engine, clock: ManualClock
) -> None:
    hl_engine.funding.interval_ms = HOUR_MS
    for engine in (binance_engine, hl_engine):
        _buy(engine, "0.02")
    before = {e.venue: e.account(1).wallet_balance for e in (binance_engine, hl_engine)}
    clock.current_ms = (clock.current_ms // (8 * HOUR_MS) + 1) * 8 * HOUR_MS  # next 8 h mark
    binance_payments = binance_engine.settle_funding()
    hl_payments = hl_engine.settle_funding()
    assert len(binance_payments) == 1 and 1 <= len(hl_payments) <= 8
    mark = binance_engine.mark("BTC_USDT")
    assert binance_payments[0].amount == -D("0.02") * mark * D("0.0001")
    assert binance_payments[0].time_ms == clock.current_ms
    assert (
        binance_engine.account(1).wallet_balance == before["binance"] + binance_payments[0].amount
    )
    assert hl_engine.account(1).wallet_balance == before["hyperliquid"] + sum(
        p.amount for p in hl_payments
    )
    assert binance_engine.settle_funding() == []  # each funding time is paid once
    clock.advance(8 * HOUR_MS - 1)
    assert binance_engine.settle_funding() == []
    clock.advance(1)
    assert len(binance_engine.settle_funding()) == 1


def test_flat_accounts_and_unscheduled_venues_pay_nothing(
    binance_engine: Engine, clock: ManualClock
) -> None:
    clock.advance(8 * HOUR_MS)
    assert binance_engine.settle_funding() == []
    _buy(binance_engine, "0.02")
    binance_engine.funding.scheduled = False
    clock.advance(24 * HOUR_MS)
    assert binance_engine.settle_funding() == []
    binance_engine.funding.scheduled = True
    clock.advance(8 * HOUR_MS)
    assert len(binance_engine.settle_funding()) == 1  # no back pay for the unscheduled days


async def test_binance_funding_through_ccxt(
    sim: SimClient, account: SimAccount, binance: Any
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await sim.set_funding_rate("binanceusdm", "BTC_USDT", "0.0003")
    await call(in_step(sim, binance).load_markets)
    await call(binance.create_order, BINANCE_BTC, "market", "buy", 0.02)
    before = await wallet(sim, account, "binance")
    assert await call(in_step(sim, binance).fetch_funding_history, BINANCE_BTC) == []
    advance(sim, 8 * HOUR_MS)
    [paid] = await call(in_step(sim, binance).fetch_funding_history, BINANCE_BTC)
    change = await wallet(sim, account, "binance") - before
    mark = D((await sim.prices())["BTC_USDT"]["marks"]["binance"])
    assert change == D(paid["info"]["income"]) == -D("0.02") * mark * D("0.0003")
    assert paid["info"]["incomeType"] == "FUNDING_FEE" and paid["code"] == "USDT"
    assert paid["symbol"] == BINANCE_BTC and paid["timestamp"] % (8 * HOUR_MS) == 0
    since = paid["timestamp"] + 1
    assert await call(in_step(sim, binance).fetch_funding_history, BINANCE_BTC, since) == []
    assert await call(in_step(sim, binance).fetch_funding_history, "ETH/USDT:USDT") == []


async def test_hyperliquid_funding_every_hour_through_ccxt(
    sim: SimClient, account: SimAccount, hyperliquid: Any
) -> None:
    hyperliquid.options["builderFee"] = False
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(hyperliquid.load_markets)
    await call(hyperliquid.create_order, HL_BTC, "market", "sell", 0.02, 50000)
    before = await wallet(sim, account, "hyperliquid")
    start = sim.simulator.now()
    advance(sim, 2 * HOUR_MS)
    history = await call(hyperliquid.fetch_funding_history, HL_BTC, start)
    assert len(history) == 2
    change = await wallet(sim, account, "hyperliquid") - before
    assert change == sum(D(h["info"]["delta"]["usdc"]) for h in history) > 0  # a short receives
    assert [h["info"]["delta"]["szi"] for h in history] == ["-0.02", "-0.02"]
    assert all(h["symbol"] == HL_BTC and h["code"] == "USDC" for h in history)
    assert all(h["timestamp"] % HOUR_MS == 0 for h in history)


async def test_control_api_sets_rates_and_pays_on_demand(
    sim: SimClient, account: SimAccount, hyperliquid: Any
) -> None:
    hyperliquid.options["builderFee"] = False
    await call(hyperliquid.load_markets)
    await call(hyperliquid.create_order, HL_BTC, "market", "buy", 0.02, 55000)
    shown = await sim.set_funding_rate("hyperliquid", "BTC_USDT", "-0.0002")
    assert shown["hyperliquid"]["rates"]["BTC_USDT"] == "-0.0002"
    assert shown["hyperliquid"]["interval_ms"] == HOUR_MS
    assert shown["binance"]["interval_ms"] == 8 * HOUR_MS
    assert shown["binance"]["rates"]["BTC_USDT"] == "0.0001"
    [payment] = await sim.pay_funding("hyperliquid")
    assert (payment["account_id"], payment["rate"], payment["size"]) == (
        account.account_id,
        "-0.0002",
        "0.02",
    )
    assert D(payment["amount"]) > 0  # a long receives a negative rate
    assert await sim.pay_funding("binanceusdm") == []  # nothing open there
    base = sim.base_url + "/_sim/funding"
    async with httpx.AsyncClient() as http:
        for body in (
            {"exchange": "nope"},
            {"exchange": "hyperliquid", "symbol": "DOGE_USDT", "rate": "0.1"},
            {"exchange": "hyperliquid", "symbol": "BTC_USDT", "rate": "x"},
            {"exchange": "hyperliquid", "scheduled": "yes"},
        ):
            assert (await http.post(base, json=body)).status_code == 400, body
        unscheduled = await http.post(base, json={"exchange": "hyperliquid", "scheduled": False})
        assert unscheduled.json()["hyperliquid"]["scheduled"] is False
