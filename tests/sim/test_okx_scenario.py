"""A whole OKX trade through the real ``ccxt.okx``: long entry, market stop, two take-profits,
the first take-profit fills, the stop moves to break-even, the stop-out. Checked to the cent,
in contracts and in base units."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from testudo.sim.client import SimAccount, SimClient

from .support import call

BTC = "BTC/USDT:USDT"
CONDITIONAL = {"ordType": "conditional"}


def _exit(price_key: str, price: float, client_id: str) -> dict[str, Any]:
    return {price_key: price, "reduceOnly": True, "clientOrderId": client_id}


async def test_okx_long_with_stop_two_take_profits_and_a_moved_stop(
    sim: SimClient, okx: Any, account: SimAccount
) -> None:
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(okx.load_markets)
    await call(okx.set_leverage, 10, BTC)
    entry = await call(okx.create_order, BTC, "market", "buy", 30, None, {"clientOrderId": "e1"})
    stop = await call(
        okx.create_order, BTC, "market", "sell", 30, None, _exit("stopLossPrice", 49000, "s1")
    )
    tp1 = await call(
        okx.create_order, BTC, "market", "sell", 15, None, _exit("takeProfitPrice", 51000, "t1")
    )
    tp2 = await call(
        okx.create_order, BTC, "market", "sell", 15, None, _exit("takeProfitPrice", 53000, "t2")
    )
    assert (await call(okx.fetch_order, entry["id"], BTC))["average"] == 50000.1

    await sim.set_price("BTC_USDT", "51200")
    (position,) = await call(okx.fetch_positions)
    assert (position["contracts"], position["entryPrice"]) == (15.0, 50000.1)
    state = (await sim.state(account))["venues"]["okx"]
    assert state["positions"][0]["size"] == "0.15"
    assert (await call(okx.fetch_order, tp1["id"], BTC, {"trigger": True}))["status"] == "closed"

    await call(okx.cancel_order, stop["id"], BTC, {"trigger": True})
    moved = await call(
        okx.create_order, BTC, "market", "sell", 15, None, _exit("stopLossPrice", 50000.1, "s2")
    )
    pending = await call(okx.fetch_open_orders, BTC, None, None, CONDITIONAL)
    assert {o["clientOrderId"] for o in pending} == {"s2", "t2"}

    await sim.set_price("BTC_USDT", "49900")
    assert await call(okx.fetch_positions) == []
    stopped = await call(okx.fetch_order, moved["id"], BTC, {"trigger": True})
    executed = await call(okx.fetch_order, stopped["info"]["ordId"], BTC)
    assert (executed["filled"], executed["average"]) == (15.0, 49899.9)
    (left,) = await call(okx.fetch_open_orders, BTC, None, None, CONDITIONAL)
    assert left["id"] == tp2["id"]  # OKX leaves a reduce-only TP of a closed position live
    await call(okx.cancel_order, tp2["id"], BTC, {"trigger": True})

    trades = await call(okx.fetch_my_trades, BTC)
    rows = [
        (
            D(t["info"]["fillPx"]),
            D(t["info"]["fillSz"]),
            D(t["info"]["fillPnl"]),
            D(t["info"]["fee"]),
        )
        for t in trades
    ]
    assert rows == [
        (D("50000.1"), D("30"), D("0"), D("-7.500015")),
        (D("51199.9"), D("15"), D("179.97"), D("-3.8399925")),
        (D("49899.9"), D("15"), D("-15.03"), D("-3.7424925")),
    ]
    assert [t["order"] for t in trades[1:]] == [
        (await call(okx.fetch_order, tp1["id"], BTC, {"trigger": True}))["info"]["ordId"],
        stopped["info"]["ordId"],
    ]
    balance = await call(okx.fetch_balance)
    usdt = balance["info"]["data"][0]["details"][0]
    assert D(usdt["cashBal"]) == D(usdt["eq"]) == D("10149.8575")
    assert D(usdt["cashBal"]) == D("10000") + sum(r[2] for r in rows) + sum(r[3] for r in rows)
    assert (await sim.state(account))["venues"]["okx"]["balance"]["wallet"] == "10149.8575"
