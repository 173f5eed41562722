"""Partial fills of resting limit orders: ``Engine.fill_resting`` and ``POST /_sim/orders/fill``."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import httpx
import pytest

from testudo.sim.client import SimAccount, SimClient
from testudo.sim.engine import Engine
from testudo.sim.model import (
    OrderKind,
    OrderRequest,
    OrderStatus,
    Reason,
    Rejected,
    Side,
    TriggerKind,
    trigger_for,
)

from .support import call

BTC = "BTC_USDT"
BINANCE_BTC = "BTC/USDT:USDT"
HL_BTC = "BTC/USDC:USDC"
CLOID = "0x" + "cd" * 16


def resting_buy(engine: Engine, qty: str = "0.01", price: str = "49000") -> int:
    """Place a resting limit buy for account 1; return its id."""
    result = engine.place(1, OrderRequest(BTC, Side.BUY, OrderKind.LIMIT, D(qty), D(price)))
    assert not result.fills
    return result.order.id


# ---------------------------------------------------------------------- engine


def test_fill_resting_in_two_steps_keeps_the_books(binance_engine: Engine) -> None:
    order_id = resting_buy(binance_engine)
    fill = binance_engine.fill_resting(1, D("0.004"), order_id=order_id)
    order = binance_engine.order(1, order_id=order_id)
    assert (fill.price, fill.qty, fill.is_maker, fill.fee) == (
        D("49000"),
        D("0.004"),
        True,
        D("0.03920000"),
    )
    assert (order.status, order.filled_qty, order.remaining) == (
        OrderStatus.PARTIALLY_FILLED,
        D("0.004"),
        D("0.006"),
    )
    assert binance_engine.open_orders(1) == [order]
    position = binance_engine.position(1, BTC)
    assert (position.size, position.entry_price) == (D("0.004"), D("49000"))
    assert binance_engine.account(1).wallet_balance == D("10000") - D("0.0392")
    assert binance_engine.margin(1).order_margin == D("0.006") * D("49000") / 20
    binance_engine.fill_resting(1, D("0.006"), order_id=order_id)
    assert (order.status, order.filled_qty, order.average_price) == (
        OrderStatus.FILLED,
        D("0.01"),
        D("49000"),
    )
    assert binance_engine.open_orders(1) == []
    assert binance_engine.position(1, BTC).size == D("0.01")
    assert binance_engine.account(1).fees_paid == D("0.098")
    assert binance_engine.tape(BTC)[-1].qty == D("0.006")


def test_a_crossing_price_fills_only_what_remains(
    binance_engine: Engine, reprice: Callable[[str, str], None]
) -> None:
    order_id = resting_buy(binance_engine)
    binance_engine.fill_resting(1, D("0.003"), order_id=order_id)
    reprice(BTC, "48900")
    order = binance_engine.order(1, order_id=order_id)
    assert (order.status, order.filled_qty) == (OrderStatus.FILLED, D("0.01"))
    assert [f.qty for f in binance_engine.account(1).fills.all()] == [D("0.003"), D("0.007")]


def test_an_explicit_price_at_or_inside_the_limit(binance_engine: Engine) -> None:
    order_id = resting_buy(binance_engine)
    fill = binance_engine.fill_resting(1, D("0.002"), order_id=order_id, price=D("48950.5"))
    assert fill.price == D("48950.5")
    order = binance_engine.order(1, order_id=order_id)
    assert order.filled_notional == D("0.002") * D("48950.5")
    for bad in ("49000.1", "48950.55"):
        with pytest.raises(Rejected) as caught:
            binance_engine.fill_resting(1, D("0.002"), order_id=order_id, price=D(bad))
        assert caught.value.reason is Reason.INVALID_PRICE


def test_partial_fill_of_a_reduce_only_close_by_client_id(hl_engine: Engine) -> None:
    hl_engine.place(1, OrderRequest(BTC, Side.BUY, OrderKind.MARKET, D("0.02")))
    request = OrderRequest(
        BTC, Side.SELL, OrderKind.LIMIT, D("0.02"), D("51000"), reduce_only=True, client_id=CLOID
    )
    order = hl_engine.place(1, request).order
    fill = hl_engine.fill_resting(1, D("0.01"), client_id=CLOID)
    assert fill.realized_pnl == (D("51000") - D("50001")) * D("0.01")
    assert (order.status, order.remaining) == (OrderStatus.PARTIALLY_FILLED, D("0.01"))
    assert hl_engine.position(1, BTC).size == D("0.01")


@pytest.mark.parametrize(
    ("qty", "reason"),
    [
        ("0", Reason.INVALID_QTY),
        ("-0.001", Reason.INVALID_QTY),
        ("0.0005", Reason.QTY_STEP),
        ("0.011", Reason.QTY_TOO_LARGE),
    ],
)
def test_fill_resting_refuses_bad_quantities(
    binance_engine: Engine, qty: str, reason: Reason
) -> None:
    order_id = resting_buy(binance_engine)
    with pytest.raises(Rejected) as caught:
        binance_engine.fill_resting(1, D(qty), order_id=order_id)
    assert caught.value.reason is reason
    assert binance_engine.order(1, order_id=order_id).filled_qty == 0


def test_fill_resting_refuses_orders_that_are_not_resting(binance_engine: Engine) -> None:
    with pytest.raises(Rejected) as caught:
        binance_engine.fill_resting(1, D("0.001"), order_id=424242)
    assert caught.value.reason is Reason.UNKNOWN_ORDER
    canceled = resting_buy(binance_engine)
    binance_engine.cancel(1, order_id=canceled)
    binance_engine.place(1, OrderRequest(BTC, Side.BUY, OrderKind.MARKET, D("0.01")))
    trigger = trigger_for(TriggerKind.STOP, Side.SELL, D("45000"))
    stop_request = OrderRequest(
        BTC, Side.SELL, OrderKind.LIMIT, D("0.01"), D("44900"), reduce_only=True, trigger=trigger
    )
    stop = binance_engine.place(1, stop_request).order.id
    for order_id in (canceled, stop):
        with pytest.raises(Rejected) as caught:
            binance_engine.fill_resting(1, D("0.001"), order_id=order_id)
        assert caught.value.reason is Reason.NOT_RESTING


# ---------------------------------------------------------------------- ccxt, Binance


async def test_binance_partial_entry_fill_seen_through_ccxt(
    sim: SimClient, account: SimAccount, binance: Any
) -> None:
    order = await call(binance.create_order, BINANCE_BTC, "limit", "buy", 0.01, 49000)
    state = await sim.fill_order(account, "binanceusdm", order_id=order["id"], quantity="0.004")
    assert (state["status"], state["filled"], state["remaining"]) == (
        "PARTIALLY_FILLED",
        "0.004",
        "0.006",
    )
    assert state["fill"]["maker"] is True
    fetched = await call(binance.fetch_order, order["id"], BINANCE_BTC)
    assert (fetched["status"], fetched["filled"], fetched["remaining"], fetched["average"]) == (
        "open",
        0.004,
        0.006,
        49000.0,
    )
    assert fetched["info"]["status"] == "PARTIALLY_FILLED"
    (listed,) = await call(binance.fetch_open_orders, BINANCE_BTC)
    assert (listed["id"], listed["filled"]) == (order["id"], 0.004)
    (position,) = await call(binance.fetch_positions)
    assert (position["side"], position["contracts"], position["entryPrice"]) == (
        "long",
        0.004,
        49000.0,
    )
    (trade,) = await call(binance.fetch_my_trades, BINANCE_BTC)
    assert (trade["order"], trade["amount"], trade["price"], trade["takerOrMaker"]) == (
        order["id"],
        0.004,
        49000.0,
        "maker",
    )
    assert D(str(trade["fee"]["cost"])) == D("49000") * D("0.004") * D("0.0002")
    await sim.fill_order(
        account, "binanceusdm", client_order_id=order["clientOrderId"], quantity="0.006"
    )
    done = await call(binance.fetch_order, order["id"], BINANCE_BTC)
    assert (done["status"], done["filled"], done["remaining"]) == ("closed", 0.01, 0.0)
    assert await call(binance.fetch_open_orders, BINANCE_BTC) == []
    (position,) = await call(binance.fetch_positions)
    assert position["contracts"] == 0.01
    fees = D("49000") * D("0.01") * D("0.0002")
    state = await sim.state(account)
    assert D(state["venues"]["binance"]["balance"]["wallet"]) == D("10000") - fees
    unrealized = (D("50000") - D("49000")) * D("0.01")
    balance = await call(binance.fetch_balance)
    assert D(str(balance["USDT"]["total"])) == D("10000") - fees + unrealized


# ---------------------------------------------------------------------- ccxt, Hyperliquid


async def test_hyperliquid_partial_entry_fill_seen_through_ccxt(
    sim: SimClient, account: SimAccount, hyperliquid: Any
) -> None:
    hyperliquid.options["builderFee"] = False
    await call(hyperliquid.load_markets)
    order = await call(
        hyperliquid.create_order, HL_BTC, "limit", "buy", 0.01, 49000, {"clientOrderId": CLOID}
    )
    state = await sim.fill_order(account, "hyperliquid", client_order_id=CLOID, quantity="0.004")
    assert (state["venue"], state["status"], state["remaining"]) == (
        "hyperliquid",
        "PARTIALLY_FILLED",
        "0.006",
    )
    fetched = await call(hyperliquid.fetch_order, order["id"], HL_BTC)
    assert (fetched["status"], fetched["filled"], fetched["remaining"]) == ("open", 0.004, 0.006)
    (listed,) = await call(hyperliquid.fetch_open_orders, HL_BTC)
    assert (listed["id"], listed["info"]["sz"], listed["info"]["origSz"]) == (
        order["id"],
        "0.006",
        "0.01",
    )
    (position,) = await call(hyperliquid.fetch_positions)
    assert (position["side"], position["contracts"], position["entryPrice"]) == (
        "long",
        0.004,
        49000.0,
    )
    (trade,) = await call(hyperliquid.fetch_my_trades, HL_BTC)
    assert (trade["order"], trade["amount"], trade["takerOrMaker"]) == (order["id"], 0.004, "maker")
    assert (trade["info"]["cloid"], trade["info"]["dir"]) == (CLOID, "Open Long")
    assert D(trade["info"]["fee"]) == D("49000") * D("0.004") * D("0.00015")
    by_time = await call(hyperliquid.fetch_my_trades, HL_BTC, trade["timestamp"])
    assert [t["id"] for t in by_time] == [trade["id"]]
    await sim.fill_order(account, "hyperliquid", order_id=order["id"], quantity="0.006")
    done = await call(hyperliquid.fetch_order, order["id"], HL_BTC)
    assert (done["status"], done["filled"]) == ("closed", 0.01)
    assert await call(hyperliquid.fetch_open_orders, HL_BTC) == []


# ---------------------------------------------------------------------- control API errors


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"quantity": "0.02"}, 400, "qty_too_large"),
        ({"quantity": "0"}, 400, "invalid_qty"),
        ({"quantity": "0.0005"}, 400, "qty_step"),
        ({"quantity": "lots"}, 400, "not a number"),
        ({"quantity": None}, 400, "quantity is required"),
        ({"price": "49000.1"}, 400, "beyond the limit"),
        ({"price": "1e999999"}, 400, "out of range"),
        ({"quantity": "1e999999"}, 400, "qty_too_large"),
        ({"order_id": 424242}, 404, "unknown_order"),
        ({"order_id": None, "client_order_id": "nobody"}, 404, "unknown_order"),
        ({"order_id": None}, 400, "exactly one of"),
        ({"client_order_id": "both"}, 400, "exactly one of"),
        ({"order_id": [1]}, 400, "order_id must be"),
        ({"exchange": "kraken"}, 400, "exchange must be"),
        ({"account_id": 999}, 404, "no such account"),
    ],
)
async def test_fill_endpoint_refuses_bad_requests(
    sim: SimClient,
    account: SimAccount,
    binance: Any,
    change: dict[str, Any],
    status: int,
    message: str,
) -> None:
    order = await call(binance.create_order, BINANCE_BTC, "limit", "buy", 0.01, 49000)
    body = {
        "account_id": account.account_id,
        "exchange": "binanceusdm",
        "order_id": order["id"],
        "quantity": "0.004",
        **change,
    }
    response = await sim.http.post(
        "/_sim/orders/fill", json={k: v for k, v in body.items() if v is not None}
    )
    assert response.status_code == status
    assert message in response.json()["error"]
    assert (await call(binance.fetch_order, order["id"], BINANCE_BTC))["filled"] == 0.0


async def test_fill_order_of_a_finished_order_is_refused(
    sim: SimClient, account: SimAccount, binance: Any
) -> None:
    order = await call(binance.create_order, BINANCE_BTC, "limit", "buy", 0.01, 49000)
    await call(binance.cancel_order, order["id"], BINANCE_BTC)
    with pytest.raises(httpx.HTTPStatusError) as caught:
        await sim.fill_order(account, "binanceusdm", order_id=order["id"], quantity="0.001")
    assert caught.value.response.status_code == 400
    assert "not_resting" in caught.value.response.json()["error"]
    with pytest.raises(httpx.HTTPStatusError) as caught:
        await sim.fill_order(account, "hyperliquid", order_id=order["id"], quantity="0.001")
    assert caught.value.response.status_code == 404
