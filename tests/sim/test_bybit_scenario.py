"""A whole Bybit trade through ccxt: entry, stop, two take-profits, the first target, the stop
moved to break-even, the stop-out; the wallet checked to the cent."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from testudo.sim.client import SimAccount, SimClient

from .support import call

SYMBOL = "BTC/USDT:USDT"
TAKER = D("0.00055")


def protective(side: str, trigger: float, link: str) -> dict[str, Any]:
    """A reduce-only conditional market order that closes ``side``'s position."""
    falling = side == "long"
    return {
        "triggerPrice": trigger,
        "triggerDirection": "descending" if falling else "ascending",
        "reduceOnly": True,
        "clientOrderId": link,
    }


def target(trigger: float, link: str) -> dict[str, Any]:
    """A reduce-only take-profit (ccxt derives ``triggerDirection``)."""
    return {"takeProfitPrice": trigger, "clientOrderId": link}


def realised(side: str, entry: D, tp1_fill: D, stop_fill: D) -> tuple[D, D]:
    """Realised P&L and taker fees of the trade: 0.3 in, 0.15 out at each exit."""
    direction = 1 if side == "long" else -1
    half = D("0.15")
    pnl = ((tp1_fill - entry) * half + (stop_fill - entry) * half) * direction
    fees = (entry * D("0.3") + tp1_fill * half + stop_fill * half) * TAKER
    return pnl, fees


@pytest.mark.parametrize(
    ("side", "entry", "tp1", "tp2", "stop", "tp1_fill", "stop_fill", "move", "out"),
    [
        ("long", "50000.1", "51000", "53000", "49000", "51199.9", "49799.9", "51200", "49800"),
        ("short", "49999.9", "49000", "47000", "51000", "48800.1", "50200.1", "48800", "50200"),
    ],
)
async def test_stop_two_targets_break_even_stop_out(
    sim: SimClient,
    account: SimAccount,
    side: str,
    entry: str,
    tp1: str,
    tp2: str,
    stop: str,
    tp1_fill: str,
    stop_fill: str,
    move: str,
    out: str,
) -> None:
    bybit = sim.bybit(account)
    opening, closing = ("buy", "sell") if side == "long" else ("sell", "buy")
    await sim.set_price("BTC_USDT", "50000", freeze=True)
    await call(bybit.set_leverage, 5, SYMBOL)
    placed = await call(
        bybit.create_order, SYMBOL, "market", opening, 0.3, None, {"clientOrderId": "e1"}
    )
    filled = await call(bybit.fetch_closed_order, placed["id"], SYMBOL)
    assert (filled["average"], filled["filled"]) == (float(entry), 0.3)
    stop_order = await call(
        bybit.create_order,
        SYMBOL,
        "market",
        closing,
        0.3,
        None,
        protective(side, float(stop), "s1"),
    )
    first = await call(
        bybit.create_order, SYMBOL, "market", closing, 0.15, None, target(float(tp1), "t1")
    )
    second = await call(
        bybit.create_order, SYMBOL, "market", closing, 0.15, None, target(float(tp2), "t2")
    )
    pending = await call(bybit.fetch_open_orders, SYMBOL, None, None, {"trigger": True})
    assert {o["clientOrderId"] for o in pending} == {"s1", "t1", "t2"}

    await sim.set_price("BTC_USDT", move)
    (position,) = await call(bybit.fetch_positions)
    assert (position["side"], position["contracts"], position["entryPrice"]) == (
        side,
        0.15,
        float(entry),
    )
    assert (await call(bybit.fetch_closed_order, first["id"], SYMBOL))["average"] == float(tp1_fill)

    await call(bybit.cancel_order, stop_order["id"], SYMBOL)
    moved = await call(
        bybit.create_order,
        SYMBOL,
        "market",
        closing,
        0.15,
        None,
        protective(side, float(entry) - 0.1 if side == "long" else float(entry) + 0.1, "s2"),
    )
    await sim.set_price("BTC_USDT", out)
    assert await call(bybit.fetch_positions) == []
    stopped = await call(bybit.fetch_closed_order, moved["id"], SYMBOL)
    assert (stopped["filled"], stopped["average"]) == (0.15, float(stop_fill))
    (left,) = await call(bybit.fetch_open_orders, SYMBOL)
    assert (left["id"], left["info"]["orderStatus"]) == (second["id"], "Untriggered")
    await call(bybit.cancel_order, second["id"], SYMBOL)

    pnl, fees = realised(side, D(entry), D(tp1_fill), D(stop_fill))
    trades = await call(bybit.fetch_my_trades, SYMBOL)
    assert [t["info"]["orderLinkId"] for t in trades] == ["e1", "t1", "s2"]
    assert sum(D(t["info"]["execFee"]) for t in trades) == fees
    wallet = (await call(bybit.fetch_balance))["info"]["result"]["list"][0]
    assert D(wallet["totalWalletBalance"]) == D("10000") + pnl - fees
    assert D(wallet["coin"][0]["cumRealisedPnl"]) == pnl - fees
    assert D(wallet["totalEquity"]) == D(wallet["totalWalletBalance"])
    expected = {"long": D("10133.35750"), "short": D("10133.52250")}[side]
    assert (D("10000") + pnl - fees).quantize(D("0.00001")) == expected
