"""A whole trade: long with a stop and two take-profits, through TP1, then through the stop."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from testudo.sim.client import SimAccount, SimClient

from .support import call


async def test_binance_long_with_stop_and_two_take_profits(
    sim: SimClient, binance: Any, account: SimAccount
) -> None:
    symbol = "BTC/USDT:USDT"
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(binance.load_markets)
    await call(binance.set_leverage, 10, symbol)
    entry = await call(binance.create_order, symbol, "market", "buy", 0.3)
    stop = await call(
        binance.create_order,
        symbol,
        "market",
        "sell",
        0.3,
        None,
        {"stopPrice": 49000, "reduceOnly": True},
    )
    tp1 = await call(
        binance.create_order,
        symbol,
        "market",
        "sell",
        0.15,
        None,
        {"takeProfitPrice": 51000, "reduceOnly": True},
    )
    tp2 = await call(
        binance.create_order,
        symbol,
        "market",
        "sell",
        0.15,
        None,
        {"takeProfitPrice": 53000, "reduceOnly": True},
    )
    assert entry["average"] == 50000.1

    await sim.set_price("BTC_USDT", "51200")
    (position,) = await call(binance.fetch_positions)
    assert (position["contracts"], position["entryPrice"]) == (0.15, 50000.1)
    assert (await call(binance.fetch_order, tp1["id"], symbol, {"trigger": True}))["status"] == (
        "closed"
    )

    await sim.set_price("BTC_USDT", "48800")
    assert await call(binance.fetch_positions) == []
    pending = await call(binance.fetch_open_orders, symbol, None, None, {"trigger": True})
    assert [o["id"] for o in pending] == [tp2["id"]]
    stopped = await call(binance.fetch_order, stop["id"], symbol)
    assert (stopped["status"], stopped["filled"], stopped["average"]) == ("closed", 0.15, 48799.9)

    trades = await call(binance.fetch_my_trades, symbol)
    rows = [
        (
            D(t["info"]["price"]),
            D(t["info"]["qty"]),
            D(t["info"]["realizedPnl"]),
            D(t["info"]["commission"]),
        )
        for t in trades
    ]
    assert rows == [
        (D("50000.10"), D("0.300"), D("0"), D("7.50001500")),
        (D("51199.90"), D("0.150"), D("179.97000000"), D("3.83999250")),
        (D("48799.90"), D("0.150"), D("-180.03000000"), D("3.65999250")),
    ]
    balance = await call(binance.fetch_balance)
    wallet = D(balance["info"]["assets"][0]["walletBalance"])
    assert wallet == D("9984.94")
    assert wallet == D("10000") + sum(r[2] for r in rows) - sum(r[3] for r in rows)
    assert D(str(balance["USDT"]["free"])) == D("9984.94")
    state = await sim.state(account)
    assert state["venues"]["binance"]["balance"]["wallet"] == "9984.94"


async def test_hyperliquid_long_with_stop_and_two_take_profits(
    sim: SimClient, hyperliquid: Any, account: SimAccount
) -> None:
    symbol = "BTC/USDC:USDC"
    hyperliquid.options["builderFee"] = False
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(hyperliquid.load_markets)
    await call(hyperliquid.set_leverage, 10, symbol)
    await call(hyperliquid.create_order, symbol, "market", "buy", 0.3, 50000)
    for size, params in (
        (0.3, {"stopLossPrice": 49000}),
        (0.15, {"takeProfitPrice": 51000}),
        (0.15, {"takeProfitPrice": 53000}),
    ):
        trigger = next(iter(params.values()))
        await call(
            hyperliquid.create_order,
            symbol,
            "market",
            "sell",
            size,
            trigger,
            {**params, "reduceOnly": True},
        )
    await sim.set_price("BTC_USDT", "51200")
    (position,) = await call(hyperliquid.fetch_positions)
    assert position["contracts"] == 0.15
    await sim.set_price("BTC_USDT", "48800")
    assert await call(hyperliquid.fetch_positions) == []

    fills = sorted(await call(hyperliquid.fetch_my_trades, symbol), key=lambda t: int(t["id"]))
    rows = [
        (
            t["info"]["dir"],
            D(t["info"]["px"]),
            D(t["info"]["sz"]),
            D(t["info"]["closedPnl"]),
            D(t["info"]["fee"]),
        )
        for t in fills
    ]
    assert rows == [
        ("Open Long", D("50001"), D("0.3"), D("0"), D("6.750135")),
        ("Close Long", D("51199"), D("0.15"), D("179.7"), D("3.455932")),
        ("Close Long", D("48799"), D("0.15"), D("-180.3"), D("3.293932")),
    ]
    balance = await call(hyperliquid.fetch_balance)
    value = D(balance["info"]["marginSummary"]["accountValue"])
    assert value == D("10000") + D("179.7") - D("180.3") - sum(r[4] for r in rows)
    assert value == D("9985.900001")
