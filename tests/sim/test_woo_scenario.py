"""A whole WOO X trade through ccxt.woo: entry, stop, two take-profits, TP1 fills, the stop moves
to break-even, the stop-out; every fill, fee and the balance checked to the cent."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from testudo.sim.client import SimAccount, SimClient

from .support import call

SYMBOL = "BTC/USDT:USDT"
LONG = {
    "side": ("buy", "sell"),
    "stop": 49000,
    "targets": (51000, 53000),
    "through_tp1": "51200",
    "stop_out": "49800",
    "fills": [
        ("BUY", D("50000.1"), D("0.3"), D("0"), D("7.500015")),
        ("SELL", D("51199.9"), D("0.15"), D("179.97"), D("3.8399925")),
        ("SELL", D("49799.9"), D("0.15"), D("-30.03"), D("3.7349925")),
    ],
    "wallet": D("10134.865"),
}
SHORT = {
    "side": ("sell", "buy"),
    "stop": 51000,
    "targets": (49000, 47000),
    "through_tp1": "48800",
    "stop_out": "50200",
    "fills": [
        ("SELL", D("49999.9"), D("0.3"), D("0"), D("7.499985")),
        ("BUY", D("48800.1"), D("0.15"), D("179.97"), D("3.6600075")),
        ("BUY", D("50200.1"), D("0.15"), D("-30.03"), D("3.7650075")),
    ],
    "wallet": D("10135.015"),
}


async def _protect(woo: Any, side: str, size: float, trigger: float, client_id: int) -> Any:
    """A reduce-only market trigger on the algo endpoint (the only way ccxt.woo sends one)."""
    params = {"triggerPrice": trigger, "reduceOnly": True, "clientOrderId": str(client_id)}
    return await call(woo.create_order, SYMBOL, "market", side, size, None, params)


@pytest.mark.parametrize("plan", [LONG, SHORT], ids=["long", "short"])
async def test_ladder_break_even_and_stop_out(
    woo: Any, sim: SimClient, account: SimAccount, plan: dict[str, Any]
) -> None:
    entry_side, exit_side = plan["side"]
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(woo.set_leverage, 10, SYMBOL)
    await call(woo.create_order, SYMBOL, "market", entry_side, 0.3, None, {"clientOrderId": "1"})
    stop = await _protect(woo, exit_side, 0.3, plan["stop"], 2)
    tp1 = await _protect(woo, exit_side, 0.15, plan["targets"][0], 3)
    tp2 = await _protect(woo, exit_side, 0.15, plan["targets"][1], 4)
    assert stop["info"]["algoType"] == "STOP_LOSS"
    assert tp1["info"]["algoType"] == tp2["info"]["algoType"] == "TAKE_PROFIT"

    await sim.set_price("BTC_USDT", plan["through_tp1"])
    (position,) = await call(woo.fetch_positions)
    assert (position["contracts"], position["entryPrice"]) == (0.15, float(plan["fills"][0][1]))
    assert (await call(woo.fetch_order, "3", None, {"trigger": True, "clientOrderId": "3"}))[
        "status"
    ] == "closed"

    await call(woo.cancel_order, None, None, {"trigger": True, "clientOrderId": "2"})
    moved = await _protect(woo, exit_side, 0.15, 50000, 2)
    pending = await call(woo.fetch_open_orders, SYMBOL, None, None, {"trigger": True})
    assert {o["id"] for o in pending} == {moved["id"], tp2["id"]}

    await sim.set_price("BTC_USDT", plan["stop_out"])
    assert await call(woo.fetch_positions) == []
    stopped = await call(woo.fetch_order, moved["id"], None, {"trigger": True})
    assert (stopped["status"], stopped["filled"]) == ("closed", 0.15)
    assert stopped["average"] == float(plan["fills"][2][1])
    (left,) = await call(woo.fetch_open_orders, SYMBOL, None, None, {"trigger": True})
    assert left["id"] == tp2["id"]

    trades = sorted(await call(woo.fetch_my_trades, SYMBOL), key=lambda t: int(t["id"]))
    rows = [
        (
            t["info"]["side"],
            D(t["info"]["executedPrice"]),
            D(t["info"]["executedQuantity"]),
            D(t["info"]["realizedPnl"]),
            D(t["info"]["fee"]),
        )
        for t in trades
    ]
    assert rows == plan["fills"]
    holding = D((await call(woo.fetch_balance))["info"]["holding"][0]["holding"])
    assert holding == plan["wallet"]
    assert holding == D("10000") + sum(r[3] for r in rows) - sum(r[4] for r in rows)
    info = (await call(woo.v3PrivateGetAccountInfo))["data"]
    assert D(info["totalAccountValue"]) == plan["wallet"]
    state = await sim.state(account)
    assert D(state["venues"]["woo"]["balance"]["wallet"]) == plan["wallet"]
